// Direct stride-1 convolution kernels. With stride 1, output pixel (oh, ow) and tap (c, kh, kw) read
// the padded image at koff[c,kh,kw] + q with q = oh*Wp + ow (FlatGeometry). Over this padded-width
// index q the convolution is a 1-D correlation with contiguous, unaligned vector loads: no im2col, no
// gathers, no packing. The columns ow >= OW of each row are computed and thrown away (LeNet's conv1:
// 12%, conv2: 27%), far cheaper than a GEMM whose 12-row micro-tile sees only 6 or 16 output channels
// plus gather-packing per image. Exception: the forward of a float convolution with 16 output
// channels and a fused 2x2 max pool (LeNet's conv2) is vectorised over the output channels instead
// (pool_window_tile): no column is wasted there. A float forward with a fused 2x2 max pool over rows
// of at most 32 columns (LeNet's conv1) pools its tiles in registers (direct_pool_tile) instead of
// storing the output and pooling it in a second pass. And the input gradient of a convolution with a
// fused max pool is built from one patch per pooling window (patch_tile), when that is fewer FMAs:
// only the windows' arg-maxes carry a gradient. The batch is split by conv2d_chunks.hpp.
#include "conv2d_chunks.hpp"
#include "conv2d_geometry.hpp"
#include "conv2d_paths.hpp"

#include <ctgrad/expr/scratch.hpp>

#include <ctgrad/simd/inline.hpp>
#include <ctgrad/simd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace ctgrad::kernels::detail {
namespace {

// ---- Register budget ---------------------------------------------------------------------------
// Every tile below keeps a block of accumulators in vector registers for its whole inner loop, and
// per step loads one row of vectors and broadcasts one scalar. Without spills it needs
//     accumulators + vectors loaded per step + 1 broadcast <= vector registers
// (AVX-512: 32 zmm; SSE2/AVX2: 16). Each tile static_asserts its own count (tile_fits).
//  - Forward and input gradient (direct_tile, dx_tile): B channels or taps x V vectors of q; per step
//    V loads. V <= kMaxV, so B*V <= kAcc = registers - kMaxV - 1 (broadcast) - 1 (kept free for the
//    compiler's address and bias temporaries): AVX-512 24 (e.g. 6 x 4, 8 x 3, 4 x 6), 16 registers 10.
//  - Weight gradient over q (dw_tile): OCB x KB accumulators, OCB dy vectors + 1 image vector per step.
//  - Weight gradient over channels (dwt_tile): KB taps x OV vectors, OV dy vectors + 1 broadcast.
template <class T>
struct Budget {
    using batch = xsimd::batch<T>;
    static constexpr std::size_t W = batch::size;
#if XSIMD_WITH_AVX512F
    static constexpr std::size_t kRegs = 32, kMaxB = 8, kMaxV = 6;
#else
    static constexpr std::size_t kRegs = 16, kMaxB = 4, kMaxV = 4;
#endif
    static constexpr std::size_t kAcc = kRegs - kMaxV - 2;
};
template <class T>
constexpr bool tile_fits(std::size_t accumulators, std::size_t loads) {
    return accumulators + loads + 1 <= Budget<T>::kRegs;
}

// A tile kind's instances as a table indexed [B-1][V-1] (B: channels or taps per tile, V: vectors
// per row). make.template operator()<B, V>() names tile B x V; only tiles within the accumulator
// budget are instantiated (the others are nullptr and never picked).
template <class T, class Fn, std::size_t B, std::size_t V, class Make>
constexpr Fn tile_entry(Make make) {
    if constexpr (B * V <= Budget<T>::kAcc)
        return make.template operator()<B, V>();
    else
        return nullptr;
}
template <class T, class Fn, std::size_t B, class Make, std::size_t... V>
constexpr std::array<Fn, sizeof...(V)> tile_row(Make make, std::index_sequence<V...>) {
    return {tile_entry<T, Fn, B, V + 1>(make)...};
}
template <class T, class Fn, class Make>
constexpr auto tile_table(Make make) {
    return [make]<std::size_t... B>(std::index_sequence<B...>) {
        return std::array<std::array<Fn, Budget<T>::kMaxV>, sizeof...(B)>{
            tile_row<T, Fn, B + 1>(make, std::make_index_sequence<Budget<T>::kMaxV>{})...};
    }(std::make_index_sequence<Budget<T>::kMaxB>{});
}

// Tile shaping, shared by the forward and input-gradient kernels: with b channels (or taps) per tile
// and nv vectors per padded row, how many vectors each tile covers: as many as the budget allows,
// spread evenly over the row (so no tile is left with a sliver).
template <class T>
std::size_t vectors_per_tile(std::size_t b, std::size_t nv) {
    const std::size_t vmax = std::min(Budget<T>::kMaxV, Budget<T>::kAcc / b);
    const std::size_t groups = (nv + vmax - 1) / vmax;
    return (nv + groups - 1) / groups;
}
// Calls tile(b, v0, vb) over a block of b rows for the vector ranges [v0, v0 + vb) covering nv.
template <class T, class Tile>
void sweep_row(std::size_t b, std::size_t nv, Tile tile) {
    const std::size_t vper = vectors_per_tile<T>(b, nv);
    for (std::size_t v = 0; v < nv; v += vper) tile(v, std::min(vper, nv - v));
}

// ---- Forward -----------------------------------------------------------------------------------
// acc[o][v] = bias[o] (0 without bias) + sum_k w[o][k] * (the vector at xp + koff[k] + at(v)): bias
// first, then the taps in order, one FMA each. Every padded-width forward tile sums this way, so
// that the plain and the pooled tiles round alike.
template <class T, std::size_t OCB, std::size_t V, class At>
CTGRAD_INLINE void forward_sums(xsimd::batch<T> (&acc)[OCB][V], const T* __restrict xp,
                                const std::uint32_t* __restrict koff, std::size_t K, const T* __restrict w,
                                const T* __restrict bias, At at) {
    using batch = xsimd::batch<T>;
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[o][v] = batch(bias ? bias[o] : T(0));
    for (std::size_t k = 0; k < K; ++k) {
        const T* xk = xp + koff[k];
        batch xv[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) xv[v] = batch::load_unaligned(xk + at(v));
#pragma GCC unroll 8
        for (std::size_t o = 0; o < OCB; ++o) {
            const batch wv(w[o * K + k]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) acc[o][v] = xsimd::fma(wv, xv[v], acc[o][v]);
        }
    }
}

// out[o][q..q+V*W) = (bias) + sum_k w[o][k] * xp[koff[k] + q + ...] for OCB output channels.
template <class T, std::size_t OCB, std::size_t V>
void direct_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, std::size_t K, const T* __restrict w,
                 const T* __restrict bias, T* __restrict out, std::size_t ldo) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    static_assert(tile_fits<T>(OCB * V, V), "direct_tile: OCB*V accumulators + V loads + 1 broadcast exceed the registers");
    batch acc[OCB][V];
    forward_sums<T, OCB, V>(acc, xp, koff, K, w, bias, [](std::size_t v) { return v * W; });
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[o][v].store_aligned(out + o * ldo + v * W);
}
template <class T>
using TileFn = void (*)(const T*, const std::uint32_t*, std::size_t, const T*, const T*, T*, std::size_t);
template <class T>
inline constexpr auto kTiles = tile_table<T, TileFn<T>>([]<std::size_t B, std::size_t V>() { return &direct_tile<T, B, V>; });

