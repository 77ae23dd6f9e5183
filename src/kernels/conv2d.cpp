// Convolution as per-image GEMM. The im2col matrix of one image (conv1 of LeNet: 25 x 784 floats,
// 78 KB; conv2: 150 x 100, 60 KB) stays in L2 between being written and being multiplied, instead of
// streaming a batch-sized im2col matrix through memory twice. For the forward pass and the weight
// gradient it is written straight into the GEMM's packed-B layout from a zero-padded copy of the image,
// through precomputed offset tables (a gather the compiler vectorises), so there is no separate
// packing copy and no bounds logic in the inner loop. The batch is split over OpenMP threads; the
// GEMMs inside run serially (they detect the enclosing parallel region).
#include "gemm_core.hpp"

#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>

#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
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
            for (std::size_t i = 0; i < s.in_w; ++i) d[p + i] = src[i];
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

template <class T>
void forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y) {
    const Geometry g(s);
    const std::size_t OC = s.out_channels, K = g.K, P = g.P;
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> xpad(s.in_channels * g.Hp * g.Wp), bp(K * detail::round_up_nr<T>(P));
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            T* yn = y + std::size_t(n) * OC * P;
            pad_image(s, g, x + std::size_t(n) * in_sz, xpad.data());
            pack_gather(xpad.data(), g.koff.data(), K, g.qoff.data(), P, bp.data());
            if (bias)
                for (std::size_t oc = 0; oc < OC; ++oc) std::fill(yn + oc * P, yn + (oc + 1) * P, bias[oc]);
            detail::gemm_prepacked_b(false, OC, P, K, T(1), w, K, bp.data(), bias ? T(1) : T(0), yn, P);
        }
    }
}

template <class T>
void backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
    const std::size_t OC = s.out_channels, K = s.in_channels * s.kernel * s.kernel, P = s.out_h() * s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> col(is_pointwise(s) ? 0 : K * P);
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* dyn = dy + std::size_t(n) * OC * P;
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
void backward_weights(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* db) {
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
        Scratch<T> xpad(s.in_channels * g.Hp * g.Wp), bp(P * detail::round_up_nr<T>(K));
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* dyn = dy + std::size_t(n) * OC * P;
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

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
    forward(s, x, w, bias, y);
}
void conv2d_forward(const Conv2dShape& s, const double* x, const double* w, const double* bias, double* y) {
    forward(s, x, w, bias, y);
}
void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
    backward_input(s, dy, w, dx);
}
void conv2d_backward_input(const Conv2dShape& s, const double* dy, const double* w, double* dx) {
    backward_input(s, dy, w, dx);
}
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db) {
    backward_weights(s, x, dy, dw, db);
}
void conv2d_backward_weights(const Conv2dShape& s, const double* x, const double* dy, double* dw, double* db) {
    backward_weights(s, x, dy, dw, db);
}

}  // namespace ctgrad::kernels
