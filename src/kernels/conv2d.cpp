// Convolution as per-image GEMM. The im2col matrix of one image (conv1 of LeNet: 25 x 784 floats,
// 78 KB; conv2: 150 x 100, 60 KB) stays in L2 between being written and being multiplied, instead of
// streaming a batch-sized im2col matrix through memory twice. For the forward pass and the weight
// gradient it is written straight into the GEMM's packed-B layout from a zero-padded copy of the image,
// through precomputed offset tables (a gather the compiler vectorises), so there is no separate
// packing copy and no bounds logic in the inner loop. The batch is split over OpenMP threads; the
// GEMMs inside run serially (they detect the enclosing parallel region).
#include "gemm_core.hpp"
#include "maxpool_plane.hpp"

#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>

#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <array>
#include <utility>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <omp.h>

namespace ctgrad::kernels {
namespace {

using idx = std::ptrdiff_t;  // OpenMP loop variable

// d[i] = s[i] (ADD: d[i] += s[i]) for i < n; short runs (an image row), so plain vectors plus a scalar tail.
template <bool ADD, class T>
inline void run(T* __restrict d, const T* __restrict s, std::size_t n) {
    using batch = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + batch::size <= n; i += batch::size) {
        batch v = batch::load_unaligned(s + i);
        if constexpr (ADD) v += batch::load_unaligned(d + i);
        v.store_unaligned(d + i);
    }
    for (; i < n; ++i) {
        if constexpr (ADD)
            d[i] += s[i];
        else
            d[i] = s[i];
    }
}

// d[0, n) = s[0, n) for the short rows of the direct kernels (10-32 values): a libc memmove call per
// row cost 14% of LeNet's convolution time, so full vectors plus one masked vector instead.
inline void copy_short(float* __restrict d, const float* __restrict s, std::size_t n) {
#if XSIMD_WITH_AVX512F
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(d + i, _mm512_loadu_ps(s + i));
    if (i < n) {
        const __mmask16 m = __mmask16((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(d + i, m, _mm512_maskz_loadu_ps(m, s + i));
    }
#else
    run<false>(d, s, n);
#endif
}
inline void copy_short(double* __restrict d, const double* __restrict s, std::size_t n) {
#if XSIMD_WITH_AVX512F
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm512_storeu_pd(d + i, _mm512_loadu_pd(s + i));
    if (i < n) {
        const __mmask8 m = __mmask8((1u << (n - i)) - 1u);
        _mm512_mask_storeu_pd(d + i, m, _mm512_maskz_loadu_pd(m, s + i));
    }
#else
    run<false>(d, s, n);
#endif
}

// Average pooling of one plane (rows of xp ld apart): each window summed in row-major order, divided
// by its area.
template <class T>
void avg_plane_forward(const Pool2dShape& s, const T* xp, std::size_t ld, T* __restrict yp) {
    const std::size_t k = s.kernel, st = s.stride, OH = s.out_h(), OW = s.out_w();
    const T area = T(k * k);
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            const T* win = xp + oh * st * ld + ow * st;
            T acc = T(0);
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw) acc += win[kh * ld + kw];
            yp[oh * OW + ow] = acc / area;
        }
}

// Its adjoint: dx (one dense in_h x in_w plane, overwritten) gets dy / area at every position of each
// window, windows in row-major order (overlapping windows add up in that fixed order).
template <class T>
void avg_plane_backward(const Pool2dShape& s, const T* __restrict dyp, T* __restrict dxp) {
    const std::size_t k = s.kernel, st = s.stride, Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    const T area = T(k * k);
    std::fill(dxp, dxp + s.in_h * Wd, T(0));
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            const T g = dyp[oh * OW + ow] / area;
            T* win = dxp + oh * st * Wd + ow * st;
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw) win[kh * Wd + kw] += g;
        }
}

// Refuses epilogues the kernels cannot run (see Conv2dEpilogue).
void check_epilogue(const Conv2dEpilogue& ep) {
    if (ep.pool && ep.pool_stride == 0)
        throw std::invalid_argument("conv2d epilogue: pool = " + std::to_string(ep.pool) +
                                    " needs pool_stride >= 1, got 0");
    if (ep.pool && ep.avg_pool && ep.relu)
        throw std::invalid_argument("conv2d epilogue: relu with avg_pool is not supported (the backward pass "
                                    "needs the ReLU mask before averaging); fuse the ReLU only and pool separately");
}

// The gradient with respect to the convolution's own output, image by image, from the gradient dy of
// the layer output (after the epilogue): routed back through the pooling's argmax and masked by
// y > 0 for the ReLU, in a per-thread buffer that stays in L1/L2, so that no batch-sized gradient of
// the convolution output is ever stored.
template <class T>
struct OutputGrad {
    const T* dy;
    const T* y;
    const std::uint32_t* argmax;
    Conv2dEpilogue ep;
    std::size_t OC, OH, OW, P, PP;  // channels, convolution-output plane, layer-output plane
    OutputGrad(const Conv2dShape& s, const T* dy_, const Conv2dEpilogue& ep_, const T* y_, const std::uint32_t* am)
        : dy(dy_), y(y_), argmax(am), ep(ep_), OC(s.out_channels), OH(s.out_h()), OW(s.out_w()), P(OH * OW),
          PP(ep_.out_h(OH) * ep_.out_w(OW)) {}
    std::size_t buffer_size() const { return ep.relu || ep.pool ? OC * P : 0; }
    const T* image(std::size_t n, T* __restrict buf) const {
        const T* __restrict d = dy + n * OC * PP;
        if (!ep.relu && !ep.pool) return d;
        const T* __restrict yn = y + n * OC * PP;
        if (!ep.pool) {
            for (std::size_t i = 0; i < OC * P; ++i) buf[i] = yn[i] > T(0) ? d[i] : T(0);
            return buf;
        }
        const Pool2dShape ps{1, 1, OH, OW, ep.pool, ep.pool_stride};
        if (ep.avg_pool) {
            for (std::size_t oc = 0; oc < OC; ++oc) avg_plane_backward(ps, d + oc * PP, buf + oc * P);
            return buf;
        }
        for (std::size_t oc = 0; oc < OC; ++oc)
            detail::pool_plane_backward(ps, d + oc * PP, argmax + n * OC * PP + oc * PP, buf + oc * P,
                                        ep.relu ? yn + oc * PP : nullptr);
        return buf;
    }
};