// Channels per tile, at most bmax (what the tile's registers hold): the largest block that divides OC
// evenly (LeNet: 6 -> 6, 16 -> 8), else the largest block with a remainder tile. Any OC works.
template <class T>
std::size_t pick_ocb(std::size_t OC, std::size_t bmax = Budget<T>::kMaxB) {
    bmax = std::min(bmax, Budget<T>::kMaxB);
    for (std::size_t b = std::min(OC, bmax); b >= 4; --b)
        if (OC % b == 0) return b;
    return std::min({OC, bmax, Budget<T>::kAcc / 4});
}

// ---- Input gradient ----------------------------------------------------------------------------
// For each tap k, dxpad[koff[k] + q] += sum_oc w[oc][k] * dyw[oc][q], where dyw is dy spread over
// the padded width with zeros in the columns ow >= OW. The sum over oc (the GEMM W^T dy) stays in
// registers and is added straight into the shifted padded image (col2im without the column matrix).
// Compared with the convolution of dy padded by k-1-p with the flipped kernel, it never multiplies
// that padding's zeros (LeNet conv2: 21600 instead of 38400 vector FMAs per image).
template <class T, std::size_t KB, std::size_t V>
void dx_tile(const T* __restrict dyw, std::size_t Qv, std::size_t OC, const T* __restrict w, std::size_t K,
             const std::uint32_t* __restrict koff, T* __restrict dxp) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    static_assert(tile_fits<T>(KB * V, V), "dx_tile: KB*V accumulators + V loads + 1 broadcast exceed the registers");
    batch acc[KB][V];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < KB; ++j)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) acc[j][v] = batch(T(0));
    for (std::size_t oc = 0; oc < OC; ++oc) {
        batch d[V];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) d[v] = batch::load_aligned(dyw + oc * Qv + v * W);
#pragma GCC unroll 8
        for (std::size_t j = 0; j < KB; ++j) {
            const batch wv(w[oc * K + j]);
#pragma GCC unroll 8
            for (std::size_t v = 0; v < V; ++v) acc[j][v] = xsimd::fma(wv, d[v], acc[j][v]);
        }
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < KB; ++j)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            T* p = dxp + koff[j] + v * W;
            (batch::load_unaligned(p) + acc[j][v]).store_unaligned(p);
        }
}
template <class T>
using DxFn = void (*)(const T*, std::size_t, std::size_t, const T*, std::size_t, const std::uint32_t*, T*);
template <class T>
inline constexpr auto kDxTiles = tile_table<T, DxFn<T>>([]<std::size_t B, std::size_t V>() { return &dx_tile<T, B, V>; });

// ---- Input gradient through a fused max pool ------------------------------------------------------
// With max pooling fused after the convolution, the convolution output's gradient is zero except at
// each window's arg-max (a quarter of the pixels for 2x2 windows), yet dx_tile multiplies every
// pixel, and the padded-width columns too. Here each pooling window instead makes its own patch of
// the padded dx: C planes of R x R (R = pool + kernel - 1, the inputs the window's pixels read),
//     patch = sum over oc with g[oc] != 0 of g[oc] * (w[oc] moved by the arg-max's offset (a, b)).
// Laid out on the R x R grid after `lead` = (pool-1)(R+1) zeros, w[oc] moved by (a, b) is the same
// array read a*R + b elements earlier: what slides in from the previous row or channel falls on the
// grid's columns and rows >= kernel, which are zero. So a window costs, per patch vector, one
// unaligned load and FMA per output channel with a gradient (LeNet's conv2: at most 16 x 14 = 224,
// at most 5 600 vector FMAs per image against dx_tile's 21 600). The patches of a row of windows are
// then added into dx row by row (add_pieces).
template <class T, std::size_t NB>
void patch_tile(const T* __restrict wr, const std::uint32_t* __restrict woff, const T* __restrict g, std::size_t live,
                T* __restrict patch) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    static_assert(tile_fits<T>(NB, 1), "patch_tile: NB accumulators + 1 load + 1 broadcast exceed the registers");
    batch acc[NB];
#pragma GCC unroll 24
    for (std::size_t v = 0; v < NB; ++v) acc[v] = batch(T(0));
    for (std::size_t i = 0; i < live; ++i) {
        const T* p = wr + woff[i];
        const batch gv(g[i]);
#pragma GCC unroll 24
        for (std::size_t v = 0; v < NB; ++v) acc[v] = xsimd::fma(gv, batch::load_unaligned(p + v * W), acc[v]);
    }
#pragma GCC unroll 24
    for (std::size_t v = 0; v < NB; ++v) acc[v].store_aligned(patch + v * W);
}
template <class T>
using PatchFn = void (*)(const T*, const std::uint32_t*, const T*, std::size_t, T*);
template <class T>
inline constexpr auto kPatchTiles = []<std::size_t... B>(std::index_sequence<B...>) {
    return std::array<PatchFn<T>, sizeof...(B)>{&patch_tile<T, B + 1>...};
}(std::make_index_sequence<Budget<T>::kAcc>{});