// Applies the epilogue to one image's convolution output (OC planes of OH x OW; rows ld apart, planes
// ldp apart) and writes the layer output y densely (and, with pooling, the argmax).
template <class T>
void epilogue_image(const Conv2dEpilogue& ep, T* src, std::size_t OC, std::size_t OH, std::size_t OW, std::size_t ld,
                    std::size_t ldp, T* __restrict y, std::uint32_t* __restrict argmax) {
    if (!ep.pool) {
        for (std::size_t oc = 0; oc < OC; ++oc)
            for (std::size_t oh = 0; oh < OH; ++oh) {
                T* row = src + oc * ldp + oh * ld;
                if (ep.relu)
                    for (std::size_t i = 0; i < OW; ++i) row[i] = std::max(row[i], T(0));
                copy_short(y + (oc * OH + oh) * OW, row, OW);
            }
        return;
    }
    const Pool2dShape ps{1, 1, OH, OW, ep.pool, ep.pool_stride};
    const std::size_t PP = ps.out_h() * ps.out_w();
    if (ep.avg_pool) {
        for (std::size_t oc = 0; oc < OC; ++oc) avg_plane_forward(ps, src + oc * ldp, ld, y + oc * PP);
        return;
    }
    for (std::size_t oc = 0; oc < OC; ++oc) {
        T* yc = y + oc * PP;
        detail::pool_plane_forward(ps, src + oc * ldp, ld, yc, argmax + oc * PP);
        if (ep.relu)  // ReLU commutes with the max; std::max keeps a NaN maximum
            for (std::size_t i = 0; i < PP; ++i) yc[i] = std::max(yc[i], T(0));
    }
}

// Output positions o in [lo, hi) for which o*stride + kk - pad falls inside [0, in).
struct Range {
    std::size_t lo, hi;
};
Range valid_range(std::size_t kk, std::size_t in, std::size_t out, std::size_t stride, std::size_t pad) {
    const std::size_t lo = kk >= pad ? 0 : std::min(out, (pad - kk + stride - 1) / stride);
    const std::size_t hi = in + pad > kk ? std::min(out, (in + pad - kk - 1) / stride + 1) : 0;
    return {lo, std::max(lo, hi)};
}

// col[(c*k + kh)*k + kw][oh*OW + ow] = x[c, oh*s + kh - p, ow*s + kw - p] (0 outside the image).
template <class T>
void im2col(const Conv2dShape& s, const T* x, T* col) {
    const std::size_t H = s.in_h, Wd = s.in_w, k = s.kernel, st = s.stride, p = s.padding;
    const std::size_t OH = s.out_h(), OW = s.out_w(), P = OH * OW;
    for (std::size_t c = 0; c < s.in_channels; ++c)
        for (std::size_t kh = 0; kh < k; ++kh) {
            const Range rr = valid_range(kh, H, OH, st, p);
            for (std::size_t kw = 0; kw < k; ++kw) {
                const Range cr = valid_range(kw, Wd, OW, st, p);
                T* dst = col + ((c * k + kh) * k + kw) * P;
                std::fill(dst, dst + rr.lo * OW, T(0));
                for (std::size_t oh = rr.lo; oh < rr.hi; ++oh) {
                    T* d = dst + oh * OW;
                    const T* src = x + (c * H + oh * st + kh - p) * Wd;
                    for (std::size_t ow = 0; ow < cr.lo; ++ow) d[ow] = T(0);
                    if (st == 1 && cr.hi > cr.lo) {
                        run<false>(d + cr.lo, src + (cr.lo + kw - p), cr.hi - cr.lo);
                    } else {
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) d[ow] = src[ow * st + kw - p];
                    }
                    for (std::size_t ow = cr.hi; ow < OW; ++ow) d[ow] = T(0);
                }
                std::fill(dst + rr.hi * OW, dst + P, T(0));
            }
        }
}

// The adjoint of im2col: dx[c, ih, iw] += col[...] for every position that im2col copied from.
template <class T>
void col2im_add(const Conv2dShape& s, const T* col, T* dx) {
    const std::size_t H = s.in_h, Wd = s.in_w, k = s.kernel, st = s.stride, p = s.padding;
    const std::size_t OH = s.out_h(), OW = s.out_w(), P = OH * OW;
    for (std::size_t c = 0; c < s.in_channels; ++c)
        for (std::size_t kh = 0; kh < k; ++kh) {
            const Range rr = valid_range(kh, H, OH, st, p);
            for (std::size_t kw = 0; kw < k; ++kw) {
                const Range cr = valid_range(kw, Wd, OW, st, p);
                const T* srcc = col + ((c * k + kh) * k + kw) * P;
                for (std::size_t oh = rr.lo; oh < rr.hi; ++oh) {
                    const T* d = srcc + oh * OW;
                    T* dst = dx + (c * H + oh * st + kh - p) * Wd;
                    if (st == 1 && cr.hi > cr.lo) {
                        run<true>(dst + (cr.lo + kw - p), d + cr.lo, cr.hi - cr.lo);
                    } else {
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) dst[ow * st + kw - p] += d[ow];
                    }
                }
            }
        }
}