// The patch of a window, for a convolution of shape s with the max-pool epilogue ep: R x R per
// input channel, NV vectors of W; each w[oc] on its grid takes ldw elements, lead zeros first.
struct PoolPatch {
    std::size_t R, RR, NV, lead, ldw;
    PoolPatch(const Conv2dShape& s, const Conv2dEpilogue& ep, std::size_t W)
        : R(ep.pool + s.kernel - 1), RR(R * R), NV((s.in_channels * RR + W - 1) / W), lead((ep.pool - 1) * (R + 1)),
          ldw((lead + NV * W + W - 1) / W * W) {}
};

// The output channels with a gradient in one pooling window, for patch_tile: g[i] and where w[oc]
// moved by the window's arg-max starts in the shifted weights, woff[i] = oc*ldw + lead - (a*R + b)
// (i < live, channel order). The arg-max's offset in the window, a rows and b columns, is a*OW + b
// counted from the window's first pixel. With AVX-512 (float) 16 channels at a time (two gathers
// and two compresses) instead of a scalar loop that took half as long as the patches' FMAs.
struct WindowChannels {
    std::size_t OC, PP, ldw, pool;
    std::uint32_t OW, R, lead;
    template <class T>
    WindowChannels(const OutputGrad<T>& og, const PoolPatch& pp)
        : OC(og.OC), PP(og.PP), ldw(pp.ldw), pool(og.ep.pool), OW(std::uint32_t(og.OW)), R(std::uint32_t(pp.R)),
          lead(std::uint32_t(pp.lead)) {}
    // Length of the g and woff buffers: whole vectors are stored.
    std::size_t list_size() const { return OC + 16; }
    // d[oc * PP], am[oc * PP]: the window's gradient and arg-max in channel oc; am0: the arg-max index
    // of the window's top-left pixel. Returns live.
    template <class T>
    std::size_t list(const T* d, const std::uint32_t* am, std::uint32_t am0, T* __restrict g,
                     std::uint32_t* __restrict woff) const {
#if XSIMD_WITH_AVX512F
        if constexpr (std::is_same_v<T, float>) {
            const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            std::size_t live = 0;
            for (std::size_t oc0 = 0; oc0 < OC; oc0 += 16) {
                const __mmask16 m = lanes(OC - oc0);
                const __m512i oc = _mm512_add_epi32(_mm512_set1_epi32(int(oc0)), iota);
                const __m512i at = _mm512_mullo_epi32(oc, _mm512_set1_epi32(int(PP)));
                const __m512 gv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, at, d, 4);
                const __m512i a0 = _mm512_set1_epi32(int(am0));
                const __m512i rel = _mm512_sub_epi32(_mm512_mask_i32gather_epi32(a0, m, at, am, 4), a0);
                __m512i place = rel;  // a*OW + b -> a*R + b
                for (std::size_t t = 1; t < pool; ++t)
                    place = _mm512_mask_sub_epi32(place, _mm512_cmpge_epu32_mask(rel, _mm512_set1_epi32(int(t * OW))),
                                                  place, _mm512_set1_epi32(int(OW - R)));
                const __m512i wo = _mm512_sub_epi32(
                    _mm512_add_epi32(_mm512_mullo_epi32(oc, _mm512_set1_epi32(int(ldw))), _mm512_set1_epi32(int(lead))),
                    place);
                const __mmask16 keep = _mm512_mask_cmp_ps_mask(m, gv, _mm512_setzero_ps(), _CMP_NEQ_UQ);  // and NaN
                _mm512_storeu_ps(g + live, _mm512_maskz_compress_ps(keep, gv));
                _mm512_storeu_si512(woff + live, _mm512_maskz_compress_epi32(keep, wo));
                live += std::size_t(__builtin_popcount(keep));
            }
            return live;
        }
#endif
        std::size_t live = 0;
        for (std::size_t oc = 0; oc < OC; ++oc) {
            const T gv = d[oc * PP];
            const std::uint32_t rel = am[oc * PP] - am0;
            std::uint32_t place = rel;
            for (std::size_t t = 1; t < pool; ++t)
                if (rel >= t * OW) place -= OW - R;  // modulo 2^32: the sum is right
            g[live] = gv;
            woff[live] = std::uint32_t(oc * ldw) + lead - place;
            live += gv != T(0);  // true for a NaN, which is kept
        }
        return live;
    }
};

// Whether the patches beat dx_tile for this shape, counting FMAs plus row adds per image as if every
// window had a gradient, against dx_tile's FMAs over the padded width (overlapping windows, e.g. 3x3
// with stride 1, make many more patches).
template <class T>
bool pooled_input_pays(const Conv2dShape& s, const OutputGrad<T>& og) {
    if (!og.ep.pool || og.ep.avg_pool || !og.argmax) return false;
    constexpr std::size_t W = Budget<T>::W;
    const PoolPatch pp(s, og.ep, W);
    if (pp.R > 64 / sizeof(T)) return false;  // run_piece places runs of up to one vector
    const FlatGeometry g(s, W, 1);
    const std::size_t patches = og.PP * (og.OC * pp.NV + s.in_channels * pp.R);
    return patches < og.OC * g.K * (g.Qv / W);
}

template <class T>
void pooled_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx) {
    constexpr std::size_t W = Budget<T>::W;
    const Padded pd(s);
    const PoolPatch pp(s, og.ep, W);
    const std::size_t C = s.in_channels, OC = og.OC, k = s.kernel, K = C * k * k, in_sz = C * s.in_h * s.in_w;
    const std::size_t st = og.ep.pool_stride, PH = og.ep.out_h(og.OH), PW = og.ep.out_w(og.OW), PP = og.PP;
    // w[oc] on the patch grid, after lead zeros; zero-padded to whole vectors.
    Scratch<T> wsh(OC * pp.ldw);
    std::fill(wsh.data(), wsh.data() + OC * pp.ldw, T(0));
    for (std::size_t oc = 0; oc < OC; ++oc)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw)
                    wsh.data()[oc * pp.ldw + pp.lead + c * pp.RR + kh * pp.R + kw] = w[oc * K + (c * k + kh) * k + kw];
    const WindowChannels wc(og, pp);
    // The patch vectors in blocks of at most kAcc accumulators, spread evenly.
    const std::size_t blocks = (pp.NV + Budget<T>::kAcc - 1) / Budget<T>::kAcc, per = (pp.NV + blocks - 1) / blocks;
    // dx's padded planes have rows of whole aligned vectors (ldr). The patches of a row of windows
    // sit lp apart, each with a vector of margin on both sides for add_pieces' masked loads; pieces
    // [first[v], first[v+1]) say which parts of their rows land in vector v of a dx row.
    constexpr std::size_t V = 64 / sizeof(T);
    const std::size_t ldr = (pd.Wp + V - 1) / V * V, plane = pd.Hp * ldr, lp = pp.NV * W + 2 * V, nvr = ldr / V;
    Scratch<RunPiece> pieces(2 * PW);
    Scratch<std::size_t> first(nvr + 1);
    std::size_t np = 0;
    for (std::size_t v = 0; v < nvr; ++v) {
        first.data()[v] = np;
        for (std::size_t pw = 0; pw < PW; ++pw)
            if (const RunPiece pc = run_piece<T>(pw * st, pp.R, v); pc.mask)
                pieces.data()[np++] = {pc.mask, pc.skip + std::ptrdiff_t(pw * lp)};
    }
    first.data()[nvr] = np;
    struct Buffers {
        Scratch<T> dxpad, patches, g, gm;
        Scratch<std::uint32_t> woff;
    };
    for_each_image(
        s.batch,
        [&] {
            Buffers b{Scratch<T>(C * plane), Scratch<T>(PW * lp), Scratch<T>(wc.list_size()), Scratch<T>(OC * PP),
                      Scratch<std::uint32_t>(wc.list_size())};
            std::fill(b.patches.data(), b.patches.data() + b.patches.size(), T(0));
            return b;
        },
        [&](std::size_t n, Buffers& b) {
            const T* d = og.masked(n, b.gm.data());
            const std::uint32_t* am = og.argmax + n * OC * PP;
            std::fill(b.dxpad.data(), b.dxpad.data() + C * plane, T(0));
            for (std::size_t ph = 0; ph < PH; ++ph) {
                for (std::size_t pw = 0; pw < PW; ++pw) {
                    const std::size_t j = ph * PW + pw;
                    const std::size_t live =
                        wc.list(d + j, am + j, std::uint32_t(ph * st * og.OW + pw * st), b.g.data(), b.woff.data());
                    for (std::size_t v = 0; v < pp.NV; v += per)
                        kPatchTiles<T>[std::min(per, pp.NV - v) - 1](wsh.data() + v * W, b.woff.data(), b.g.data(),
                                                                     live, b.patches.data() + pw * lp + V + v * W);
                }
                T* rows = b.dxpad.data() + ph * st * ldr;
                for (std::size_t c = 0; c < C; ++c)
                    for (std::size_t v = 0; v < nvr; ++v)
                        add_pieces(rows + c * plane + v * V, ldr, b.patches.data() + V + c * pp.RR, pp.R, pp.R,
                                   pieces.data() + first.data()[v], first.data()[v + 1] - first.data()[v]);
            }
            copy_planes(dx + n * in_sz, s.in_h * s.in_w, s.in_w, b.dxpad.data() + s.padding * ldr + s.padding, plane,
                        ldr, C, s.in_h, s.in_w);
        });
}

// ---- Weight gradient, vectorised over q ----------------------------------------------------------
// dwv[o][j] (vectors of W lane partials) += sum_q dyw[o][q] * xp[koff[j] + q], OCB x KB at a time.
template <class T, std::size_t OCB, std::size_t KB>
void dw_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, const T* __restrict dyw, std::size_t Qv,
             T* __restrict dwv, std::size_t Kp) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    static_assert(tile_fits<T>(OCB * KB, OCB), "dw_tile: OCB*KB accumulators + OCB loads + 1 exceed the registers");
    batch acc[OCB][KB];
    const T* xk[KB];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < KB; ++j) xk[j] = xp + koff[j];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 8
        for (std::size_t j = 0; j < KB; ++j) acc[o][j] = batch::load_aligned(dwv + (o * Kp + j) * W);
    for (std::size_t q = 0; q < Qv; q += W) {
        batch d[OCB];
#pragma GCC unroll 8
        for (std::size_t o = 0; o < OCB; ++o) {
            d[o] = batch::load_aligned(dyw + o * Qv + q);
            keep_in_register(d[o]);  // loaded once per step, not once per FMA
        }
#pragma GCC unroll 8
        for (std::size_t j = 0; j < KB; ++j) {
            const batch xv = batch::load_unaligned(xk[j] + q);
#pragma GCC unroll 8
            for (std::size_t o = 0; o < OCB; ++o) acc[o][j] = xsimd::fma(d[o], xv, acc[o][j]);
        }
    }
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 8
        for (std::size_t j = 0; j < KB; ++j) acc[o][j].store_aligned(dwv + (o * Kp + j) * W);
}

template <std::size_t W, class T>
inline T lane_sum(const T* p) {
    T acc = T(0);
    for (std::size_t i = 0; i < W; ++i) acc += p[i];
    return acc;
}