// Offset tables into a zero-padded image (C x Hp x Wp, Hp = H + 2p, Wp = W + 2p): element (k, q) of
// the im2col matrix, k = (c, kh, kw) and q = (oh, ow), is xpad[koff[k] + qoff[q]].
// Longest packed panel over float and double (offset tables are shared by both).
inline std::size_t round_up_panel(std::size_t n) {
    return std::max(detail::round_up_nr<float>(n), detail::round_up_nr<double>(n));
}

struct Geometry {
    std::size_t Hp, Wp, K, P;
    Scratch<std::uint32_t> koff, qoff;
    explicit Geometry(const Conv2dShape& s)
        : Hp(s.in_h + 2 * s.padding), Wp(s.in_w + 2 * s.padding), K(s.in_channels * s.kernel * s.kernel),
          P(s.out_h() * s.out_w()), koff(round_up_panel(K)), qoff(round_up_panel(P)) {
        // Entries past K and P are masked off by the gathers but still loaded: keep them in range.
        std::fill(koff.data(), koff.data() + koff.size(), 0u);
        std::fill(qoff.data(), qoff.data() + qoff.size(), 0u);
        std::size_t i = 0;
        for (std::size_t c = 0; c < s.in_channels; ++c)
            for (std::size_t kh = 0; kh < s.kernel; ++kh)
                for (std::size_t kw = 0; kw < s.kernel; ++kw) koff.data()[i++] = std::uint32_t((c * Hp + kh) * Wp + kw);
        i = 0;
        for (std::size_t oh = 0; oh < s.out_h(); ++oh)
            for (std::size_t ow = 0; ow < s.out_w(); ++ow)
                qoff.data()[i++] = std::uint32_t(oh * s.stride * Wp + ow * s.stride);
    }
};

// Copies image x (C x H x W) into xpad with a zero border of `padding`.
template <class T>
void pad_image(const Conv2dShape& s, const Geometry& g, const T* __restrict x, T* __restrict xpad) {
    const std::size_t p = s.padding;
    if (p == 0) {
        std::copy(x, x + s.in_channels * s.in_h * s.in_w, xpad);
        return;
    }
    for (std::size_t c = 0; c < s.in_channels; ++c) {
        T* dc = xpad + c * g.Hp * g.Wp;
        std::fill(dc, dc + p * g.Wp, T(0));
        for (std::size_t h = 0; h < s.in_h; ++h) {
            T* d = dc + (h + p) * g.Wp;
            const T* src = x + (c * s.in_h + h) * s.in_w;
            for (std::size_t i = 0; i < p; ++i) d[i] = T(0);
            copy_short(d + p, src, s.in_w);
            for (std::size_t i = p + s.in_w; i < g.Wp; ++i) d[i] = T(0);
        }
        std::fill(dc + (s.in_h + p) * g.Wp, dc + g.Hp * g.Wp, T(0));
    }
}

// d[c] = base[o[c]] for c < count, 0 for count <= c < NR (o holds NR readable entries). GCC 12 does not
// emit gather instructions for the plain loop when tuning for recent Intel cores (it inserts lanes one
// by one), so AVX-512 builds use the masked-gather intrinsics directly.
inline void gather_panel(const float* __restrict base, const std::uint32_t* __restrict o, float* __restrict d,
                         std::size_t count = detail::Cfg<float>::NR) {
#if XSIMD_WITH_AVX512F
    static_assert(detail::Cfg<float>::NR % 16 == 0);
    for (std::size_t c = 0; c < detail::Cfg<float>::NR; c += 16) {
        const std::size_t live = count > c ? std::min<std::size_t>(16, count - c) : 0;
        const __mmask16 m = __mmask16((1u << live) - 1u);
        const __m512i idx = _mm512_loadu_si512(o + c);
        _mm512_store_ps(d + c, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base, 4));
    }
#else
    for (std::size_t c = 0; c < detail::Cfg<float>::NR; ++c) d[c] = c < count ? base[o[c]] : 0.0f;
#endif
}
inline void gather_panel(const double* __restrict base, const std::uint32_t* __restrict o, double* __restrict d,
                         std::size_t count = detail::Cfg<double>::NR) {
#if XSIMD_WITH_AVX512F
    static_assert(detail::Cfg<double>::NR % 8 == 0);
    for (std::size_t c = 0; c < detail::Cfg<double>::NR; c += 8) {
        const std::size_t live = count > c ? std::min<std::size_t>(8, count - c) : 0;
        const __mmask8 m = __mmask8((1u << live) - 1u);
        const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o + c));
        _mm512_store_pd(d + c, _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, idx, base, 8));
    }
#else
    for (std::size_t c = 0; c < detail::Cfg<double>::NR; ++c) d[c] = c < count ? base[o[c]] : 0.0;
#endif
}

// Writes the R x N matrix M[r][n] = xpad[roff[r] + noff[n]] into the packed-B layout (zero columns past
// N). Forward: rows are k, columns q (roff = koff, noff = qoff); weight gradient: the transpose.
template <class T>
void pack_gather(const T* __restrict xpad, const std::uint32_t* __restrict roff, std::size_t R,
                 const std::uint32_t* __restrict noff, std::size_t N, T* __restrict bp) {
    using Cf = detail::Cfg<T>;
    constexpr std::size_t NR = Cf::NR;
    const std::size_t n_pad = detail::round_up_nr<T>(N), n_full = N / NR * NR;
    for (std::size_t r = 0; r < R; ++r) {
        const T* base = xpad + roff[r];
        T* row = bp + detail::packed_b_index<T>(R, n_pad, r, 0);
        const std::size_t kc = std::min(Cf::KC, R - (r - r % Cf::KC));
        for (std::size_t j0 = 0; j0 < n_full; j0 += NR) gather_panel(base, noff + j0, row + j0 * kc);
        if (n_full < N) gather_panel(base, noff + n_full, row + n_full * kc, N - n_full);
    }
}