// Each chunk keeps W lane partials per weight (loaded and stored once per image and tile, not reduced
// per image); lanes and chunks are summed in a fixed order at the end. Output channels are padded to
// a multiple of OCB and taps to a multiple of KB (the padding's results are dropped): any shape works.
template <class T, std::size_t OCB, std::size_t KB>
void dw_over_q(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    FlatGeometry g(s, W, KB);
    const std::size_t OC = s.out_channels, OCp = (OC + OCB - 1) / OCB * OCB;
    // The bias gradient is the weight gradient of a tap reading an image of ones. When K is not a
    // multiple of KB (LeNet's conv1: 25 taps in blocks of 4) the last block has spare taps, computed
    // anyway: the first of them reads Qv ones placed after the padded image and sums dy in the order
    // of the loop below (fma(dy, 1, acc) rounds as acc + dy), without a pass of its own. Only with
    // padding: every image is then copied into xpad, which holds the ones.
    const bool db_tap = db && g.Kp > g.K && s.padding > 0;
    const std::size_t xlen = g.xlen + (db_tap ? g.Qv : 0);
    if (db_tap) g.koff.data()[g.K] = std::uint32_t(g.xlen);
    struct Buffers {
        Scratch<T> xpad, dyw, dym;
    };
    reduce_over_images<T>(
        s.batch, (OCp * g.Kp + OCp) * W,  // weight lanes, then bias lanes
        [&] {
            Buffers b{Scratch<T>(xlen), Scratch<T>(OCp * g.Qv), Scratch<T>(og.buffer_size())};
            // Borders, tails and the columns ow >= OW of dyw stay zero: only valid pixels are written.
            std::fill(b.xpad.data(), b.xpad.data() + g.xlen, T(0));
            std::fill(b.xpad.data() + g.xlen, b.xpad.data() + xlen, T(1));
            std::fill(b.dyw.data(), b.dyw.data() + b.dyw.size(), T(0));
            return b;
        },
        [&](std::size_t n, Buffers& b, T* pdw) {
            T* pdb = pdw + OCp * g.Kp * W;
            const T* xp = padded_image(s, g, x, n, g.xlen, b.xpad.data());  // tiles read up to xlen
            og.image_to(n, b.dyw.data(), g.Wp, g.Qv, b.dym.data());
            for (std::size_t oc = 0; oc < OCp; oc += OCB)
                for (std::size_t k = 0; k < g.Kp; k += KB)
                    dw_tile<T, OCB, KB>(xp, g.koff.data() + k, b.dyw.data() + oc * g.Qv, g.Qv,
                                        pdw + (oc * g.Kp + k) * W, g.Kp);
            if (db && !db_tap)
                for (std::size_t oc = 0; oc < OC; ++oc) {
                    batch acc = batch::load_aligned(pdb + oc * W);
                    for (std::size_t q = 0; q < g.Qv; q += W) acc += batch::load_aligned(b.dyw.data() + oc * g.Qv + q);
                    acc.store_aligned(pdb + oc * W);
                }
        },
        [&](const T* pdw) {
            const T* pdb = pdw + OCp * g.Kp * W;
            for (std::size_t oc = 0; oc < OC; ++oc) {
                for (std::size_t k = 0; k < g.K; ++k) dw[oc * g.K + k] += lane_sum<W>(pdw + (oc * g.Kp + k) * W);
                if (db) db[oc] += lane_sum<W>(db_tap ? pdw + (oc * g.Kp + g.K) * W : pdb + oc * W);
            }
        });
}

// ---- Weight gradient, vectorised over output channels ------------------------------------------
// For OC a multiple of the vector width (LeNet conv2: 16 floats): dwT[k][:] += sum over valid pixels
// q of dyT[q][:] * x[koff[k] + poff[q]], with dy transposed per image. Only real pixels are visited
// (no padded-width columns), and the partial sums are exact per weight (no lane reduction). KB taps
// x OV vectors of accumulators.
template <class T, std::size_t OV, std::size_t KB>
void dwt_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, const T* __restrict dyT, std::size_t OC,
              const std::uint32_t* __restrict poff, std::size_t P, T* __restrict dwT) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    static_assert(tile_fits<T>(KB * OV, OV), "dwt_tile: KB*OV accumulators + OV loads + 1 broadcast exceed the registers");
    batch acc[KB][OV];
    const T* xk[KB];
#pragma GCC unroll 32
    for (std::size_t j = 0; j < KB; ++j) {
        xk[j] = xp + koff[j];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < OV; ++v) acc[j][v] = batch::load_aligned(dwT + j * OC + v * W);
    }
    for (std::size_t q = 0; q < P; ++q) {
        const std::size_t po = poff[q];
        batch d[OV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < OV; ++v) d[v] = batch::load_aligned(dyT + q * OC + v * W);
#pragma GCC unroll 32
        for (std::size_t j = 0; j < KB; ++j) {
            const batch xv(xk[j][po]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < OV; ++v) acc[j][v] = xsimd::fma(d[v], xv, acc[j][v]);
        }
    }
#pragma GCC unroll 32
    for (std::size_t j = 0; j < KB; ++j)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < OV; ++v) acc[j][v].store_aligned(dwT + j * OC + v * W);
}

template <class T, std::size_t OV, std::size_t KB>
void dw_over_channels(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    const FlatGeometry g(s, W, KB);  // taps padded to Kp with offset 0: results of those taps are dropped
    const std::size_t OC = s.out_channels, P = g.OH * g.OW, in_sz = s.in_channels * s.in_h * s.in_w;
    Scratch<std::uint32_t> poff(P);  // valid pixels only (stride 1: oh * Wp + ow)
    pixel_offsets(s, g, poff.data());
    struct Buffers {
        Scratch<T> xpad, dyT, dym;
    };
    reduce_over_images<T>(
        s.batch, (g.Kp + 1) * OC,  // dwT (Kp x OC), then db
        [&] {
            Buffers b{Scratch<T>(g.xlen), Scratch<T>(P * OC), Scratch<T>(og.buffer_size())};
            std::fill(b.xpad.data(), b.xpad.data() + b.xpad.size(), T(0));
            return b;
        },
        [&](std::size_t n, Buffers& b, T* pdw) {
            T* pdb = pdw + g.Kp * OC;
            // The tiles read valid pixels only: never past the image.
            const T* xp = padded_image(s, g, x, n, in_sz, b.xpad.data());
            og.image_transposed(n, b.dyT.data(), b.dym.data());
            for (std::size_t k = 0; k < g.Kp; k += KB)
                dwt_tile<T, OV, KB>(xp, g.koff.data() + k, b.dyT.data(), OC, poff.data(), P, pdw + k * OC);
            if (db)
                for (std::size_t v = 0; v < OV; ++v) {
                    batch acc = batch::load_aligned(pdb + v * W);
                    for (std::size_t q = 0; q < P; ++q) acc += batch::load_aligned(b.dyT.data() + q * OC + v * W);
                    acc.store_aligned(pdb + v * W);
                }
        },
        [&](const T* pdw) {
            const T* pdb = pdw + g.Kp * OC;
            for (std::size_t oc = 0; oc < OC; ++oc) {
                for (std::size_t k = 0; k < g.K; ++k) dw[oc * g.K + k] += pdw[k * OC + oc];
                if (db) db[oc] += pdb[oc];
            }
        });
}

// Taps per tile for dwt_tile, tried in order: the first that divides K wastes no padding taps. The
// lists are tuned to LeNet's conv2 (K = 6*5*5 = 150 -> 25 taps a tile, within the budget: 25 + 1 + 1
// of 32 registers); any other K takes the last entry and pads K up to its multiple (correct for all
// shapes, with up to KB-1 wasted taps).
template <class T, std::size_t OV, std::size_t KB, std::size_t... More>
void dwt_dispatch(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    const std::size_t K = s.in_channels * s.kernel * s.kernel;
    if constexpr (sizeof...(More) == 0) {
        dw_over_channels<T, OV, KB>(s, x, og, dw, db);
    } else {
        if (K % KB == 0) return dw_over_channels<T, OV, KB>(s, x, og, dw, db);
        dwt_dispatch<T, OV, More...>(s, x, og, dw, db);
    }
}

#if XSIMD_WITH_AVX512F
// ---- Forward vectorised over output channels, 2x2 max pool fused ---------------------------------
// For 16 output channels (one AVX-512 vector of floats) and a fused 2x2, stride-2 max pool (LeNet's
// conv2). acc[r][c] holds the 16 channels of convolution output pixel (2*ph + r, 2*pw0 + c): every
// tap k is one weight vector and one broadcast FMA per pixel, and only pixels that a pooling window
// covers are computed. The padded-width forward computes 14 columns per row for 10 kept there (29%
// of its FMAs wasted) and pools in a second pass over its stored output. Each output is bias, then
// taps k = 0..K-1 added by one FMA each, as in direct_tile; the pooling is pool_2x2_channels
// (maxpool_plane.hpp). PWB windows: 2 x 2*PWB accumulators.
template <std::size_t PWB>
void pool_window_tile(const float* __restrict xr, std::size_t Wp, const std::uint32_t* __restrict koff, std::size_t K,
                      const float* __restrict wT, const float* __restrict bias, bool relu, std::uint32_t idx0,
                      std::uint32_t OW, std::uint32_t PP, float* __restrict y, std::uint32_t* __restrict am) {
    static_assert(tile_fits<float>(4 * PWB, 1),
                  "pool_window_tile: 4*PWB accumulators + 1 weight + 1 exceed the registers");
    using batch = xsimd::batch<float>;
    static_assert(batch::size == 16, "pool_window_tile: one AVX-512 vector holds the 16 output channels");
    constexpr std::size_t C = 2 * PWB;
    const batch b = bias ? batch::load_unaligned(bias) : batch(0.0f);
    batch acc[2][C];
#pragma GCC unroll 12
    for (std::size_t c = 0; c < C; ++c) acc[0][c] = acc[1][c] = b;
    // xsimd::fma as in direct_tile (for AVX-512 floats it is w * x + acc, contracted to one FMA by
    // optimised builds), so that both paths round alike at every optimisation level.
    for (std::size_t k = 0; k < K; ++k) {
        const float* x0 = xr + koff[k];
        const float* x1 = x0 + Wp;
        const batch wv = batch::load_aligned(wT + k * 16);
#pragma GCC unroll 12
        for (std::size_t c = 0; c < C; ++c) acc[0][c] = xsimd::fma(wv, batch(x0[c]), acc[0][c]);
#pragma GCC unroll 12
        for (std::size_t c = 0; c < C; ++c) acc[1][c] = xsimd::fma(wv, batch(x1[c]), acc[1][c]);
    }
#pragma GCC unroll 6
    for (std::size_t j = 0; j < PWB; ++j)
        pool_2x2_channels(acc[0][2 * j], acc[0][2 * j + 1], acc[1][2 * j], acc[1][2 * j + 1],
                          idx0 + std::uint32_t(2 * j), OW, relu, PP, y + j, am + j);
}
using PoolTileFn = void (*)(const float*, std::size_t, const std::uint32_t*, std::size_t, const float*, const float*,
                            bool, std::uint32_t, std::uint32_t, std::uint32_t, float*, std::uint32_t*);
inline constexpr std::size_t kMaxPoolWindows = 6;  // 24 accumulators
inline constexpr std::array<PoolTileFn, kMaxPoolWindows> kPoolTiles = {
    &pool_window_tile<1>, &pool_window_tile<2>, &pool_window_tile<3>,
    &pool_window_tile<4>, &pool_window_tile<5>, &pool_window_tile<6>};

// Whether forward_pooled_oc16 handles a float forward: 16 output channels and a 2x2, stride-2 max
// pool whose arg-max is kept.
bool pooled_oc16_applies(const Conv2dShape& s, const Conv2dEpilogue& ep, const std::uint32_t* argmax) {
    return s.out_channels == 16 && ep.pool == 2 && ep.pool_stride == 2 && !ep.avg_pool && argmax && s.out_h() >= 2 &&
           s.out_w() >= 2;
}

void forward_pooled_oc16(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                         const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    const Padded pd(s);
    const std::size_t K = s.in_channels * s.kernel * s.kernel, OW = s.out_w();
    const std::size_t PH = ep.out_h(s.out_h()), PW = ep.out_w(OW), PP = PH * PW, out_sz = 16 * PP;
    Scratch<std::uint32_t> koff(K);
    tap_offsets(s, pd, koff.data());
    Scratch<float> wT(K * 16);  // wT[k][oc]
    for (std::size_t oc = 0; oc < 16; ++oc)
        for (std::size_t k = 0; k < K; ++k) wT.data()[k * 16 + oc] = w[oc * K + k];
    // Windows per tile: as many as the registers allow, spread evenly over the pooled row.
    const std::size_t groups = (PW + kMaxPoolWindows - 1) / kMaxPoolWindows, per = (PW + groups - 1) / groups;
    const std::size_t padded_sz = s.in_channels * pd.plane();
    for_each_image(
        s.batch,
        [&] {
            Scratch<float> xpad(padded_sz);
            std::fill(xpad.data(), xpad.data() + padded_sz, 0.0f);
            return xpad;
        },
        [&](std::size_t n, Scratch<float>& xpad) {
            const float* xp = padded_image(s, pd, x, n, padded_sz, xpad.data());  // no read past the image
            for (std::size_t ph = 0; ph < PH; ++ph)
                for (std::size_t pw = 0; pw < PW; pw += per) {
                    const std::size_t o = n * out_sz + ph * PW + pw;
                    kPoolTiles[std::min(per, PW - pw) - 1](
                        xp + 2 * ph * pd.Wp + 2 * pw, pd.Wp, koff.data(), K, wT.data(), bias, ep.relu,
                        std::uint32_t(2 * ph * OW + 2 * pw), std::uint32_t(OW), std::uint32_t(PP), y + o, argmax + o);
                }
        });
}