// A 1x1, stride-1, unpadded convolution needs no im2col: the image is already the K x P matrix.
bool is_pointwise(const Conv2dShape& s) { return s.kernel == 1 && s.stride == 1 && s.padding == 0; }

// Threads for a batch loop: none nested inside another parallel region, at most one per image.
int batch_threads(std::size_t batch) {
    if (omp_in_parallel()) return 1;
    return std::max(1, std::min<int>(omp_get_max_threads(), int(batch)));
}

// Images are handed out in chunks, dynamically: when the other engineers' jobs deschedule one of our
// threads, the other takes over its remaining chunks instead of idling at the barrier (static halves
// made 2 threads slower than 1 under load). Weight gradients keep one partial sum per chunk, summed
// in chunk order, so results depend neither on timing nor on the thread count.
struct Chunks {
    std::size_t count, size;
    explicit Chunks(std::size_t batch)
        : count(std::min<std::size_t>(batch, 32)), size(count ? (batch + count - 1) / count : 0) {
        if (size) count = (batch + size - 1) / size;
    }
    std::size_t begin(std::size_t c) const { return c * size; }
    std::size_t end(std::size_t c, std::size_t batch) const { return std::min(batch, (c + 1) * size); }
};

// ---- Direct stride-1 kernels -------------------------------------------------------------------
// With stride 1, output pixel (oh, ow) and tap (c, kh, kw) read the padded image at
// koff[c,kh,kw] + q with q = oh*Wp + ow. Over this "padded-width" index q the convolution is a 1-D
// correlation with contiguous, unaligned vector loads: no im2col, no gathers, no packing. The columns
// ow >= OW of each row are computed and thrown away (conv1 of LeNet: 12%, conv2: 27%), far cheaper
// than a GEMM whose 12-row micro-tile sees only 6 or 16 output channels plus gather-packing per image.

template <class T>
struct Direct {
    using batch = xsimd::batch<T>;
    static constexpr std::size_t W = batch::size;
#if XSIMD_WITH_AVX512F
    static constexpr std::size_t ACC = 24;  // accumulators of 32 registers (the rest: loads, broadcasts)
    static constexpr std::size_t MAX_OCB = 8, MAX_V = 6;
#else
    static constexpr std::size_t ACC = 12;  // of 16 registers
    static constexpr std::size_t MAX_OCB = 4, MAX_V = 4;
#endif
};

// Geometry of the padded-width formulation of a stride-1 convolution.
struct FlatGeometry {
    std::size_t Hp, Wp, K, Kp, OH, OW, Q, Qv, xlen;
    Scratch<std::uint32_t> koff;  // Kp entries; those past K read offset 0 (their results are unused)
    FlatGeometry(const Conv2dShape& s, std::size_t W, std::size_t k_multiple)
        : Hp(s.in_h + 2 * s.padding), Wp(s.in_w + 2 * s.padding), K(s.in_channels * s.kernel * s.kernel),
          Kp((K + k_multiple - 1) / k_multiple * k_multiple), OH(s.out_h()), OW(s.out_w()),
          Q((OH - 1) * Wp + OW), Qv((Q + W - 1) / W * W), koff(Kp) {
        std::fill(koff.data(), koff.data() + Kp, 0u);
        std::size_t i = 0;
        for (std::size_t c = 0; c < s.in_channels; ++c)
            for (std::size_t kh = 0; kh < s.kernel; ++kh)
                for (std::size_t kw = 0; kw < s.kernel; ++kw) koff.data()[i++] = std::uint32_t((c * Hp + kh) * Wp + kw);
        // Vector loads run up to the last tap's offset + Qv: the padded image plus a zero tail.
        xlen = std::max(s.in_channels * Hp * Wp, std::size_t(koff.data()[K - 1]) + Qv);
    }
};

// out[o][q..q+V*W) = (bias) + sum_k w[o][k] * xp[koff[k] + q + ...] for OCB output channels.
template <class T, std::size_t OCB, std::size_t V>
void direct_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, std::size_t K, const T* __restrict w,
                 const T* __restrict bias, T* __restrict out, std::size_t ldo) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    batch acc[OCB][V];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[o][v] = batch(bias ? bias[o] : T(0));
    for (std::size_t k = 0; k < K; ++k) {
        const T* xk = xp + koff[k];
        batch xv[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) xv[v] = batch::load_unaligned(xk + v * W);
#pragma GCC unroll 8
        for (std::size_t o = 0; o < OCB; ++o) {
            const batch wv(w[o * K + k]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) acc[o][v] = xsimd::fma(wv, xv[v], acc[o][v]);
        }
    }
#pragma GCC unroll 8
    for (std::size_t o = 0; o < OCB; ++o)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[o][v].store_aligned(out + o * ldo + v * W);
}

// A direct kernel's register tiles as a table indexed [B-1][V-1] (B: channels or taps per tile, V:
// vectors per row). make.template operator()<B, V>() names tile B x V; it is asked only for the tiles
// within the accumulator budget (the others are nullptr), so only those are instantiated.
template <class T, class Fn, std::size_t B, std::size_t V, class Make>
constexpr Fn tile_entry(Make make) {
    if constexpr (B * V <= Direct<T>::ACC)
        return make.template operator()<B, V>();
    else
        return nullptr;
}
template <class T, class Fn, std::size_t B, class Make, std::size_t... V>
constexpr std::array<Fn, sizeof...(V)> tile_row(Make make, std::index_sequence<V...>) {
    return {tile_entry<T, Fn, B, V + 1>(make)...};
}
template <class T, class Fn, class Make, std::size_t... B>
constexpr auto tile_table(Make make, std::index_sequence<B...>) {
    return std::array<std::array<Fn, Direct<T>::MAX_V>, sizeof...(B)>{
        tile_row<T, Fn, B + 1>(make, std::make_index_sequence<Direct<T>::MAX_V>{})...};
}