// ---- Forward over the padded width, 2x2 max pool fused -----------------------------------------
// For other channel counts and rows of at most 32 columns (LeNet's conv1: 6 channels, 28 columns).
// A tile computes two convolution output rows (J vectors each) of OCB channels (forward_sums, as
// direct_tile) and pools them in registers by max_2x2_rows (maxpool_plane.hpp), the rule
// pool_plane_forward applies: no output row is stored and read back, and an odd last row is not
// computed.
template <std::size_t OCB, std::size_t J>
void direct_pool_tile(const float* __restrict xr, std::size_t Wp, const std::uint32_t* __restrict koff, std::size_t K,
                      const float* __restrict w, const float* __restrict bias, bool relu, std::uint32_t i0,
                      std::uint32_t OW, std::size_t PP, __mmask16 kept, float* __restrict y,
                      std::uint32_t* __restrict am) {
    static_assert(J == 1 || J == 2, "direct_pool_tile: a row is one or two vectors of 16 columns");
    static_assert(tile_fits<float>(OCB * 2 * J, 2 * J),
                  "direct_pool_tile: OCB*2*J accumulators + 2*J loads + 1 broadcast exceed the registers");
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size, V = 2 * J;
    batch acc[OCB][V];
    forward_sums<float, OCB, V>(acc, xr, koff, K, w, bias, [Wp](std::size_t v) { return (v / J) * Wp + (v % J) * W; });
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o) {
        const __m512 none = _mm512_setzero_ps();
        const Max2x2 r = max_2x2_rows(acc[o][0], J == 2 ? __m512(acc[o][1]) : none, acc[o][J],
                                      J == 2 ? __m512(acc[o][V - 1]) : none, int(i0), int(OW));
        _mm512_mask_storeu_ps(y + o * PP, kept, relu ? _mm512_max_ps(none, r.best) : r.best);
        _mm512_mask_storeu_epi32(am + o * PP, kept, r.arg);
    }
}
using PoolRowFn = void (*)(const float*, std::size_t, const std::uint32_t*, std::size_t, const float*, const float*,
                           bool, std::uint32_t, std::uint32_t, std::size_t, __mmask16, float*, std::uint32_t*);
// Indexed [OCB-1][2J-1] (tile_table's [B-1][V-1]), only the even V.
inline constexpr auto kPoolRowTiles = tile_table<float, PoolRowFn>([]<std::size_t B, std::size_t V>() -> PoolRowFn {
    if constexpr (V == 2 || V == 4)
        return &direct_pool_tile<B, V / 2>;
    else
        return nullptr;
});

// Whether forward_pooled_rows handles a float forward: a 2x2, stride-2 max pool whose arg-max is
// kept, over rows of at most two vectors.
bool pooled_rows_applies(const Conv2dShape& s, const Conv2dEpilogue& ep, const std::uint32_t* argmax) {
    return ep.pool == 2 && ep.pool_stride == 2 && !ep.avg_pool && argmax && s.out_h() >= 2 && s.out_w() >= 2 &&
           s.out_w() <= 32;
}

void forward_pooled_rows(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                         const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    constexpr std::size_t W = Budget<float>::W;
    const FlatGeometry g(s, W, 1);
    const std::size_t J = (g.OW + W - 1) / W, OC = s.out_channels;
    const std::size_t PH = ep.out_h(g.OH), PW = ep.out_w(g.OW), PP = PH * PW, out_sz = OC * PP;
    const std::size_t OCB = pick_ocb<float>(OC, Budget<float>::kAcc / (2 * J));
    // The last tile's loads reach J vectors past the start of conv row 2*PH - 1.
    const std::size_t reach = std::max(g.xlen, g.koff.data()[g.K - 1] + (2 * PH - 1) * g.Wp + J * W);
    const __mmask16 kept = lanes(PW);
    for_each_image(
        s.batch,
        [&] {
            Scratch<float> xpad(reach);
            std::fill(xpad.data(), xpad.data() + reach, 0.0f);
            return xpad;
        },
        [&](std::size_t n, Scratch<float>& xpad) {
            const float* xp = padded_image(s, g, x, n, reach, xpad.data());
            for (std::size_t ph = 0; ph < PH; ++ph)
                for (std::size_t oc = 0; oc < OC; oc += OCB) {
                    const std::size_t ob = std::min(OCB, OC - oc), o = n * out_sz + oc * PP + ph * PW;
                    kPoolRowTiles[ob - 1][2 * J - 1](xp + 2 * ph * g.Wp, g.Wp, g.koff.data(), g.K, w + oc * g.K,
                                                     bias ? bias + oc : nullptr, ep.relu, std::uint32_t(2 * ph * g.OW),
                                                     std::uint32_t(g.OW), PP, kept, y + o, argmax + o);
                }
        });
}
#endif

}  // namespace

template <class T>
void direct_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
                    std::uint32_t* argmax) {
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float>) {
        if (pooled_oc16_applies(s, ep, argmax)) return forward_pooled_oc16(s, x, w, bias, y, ep, argmax);
        if (pooled_rows_applies(s, ep, argmax)) return forward_pooled_rows(s, x, w, bias, y, ep, argmax);
    }