template <class T>
using TileFn = void (*)(const T*, const std::uint32_t*, std::size_t, const T*, const T*, T*, std::size_t);
// [OCB-1][V-1]
template <class T>
inline constexpr auto kTiles = tile_table<T, TileFn<T>>(
    []<std::size_t B, std::size_t V>() { return &direct_tile<T, B, V>; }, std::make_index_sequence<Direct<T>::MAX_OCB>{});

// Channels per tile: the largest block that divides OC evenly (LeNet: 6 -> 6, 16 -> 8), else the
// largest block with a remainder tile.
template <class T>
std::size_t pick_ocb(std::size_t OC) {
    for (std::size_t b = std::min(OC, Direct<T>::MAX_OCB); b >= 4; --b)
        if (OC % b == 0) return b;
    return std::min(OC, Direct<T>::ACC / 4);
}

// Stride-1 forward for one image from its padded copy xp: y (OC x OH x OW) via ytmp (OC x Qv).
template <class T>
void direct_image(const Conv2dShape& s, const FlatGeometry& g, const T* xp, const T* w, const T* bias, T* ytmp, T* y,
                  const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    constexpr std::size_t W = Direct<T>::W;
    const std::size_t OC = s.out_channels, nv = g.Qv / W, OCB = pick_ocb<T>(OC);
    for (std::size_t oc = 0; oc < OC; oc += OCB) {
        const std::size_t ob = std::min(OCB, OC - oc);
        // Vectors per tile: as many as the registers allow, spread evenly over the row.
        const std::size_t vmax = std::min(Direct<T>::MAX_V, Direct<T>::ACC / ob);
        const std::size_t groups = (nv + vmax - 1) / vmax, vper = (nv + groups - 1) / groups;
        for (std::size_t v = 0; v < nv; v += vper) {
            const std::size_t vb = std::min(vper, nv - v);
            kTiles<T>[ob - 1][vb - 1](xp + v * W, g.koff.data(), g.K, w + oc * g.K, bias ? bias + oc : nullptr,
                                      ytmp + oc * g.Qv + v * W, g.Qv);
        }
    }
    epilogue_image(ep, ytmp, OC, g.OH, g.OW, g.Wp, g.Qv, y, argmax);  // ytmp is still in L1
}

// Forward of a stride-1 convolution (also the input gradient, as a convolution of dy).
template <class T>
void direct_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
                    std::uint32_t* argmax) {
    const FlatGeometry g(s, Direct<T>::W, 1);
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    const std::size_t out_sz = s.out_channels * ep.out_h(g.OH) * ep.out_w(g.OW);
    const Geometry pg(s);  // only Hp/Wp are used by pad_image
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> xpad(g.xlen), ytmp(s.out_channels * g.Qv);
        std::fill(xpad.data(), xpad.data() + g.xlen, T(0));
#pragma omp for schedule(dynamic, Chunks(s.batch).size) nowait
        for (idx n = 0; n < idx(s.batch); ++n) {
            pad_image(s, pg, x + std::size_t(n) * in_sz, xpad.data());
            direct_image(s, g, xpad.data(), w, bias, ytmp.data(), y + std::size_t(n) * out_sz, ep,
                         argmax ? argmax + std::size_t(n) * out_sz : nullptr);
        }
    }
}

// Input gradient of a stride-1 convolution in the padded-width layout: for each tap k,
// dxpad[koff[k] + q] += sum_oc w[oc][k] * dyw[oc][q], where dyw is dy spread over the padded width
// with zeros in the columns ow >= OW. The sum over oc (the GEMM W^T dy) stays in registers and is
// added straight into the shifted padded image (col2im without the column matrix). Compared with the
// convolution of dy padded by k-1-p with the flipped kernel, it never multiplies that padding's zeros
// (LeNet conv2: 21600 instead of 38400 vector FMAs per image).
template <class T, std::size_t KB, std::size_t V>
void dx_tile(const T* __restrict dyw, std::size_t Qv, std::size_t OC, const T* __restrict w, std::size_t K,
             const std::uint32_t* __restrict koff, T* __restrict dxp) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
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
// [KB-1][V-1], KB up to MAX_OCB taps per tile
template <class T>
inline constexpr auto kDxTiles = tile_table<T, DxFn<T>>(
    []<std::size_t B, std::size_t V>() { return &dx_tile<T, B, V>; }, std::make_index_sequence<Direct<T>::MAX_OCB>{});

template <class T>
void direct_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx) {
    constexpr std::size_t W = Direct<T>::W;
    const FlatGeometry g(s, W, 1);
    const std::size_t OC = s.out_channels, C = s.in_channels, nv = g.Qv / W;
    const std::size_t in_sz = C * s.in_h * s.in_w, p = s.padding, K = g.K;
    // Taps ordered (kh, kw) outer, channel inner, and a tile takes taps of one (kh, kw) for up to
    // MAX_OCB channels: their targets lie a whole plane apart, so a tile's read-modify-writes never
    // overlap each other (overlapping unaligned stores and loads of neighbouring kw would stall store
    // forwarding, which cost more than the FMAs). Weights and offsets are permuted to that order.
    const std::size_t kk = s.kernel * s.kernel;
    const std::size_t KB = std::min(C, Direct<T>::MAX_OCB);
    Scratch<T> wp(OC * K);
    Scratch<std::uint32_t> kp(K);
    for (std::size_t t = 0, i = 0; t < kk; ++t)
        for (std::size_t c = 0; c < C; ++c, ++i) {
            kp.data()[i] = g.koff.data()[c * kk + t];
            for (std::size_t oc = 0; oc < OC; ++oc) wp.data()[oc * K + i] = w[oc * K + c * kk + t];
        }
    const std::size_t vmax = std::min(Direct<T>::MAX_V, Direct<T>::ACC / KB);
    const std::size_t groups = (nv + vmax - 1) / vmax, vper = (nv + groups - 1) / groups;
    const std::size_t plane = C * g.Hp * g.Wp;
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> dxpad(g.xlen), dyw(OC * g.Qv), dym(og.buffer_size());
        std::fill(dyw.data(), dyw.data() + dyw.size(), T(0));  // columns ow >= OW stay zero
        std::fill(dxpad.data(), dxpad.data() + g.xlen, T(0));  // the tail past the planes is never read back
#pragma omp for schedule(dynamic, Chunks(s.batch).size) nowait
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* dyn = og.image(std::size_t(n), dym.data());
            for (std::size_t oc = 0; oc < OC; ++oc)
                for (std::size_t oh = 0; oh < g.OH; ++oh)
                    copy_short(dyw.data() + oc * g.Qv + oh * g.Wp, dyn + (oc * g.OH + oh) * g.OW, g.OW);
            std::fill(dxpad.data(), dxpad.data() + plane, T(0));
            for (std::size_t t = 0; t < kk; ++t)
                for (std::size_t c = 0; c < C; c += KB) {
                    const std::size_t k = t * C + c, kb = std::min(KB, C - c);
                    for (std::size_t v = 0; v < nv; v += vper) {
                        const std::size_t vb = std::min(vper, nv - v);
                        kDxTiles<T>[kb - 1][vb - 1](dyw.data() + v * W, g.Qv, OC, wp.data() + k, K, kp.data() + k,
                                                    dxpad.data() + v * W);
                    }
                }
            T* dxn = dx + std::size_t(n) * in_sz;
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t ih = 0; ih < s.in_h; ++ih)
                    copy_short(dxn + (c * s.in_h + ih) * s.in_w, dxpad.data() + (c * g.Hp + ih + p) * g.Wp + p, s.in_w);
        }
    }
}

// dwv[o][j] (vectors of lane partials) += sum_q dyw[o][q] * xp[koff[j] + q], OCB x KB at a time.
template <class T, std::size_t OCB, std::size_t KB>
void dw_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, const T* __restrict dyw, std::size_t Qv,
             T* __restrict dwv, std::size_t Kp) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
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
        for (std::size_t o = 0; o < OCB; ++o) d[o] = batch::load_aligned(dyw + o * Qv + q);
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

// Weight gradient of a stride-1 convolution, vectorised over q. Each thread keeps W lane partials per
// weight (loaded and stored once per image and tile, not reduced per image); the lanes and the
// threads are summed in a fixed order at the end, so results do not depend on timing.
template <class T, std::size_t OCB, std::size_t KB>
void direct_backward_weights_impl(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    const FlatGeometry g(s, W, KB);
    const std::size_t OC = s.out_channels, OCp = (OC + OCB - 1) / OCB * OCB;
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    const Geometry pg(s);
    const int nt = batch_threads(s.batch);
    const Chunks ch(s.batch);
    const std::size_t part_sz = (OCp * g.Kp + OCp) * W;  // weights, then bias lanes
    Scratch<T> part(ch.count * part_sz);
    std::fill(part.data(), part.data() + part.size(), T(0));
#pragma omp parallel num_threads(nt)
    {
        Scratch<T> xpad(g.xlen), dyw(OCp * g.Qv), dym(og.buffer_size());
        // Zero tails and the columns ow >= OW of dyw stay zero: only valid pixels are written below.
        std::fill(xpad.data(), xpad.data() + g.xlen, T(0));
        std::fill(dyw.data(), dyw.data() + dyw.size(), T(0));
#pragma omp for schedule(dynamic, 1) nowait
        for (idx c = 0; c < idx(ch.count); ++c) {
          T* pdw = part.data() + std::size_t(c) * part_sz;
          T* pdb = pdw + OCp * g.Kp * W;
          for (std::size_t n = ch.begin(std::size_t(c)); n < ch.end(std::size_t(c), s.batch); ++n) {
            const T* dyn = og.image(std::size_t(n), dym.data());
            pad_image(s, pg, x + std::size_t(n) * in_sz, xpad.data());
            for (std::size_t oc = 0; oc < OC; ++oc)
                for (std::size_t oh = 0; oh < g.OH; ++oh)
                    copy_short(dyw.data() + oc * g.Qv + oh * g.Wp, dyn + (oc * g.OH + oh) * g.OW, g.OW);
            for (std::size_t oc = 0; oc < OCp; oc += OCB)
                for (std::size_t k = 0; k < g.Kp; k += KB)
                    dw_tile<T, OCB, KB>(xpad.data(), g.koff.data() + k, dyw.data() + oc * g.Qv, g.Qv,
                                        pdw + (oc * g.Kp + k) * W, g.Kp);
            if (db)
                for (std::size_t oc = 0; oc < OC; ++oc) {
                    batch acc = batch::load_aligned(pdb + oc * W);
                    for (std::size_t q = 0; q < g.Qv; q += W) acc += batch::load_aligned(dyw.data() + oc * g.Qv + q);
                    acc.store_aligned(pdb + oc * W);
                }
          }
        }
    }
    for (std::size_t c = 0; c < ch.count; ++c) {
        const T* pdw = part.data() + c * part_sz;
        const T* pdb = pdw + OCp * g.Kp * W;
        for (std::size_t oc = 0; oc < OC; ++oc) {
            for (std::size_t k = 0; k < g.K; ++k)
                dw[oc * g.K + k] += lane_sum<W>(pdw + (oc * g.Kp + k) * W);
            if (db) db[oc] += lane_sum<W>(pdb + oc * W);
        }
    }
}