#endif
    constexpr std::size_t W = Budget<T>::W;
    const FlatGeometry g(s, W, 1);
    const std::size_t OC = s.out_channels, nv = g.Qv / W, OCB = pick_ocb<T>(OC);
    const std::size_t out_sz = OC * ep.out_h(g.OH) * ep.out_w(g.OW);
    struct Buffers {
        Scratch<T> xpad, ytmp;
    };
    for_each_image(
        s.batch,
        [&] {
            Buffers b{Scratch<T>(g.xlen), Scratch<T>(OC * g.Qv)};
            std::fill(b.xpad.data(), b.xpad.data() + b.xpad.size(), T(0));
            return b;
        },
        [&](std::size_t n, Buffers& b) {
            const T* xp = padded_image(s, g, x, n, g.xlen, b.xpad.data());  // tiles read up to xlen
            for (std::size_t oc = 0; oc < OC; oc += OCB) {
                const std::size_t ob = std::min(OCB, OC - oc);
                sweep_row<T>(ob, nv, [&](std::size_t v, std::size_t vb) {
                    kTiles<T>[ob - 1][vb - 1](xp + v * W, g.koff.data(), g.K, w + oc * g.K,
                                              bias ? bias + oc : nullptr, b.ytmp.data() + oc * g.Qv + v * W, g.Qv);
                });
            }
            // ytmp is still in L1
            epilogue_image(ep, b.ytmp.data(), OC, g.OH, g.OW, g.Wp, g.Qv, y + n * out_sz,
                           argmax ? argmax + n * out_sz : nullptr);
        });
}

template <class T>
void direct_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx) {
    if (pooled_input_pays(s, og)) return pooled_backward_input(s, og, w, dx);
    constexpr std::size_t W = Budget<T>::W;
    const FlatGeometry g(s, W, 1);
    const std::size_t OC = s.out_channels, C = s.in_channels, nv = g.Qv / W;
    const std::size_t in_sz = C * s.in_h * s.in_w, K = g.K;
    // Taps ordered (kh, kw) outer, channel inner, and a tile takes taps of one (kh, kw) for up to
    // kMaxB channels: their targets lie a whole plane apart, so a tile's read-modify-writes never
    // overlap each other (overlapping unaligned stores and loads of neighbouring kw would stall store
    // forwarding, which cost more than the FMAs). Weights and offsets are permuted to that order.
    const std::size_t kk = s.kernel * s.kernel;
    const std::size_t KB = std::min(C, Budget<T>::kMaxB);
    Scratch<T> wp(OC * K);
    Scratch<std::uint32_t> kp(K);
    for (std::size_t t = 0, i = 0; t < kk; ++t)
        for (std::size_t c = 0; c < C; ++c, ++i) {
            kp.data()[i] = g.koff.data()[c * kk + t];
            for (std::size_t oc = 0; oc < OC; ++oc) wp.data()[oc * K + i] = w[oc * K + c * kk + t];
        }
    struct Buffers {
        Scratch<T> dxpad, dyw, dym;
    };
    for_each_image(
        s.batch,
        [&] {
            Buffers b{Scratch<T>(g.xlen), Scratch<T>(OC * g.Qv), Scratch<T>(og.buffer_size())};
            std::fill(b.dyw.data(), b.dyw.data() + b.dyw.size(), T(0));  // columns ow >= OW stay zero
            std::fill(b.dxpad.data(), b.dxpad.data() + g.xlen, T(0));   // the tail is never read back
            return b;
        },
        [&](std::size_t n, Buffers& b) {
            og.image_to(n, b.dyw.data(), g.Wp, g.Qv, b.dym.data());
            std::fill(b.dxpad.data(), b.dxpad.data() + C * g.plane(), T(0));
            for (std::size_t t = 0; t < kk; ++t)
                for (std::size_t c = 0; c < C; c += KB) {
                    const std::size_t k = t * C + c, kb = std::min(KB, C - c);
                    sweep_row<T>(kb, nv, [&](std::size_t v, std::size_t vb) {
                        kDxTiles<T>[kb - 1][vb - 1](b.dyw.data() + v * W, g.Qv, OC, wp.data() + k, K, kp.data() + k,
                                                    b.dxpad.data() + v * W);
                    });
                }
            copy_planes(dx + n * in_sz, s.in_h * s.in_w, s.in_w, b.dxpad.data() + s.padding * g.Wp + s.padding,
                        g.plane(), g.Wp, C, s.in_h, s.in_w);
        });
}

template <class T>
void direct_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    constexpr std::size_t W = Budget<T>::W;
    // Output channels of one or two vectors: vectorised over channels, KB from a LeNet-tuned list
    // (dwt_dispatch). 2 x 12 + 2 + 1 = 27 and 25 + 1 + 1 = 27 of 32 registers; 12 + 1 + 1 of 16.
#if XSIMD_WITH_AVX512F
    if (s.out_channels == W) return dwt_dispatch<T, 1, 25, 24, 20, 18, 16, 24>(s, x, og, dw, db);
    if (s.out_channels == 2 * W) return dwt_dispatch<T, 2, 12, 10, 9, 8, 12>(s, x, og, dw, db);
#else
    if (s.out_channels == W) return dwt_dispatch<T, 1, 12, 10, 9, 8, 12>(s, x, og, dw, db);
#endif
    // Otherwise vectorised over q, OCB x KB accumulators with OCB picked to waste no output channel
    // where possible. Tuned to LeNet's conv1 (6 channels -> 6 x 4: 24 + 6 + 1 = 31 of 32 registers);
    // other channel counts take 4 x 6 (24 + 4 + 1 = 29) with OC padded to a multiple of 4.
#if XSIMD_WITH_AVX512F
    if (s.out_channels % 6 == 0) return dw_over_q<T, 6, 4>(s, x, og, dw, db);
    return dw_over_q<T, 4, 6>(s, x, og, dw, db);
#else
    if (s.out_channels % 3 == 0) return dw_over_q<T, 3, 4>(s, x, og, dw, db);  // 12 + 3 + 1 = 16
    return dw_over_q<T, 2, 5>(s, x, og, dw, db);                              // 10 + 2 + 1 = 13
#endif
}

template void direct_forward(const Conv2dShape&, const float*, const float*, const float*, float*,
                             const Conv2dEpilogue&, std::uint32_t*);
template void direct_forward(const Conv2dShape&, const double*, const double*, const double*, double*,
                             const Conv2dEpilogue&, std::uint32_t*);
template void direct_backward_input(const Conv2dShape&, const OutputGrad<float>&, const float*, float*);
template void direct_backward_input(const Conv2dShape&, const OutputGrad<double>&, const double*, double*);
template void direct_backward_weights(const Conv2dShape&, const float*, const OutputGrad<float>&, float*, float*);
template void direct_backward_weights(const Conv2dShape&, const double*, const OutputGrad<double>&, double*, double*);

}  // namespace ctgrad::kernels::detail