// Weight gradient vectorised over output channels, for OC a multiple of the vector width (LeNet
// conv2: 16 floats): dwT[k][:] += sum over valid pixels q of dyT[q][:] * x[koff[k] + poff[q]], with
// dy transposed per image. Only real pixels are visited (no padded-width columns), and each thread's
// partial sums are exact per weight (no lane reduction). KB taps x OV vectors of accumulators.
template <class T, std::size_t OV, std::size_t KB>
void dwt_tile(const T* __restrict xp, const std::uint32_t* __restrict koff, const T* __restrict dyT, std::size_t OC,
              const std::uint32_t* __restrict poff, std::size_t P, T* __restrict dwT) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
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
void dwt_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    using batch = xsimd::batch<T>;
    constexpr std::size_t W = batch::size;
    const FlatGeometry g(s, W, KB);  // koff padded to Kp with offset 0: results of those taps are dropped
    const std::size_t OC = s.out_channels, P = g.OH * g.OW, in_sz = s.in_channels * s.in_h * s.in_w;
    const Geometry pg(s);
    const int nt = batch_threads(s.batch);
    const Chunks ch(s.batch);
    const std::size_t part_sz = (g.Kp + 1) * OC;  // dwT (Kp x OC), then db
    Scratch<T> part(ch.count * part_sz);
    Scratch<std::uint32_t> poff(P);
    for (std::size_t oh = 0, i = 0; oh < g.OH; ++oh)
        for (std::size_t ow = 0; ow < g.OW; ++ow) poff.data()[i++] = std::uint32_t(oh * g.Wp + ow);
    std::fill(part.data(), part.data() + part.size(), T(0));
#pragma omp parallel num_threads(nt)
    {
        Scratch<T> xpad(g.xlen), dyT(P * OC), dym(og.buffer_size());
        std::fill(xpad.data(), xpad.data() + g.xlen, T(0));
#pragma omp for schedule(dynamic, 1) nowait
        for (idx c = 0; c < idx(ch.count); ++c) {
          T* pdw = part.data() + std::size_t(c) * part_sz;
          T* pdb = pdw + g.Kp * OC;
          for (std::size_t n = ch.begin(std::size_t(c)); n < ch.end(std::size_t(c), s.batch); ++n) {
            const T* dyn = og.image(std::size_t(n), dym.data());
            pad_image(s, pg, x + std::size_t(n) * in_sz, xpad.data());
            for (std::size_t oc = 0; oc < OC; ++oc)
                for (std::size_t q = 0; q < P; ++q) dyT.data()[q * OC + oc] = dyn[oc * P + q];
            for (std::size_t k = 0; k < g.Kp; k += KB)
                dwt_tile<T, OV, KB>(xpad.data(), g.koff.data() + k, dyT.data(), OC, poff.data(), P, pdw + k * OC);
            if (db)
                for (std::size_t v = 0; v < OV; ++v) {
                    batch acc = batch::load_aligned(pdb + v * W);
                    for (std::size_t q = 0; q < P; ++q) acc += batch::load_aligned(dyT.data() + q * OC + v * W);
                    acc.store_aligned(pdb + v * W);
                }
          }
        }
    }
    for (std::size_t c = 0; c < ch.count; ++c) {
        const T* pdw = part.data() + c * part_sz;
        const T* pdb = pdw + g.Kp * OC;
        for (std::size_t oc = 0; oc < OC; ++oc) {
            for (std::size_t k = 0; k < g.K; ++k) dw[oc * g.K + k] += pdw[k * OC + oc];
            if (db) db[oc] += pdb[oc];
        }
    }
}

// Taps per tile for dwt_tile: a divisor of K near the register budget if there is one, so that no
// padding taps are computed (LeNet conv2: K = 150 -> 25).
template <class T, std::size_t OV, std::size_t KB, std::size_t... More>
void dwt_dispatch(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    const std::size_t K = s.in_channels * s.kernel * s.kernel;
    if constexpr (sizeof...(More) == 0) {
        dwt_backward_weights<T, OV, KB>(s, x, og, dw, db);
    } else {
        if (K % KB == 0) return dwt_backward_weights<T, OV, KB>(s, x, og, dw, db);
        dwt_dispatch<T, OV, More...>(s, x, og, dw, db);
    }
}

template <class T>
void direct_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    constexpr std::size_t W = xsimd::batch<T>::size;
#if XSIMD_WITH_AVX512F
    if (s.out_channels == W) return dwt_dispatch<T, 1, 25, 24, 20, 18, 16, 24>(s, x, og, dw, db);
    if (s.out_channels == 2 * W) return dwt_dispatch<T, 2, 12, 10, 9, 8, 12>(s, x, og, dw, db);
#else
    if (s.out_channels == W) return dwt_dispatch<T, 1, 12, 10, 9, 8, 12>(s, x, og, dw, db);
#endif
    // Tiles of OCB x KB accumulators; OCB is picked to waste no output channel where possible
    // (LeNet: 6 channels -> 6 x 4, 16 channels -> 4 x 6 with K = 150 a multiple of 6).
#if XSIMD_WITH_AVX512F
    if (s.out_channels % 6 == 0) return direct_backward_weights_impl<T, 6, 4>(s, x, og, dw, db);
    return direct_backward_weights_impl<T, 4, 6>(s, x, og, dw, db);
#else
    if (s.out_channels % 3 == 0) return direct_backward_weights_impl<T, 3, 4>(s, x, og, dw, db);
    return direct_backward_weights_impl<T, 2, 5>(s, x, og, dw, db);
#endif
}

template <class T>
void forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
             std::uint32_t* argmax) {
    if (s.stride == 1) return direct_forward(s, x, w, bias, y, ep, argmax);
    const Geometry g(s);
    const std::size_t OC = s.out_channels, K = g.K, P = g.P, OH = s.out_h(), OW = s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w, out_sz = OC * ep.out_h(OH) * ep.out_w(OW);
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> xpad(s.in_channels * g.Hp * g.Wp), bp(K * detail::round_up_nr<T>(P)), ytmp(OC * P);
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            // Without pooling the GEMM writes the layer output in place; with it, a per-image buffer.
            T* yn = ep.pool ? ytmp.data() : y + std::size_t(n) * out_sz;
            pad_image(s, g, x + std::size_t(n) * in_sz, xpad.data());
            pack_gather(xpad.data(), g.koff.data(), K, g.qoff.data(), P, bp.data());
            if (bias)
                for (std::size_t oc = 0; oc < OC; ++oc) std::fill(yn + oc * P, yn + (oc + 1) * P, bias[oc]);
            detail::gemm_prepacked_b(false, OC, P, K, T(1), w, K, bp.data(), bias ? T(1) : T(0), yn, P);
            if (ep.pool)
                epilogue_image(ep, yn, OC, OH, OW, OW, P, y + std::size_t(n) * out_sz,
                               argmax ? argmax + std::size_t(n) * out_sz : nullptr);
            else if (ep.relu)
                for (std::size_t i = 0; i < OC * P; ++i) yn[i] = std::max(yn[i], T(0));
        }
    }
}

template <class T>
void backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx) {
    if (s.stride == 1 && !is_pointwise(s)) return direct_backward_input(s, og, w, dx);
    const std::size_t OC = s.out_channels, K = s.in_channels * s.kernel * s.kernel, P = s.out_h() * s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> col(is_pointwise(s) ? 0 : K * P), dym(og.buffer_size());
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* dyn = og.image(std::size_t(n), dym.data());
            T* dxn = dx + std::size_t(n) * in_sz;
            if (is_pointwise(s)) {
                gemm(true, false, K, P, OC, T(1), w, K, dyn, P, T(0), dxn, P);
                continue;
            }
            gemm(true, false, K, P, OC, T(1), w, K, dyn, P, T(0), col.data(), P);
            std::fill(dxn, dxn + in_sz, T(0));
            col2im_add(s, col.data(), dxn);
        }
    }
}

template <class T>
void backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db) {
    if (s.stride == 1) return direct_backward_weights(s, x, og, dw, db);
    const Geometry g(s);
    const std::size_t OC = s.out_channels, K = g.K, P = g.P;
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
    const int nt = batch_threads(s.batch);
    // Per-thread partial sums, reduced in a fixed order afterwards so results do not depend on timing.
    const std::size_t part_sz = OC * K + OC;
    Scratch<T> part(std::size_t(nt) * part_sz);
    std::fill(part.data(), part.data() + part.size(), T(0));
#pragma omp parallel num_threads(nt)
    {
        T* pdw = part.data() + std::size_t(omp_get_thread_num()) * part_sz;
        T* pdb = pdw + OC * K;
        Scratch<T> xpad(s.in_channels * g.Hp * g.Wp), bp(P * detail::round_up_nr<T>(K)), dym(og.buffer_size());
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* dyn = og.image(std::size_t(n), dym.data());
            // dw[oc, k] += sum_q dy[oc, q] * col[k, q]: B is col transposed (P x K).
            pad_image(s, g, x + std::size_t(n) * in_sz, xpad.data());
            pack_gather(xpad.data(), g.qoff.data(), P, g.koff.data(), K, bp.data());
            detail::gemm_prepacked_b(false, OC, K, P, T(1), dyn, P, bp.data(), T(1), pdw, K);
            if (db)
                for (std::size_t oc = 0; oc < OC; ++oc) {
                    T acc = T(0);
                    for (std::size_t i = 0; i < P; ++i) acc += dyn[oc * P + i];
                    pdb[oc] += acc;
                }
        }
    }
    for (int t = 0; t < nt; ++t) {
        const T* pdw = part.data() + std::size_t(t) * part_sz;
        for (std::size_t i = 0; i < OC * K; ++i) dw[i] += pdw[i];
        if (db)
            for (std::size_t oc = 0; oc < OC; ++oc) db[oc] += pdw[OC * K + oc];
    }
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                    const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    check_epilogue(ep);
    forward(s, x, w, bias, y, ep, argmax);
}
void conv2d_forward(const Conv2dShape& s, const double* x, const double* w, const double* bias, double* y,
                    const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    check_epilogue(ep);
    forward(s, x, w, bias, y, ep, argmax);
}
void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx, const Conv2dEpilogue& ep,
                           const float* y, const std::uint32_t* argmax) {
    check_epilogue(ep);
    backward_input(s, OutputGrad<float>(s, dy, ep, y, argmax), w, dx);
}
void conv2d_backward_input(const Conv2dShape& s, const double* dy, const double* w, double* dx,
                           const Conv2dEpilogue& ep, const double* y, const std::uint32_t* argmax) {
    check_epilogue(ep);
    backward_input(s, OutputGrad<double>(s, dy, ep, y, argmax), w, dx);
}
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                             const Conv2dEpilogue& ep, const float* y, const std::uint32_t* argmax) {
    check_epilogue(ep);
    backward_weights(s, x, OutputGrad<float>(s, dy, ep, y, argmax), dw, db);
}
void conv2d_backward_weights(const Conv2dShape& s, const double* x, const double* dy, double* dw, double* db,
                             const Conv2dEpilogue& ep, const double* y, const std::uint32_t* argmax) {
    check_epilogue(ep);
    backward_weights(s, x, OutputGrad<double>(s, dy, ep, y, argmax), dw, db);
}

}  // namespace ctgrad::kernels
