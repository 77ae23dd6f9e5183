// Max pooling of one plane, shared by the pooling kernels (src/kernels/maxpool2d.cpp) and the
// convolution's fused pooling (conv2d_epilogue.hpp, and the tiles of conv2d_direct.cpp that pool in
// registers). Internal header.
#pragma once
#include <ctgrad/kernels/maxpool2d.hpp>

#include <ctgrad/simd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace ctgrad::kernels::detail {

// v replaces the current best if strictly greater (so the first maximum wins ties), or if it is the
// first NaN (NaN propagates, as in PyTorch).
template <class T>
inline bool better(T v, T best) {
    return v > best || (std::isnan(v) && !std::isnan(best));
}

#if XSIMD_WITH_AVX512F
// 2x2 windows with stride 2, float, AVX-512: 16 windows per step. Two (masked) loads per input row
// are split into even and odd columns with a two-source permute; the four candidates are compared in
// row-major window order with the scalar path's rule (strictly greater, or first NaN), so the results
// and arg-maxes are bit-identical to it. The scalar loop was ~6% of a LeNet training step.
inline __mmask16 lanes(std::size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }
// better() as two compares: where best is not NaN, "v > best or v is NaN" is "not v <= best".
inline __mmask16 better_mask(__m512 v, __m512 best) {
    return _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(best, best, _CMP_ORD_Q), v, best, _CMP_NLE_UQ);
}
inline __m512i even_lanes() { return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); }
inline __m512i odd_lanes() { return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31); }
inline __m512i interleave_lo() { return _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); }
inline __m512i interleave_hi() { return _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); }

// The 2x2 windows of two rows of up to 32 columns held in registers: a0 | a1 is the top row (columns
// 0-15 | 16-31), b0 | b1 the bottom row. Lane j gets window j's maximum and its arg-max, counted from
// base (the top-left pixel of window 0) with rows Wd apart. Lanes past the last whole window hold
// junk.
struct Max2x2 {
    __m512 best;
    __m512i arg;
};
inline Max2x2 max_2x2_rows(__m512 a0, __m512 a1, __m512 b0, __m512 b1, int base, int Wd) {
    const __m512i kEven = even_lanes(), kOdd = odd_lanes();
    const __m512i at = _mm512_add_epi32(_mm512_set1_epi32(base), kEven);  // window j's top-left: base + 2j
    Max2x2 r{_mm512_permutex2var_ps(a0, kEven, a1), at};
    const __m512 cand[3] = {_mm512_permutex2var_ps(a0, kOdd, a1), _mm512_permutex2var_ps(b0, kEven, b1),
                            _mm512_permutex2var_ps(b0, kOdd, b1)};
    const int off[3] = {1, Wd, Wd + 1};
    for (std::size_t t = 0; t < 3; ++t) {
        const __mmask16 m = better_mask(cand[t], r.best);
        r.best = _mm512_mask_mov_ps(r.best, m, cand[t]);
        r.arg = _mm512_mask_mov_epi32(r.arg, m, _mm512_add_epi32(at, _mm512_set1_epi32(off[t])));
    }
    return r;
}

// Rows of xp are ld apart (ld >= in_w); arg-max indices count in_w per row.
inline void forward_2x2(const Pool2dShape& s, const float* xp, std::size_t ld, float* yp, std::uint32_t* ap) {
    const std::size_t Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    for (std::size_t oh = 0; oh < OH; ++oh) {
        const float* r0 = xp + 2 * oh * ld;
        const float* r1 = r0 + ld;
        for (std::size_t ow = 0; ow < OW; ow += 16) {
            const std::size_t n = std::min<std::size_t>(16, OW - ow);
            const __mmask16 mlo = lanes(2 * n), mhi = lanes(2 * n > 16 ? 2 * n - 16 : 0);
            const Max2x2 r = max_2x2_rows(
                _mm512_maskz_loadu_ps(mlo, r0 + 2 * ow), _mm512_maskz_loadu_ps(mhi, r0 + 2 * ow + 16),
                _mm512_maskz_loadu_ps(mlo, r1 + 2 * ow), _mm512_maskz_loadu_ps(mhi, r1 + 2 * ow + 16),
                int(2 * oh * Wd + 2 * ow), int(Wd));
            const __mmask16 mo = lanes(n);
            _mm512_mask_storeu_ps(yp + oh * OW + ow, mo, r.best);
            _mm512_mask_storeu_epi32(ap + oh * OW + ow, mo, r.arg);
        }
    }
}

// Backward of non-overlapping 2x2 windows: every input position gets its window's gradient or zero,
// written once (no zero-fill pass, no scatter), in rows ld >= in_w apart (the columns past in_w are
// not written). relu_y: as for pool_plane_backward.
inline void backward_2x2(const Pool2dShape& s, const float* dyp, const std::uint32_t* ap, float* dxp,
                         const float* relu_y, std::size_t ld) {
    const std::size_t H = s.in_h, Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    const __m512i kLo = interleave_lo(), kHi = interleave_hi();
    const __m512i step2 = even_lanes();  // window j's top-left column: 2j
    for (std::size_t oh = 0; oh < OH; ++oh) {
        float* r0 = dxp + 2 * oh * ld;
        float* r1 = r0 + ld;
        for (std::size_t ow = 0; ow < OW; ow += 16) {
            const std::size_t n = std::min<std::size_t>(16, OW - ow);
            const __mmask16 mo = lanes(n), mlo = lanes(2 * n), mhi = lanes(2 * n > 16 ? 2 * n - 16 : 0);
            __m512 g = _mm512_maskz_loadu_ps(mo, dyp + oh * OW + ow);
            if (relu_y)
                g = _mm512_maskz_mov_ps(
                    _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mo, relu_y + oh * OW + ow), _mm512_setzero_ps(), _CMP_GT_OQ), g);
            const __m512i rel = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(mo, ap + oh * OW + ow),
                                                 _mm512_add_epi32(_mm512_set1_epi32(int(2 * oh * Wd + 2 * ow)), step2));
            const __m512 g00 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512()), g);
            const __m512 g01 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(1)), g);
            const __m512 g10 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(int(Wd))), g);
            const __m512 g11 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(int(Wd + 1))), g);
            _mm512_mask_storeu_ps(r0 + 2 * ow, mlo, _mm512_permutex2var_ps(g00, kLo, g01));
            _mm512_mask_storeu_ps(r0 + 2 * ow + 16, mhi, _mm512_permutex2var_ps(g00, kHi, g01));
            _mm512_mask_storeu_ps(r1 + 2 * ow, mlo, _mm512_permutex2var_ps(g10, kLo, g11));
            _mm512_mask_storeu_ps(r1 + 2 * ow + 16, mhi, _mm512_permutex2var_ps(g10, kHi, g11));
        }
        if (Wd > 2 * OW) r0[Wd - 1] = r1[Wd - 1] = 0.0f;  // odd width: the last column is in no window
    }
    for (std::size_t h = 2 * OH; h < H; ++h) std::fill(dxp + h * ld, dxp + h * ld + Wd, 0.0f);
}

// One 2x2 window over 16 channels at once, for a convolution vectorised over its output channels:
// p00, p01, p10, p11 hold the window's four pixels (row-major; pixel p00 at index i0 of the
// convolution's output plane, rows OW apart). The maximum and arg-max by forward_2x2's rule
// (strictly greater, or the first NaN), ReLU'd if asked (max(0, v) keeps a NaN, as std::max(v, 0)
// does), are scattered to y[c * plane] and am[c * plane] for the channels c < 16.
inline void pool_2x2_channels(__m512 p00, __m512 p01, __m512 p10, __m512 p11, std::uint32_t i0, std::uint32_t OW,
                              bool relu, std::uint32_t plane, float* y, std::uint32_t* am) {
    __m512 best = p00;
    __m512i bi = _mm512_set1_epi32(int(i0));
    const __m512 cand[3] = {p01, p10, p11};
    const std::uint32_t ci[3] = {i0 + 1, i0 + OW, i0 + OW + 1};
    for (std::size_t t = 0; t < 3; ++t) {
        const __mmask16 m = better_mask(cand[t], best);
        best = _mm512_mask_mov_ps(best, m, cand[t]);
        bi = _mm512_mask_mov_epi32(bi, m, _mm512_set1_epi32(int(ci[t])));
    }
    if (relu) best = _mm512_max_ps(_mm512_setzero_ps(), best);
    const __m512i planes = _mm512_mullo_epi32(_mm512_set1_epi32(int(plane)),
                                              _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm512_i32scatter_ps(y, planes, best, 4);
    _mm512_i32scatter_epi32(am, planes, bi, 4);
}
#endif

/// Pools one plane (rows of x are ld apart, ld >= s.in_w): y and argmax (ih * in_w + iw) dense.
template <class T>
void pool_plane_forward(const Pool2dShape& s, const T* xp, std::size_t ld, T* yp, std::uint32_t* ap) {
    const std::size_t Wd = s.in_w, k = s.kernel, st = s.stride, OH = s.out_h(), OW = s.out_w();
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float>) {
        if (k == 2 && st == 2) return forward_2x2(s, xp, ld, yp, ap);
    }
#endif
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            const T* win = xp + oh * st * ld + ow * st;
            T best = win[0];
            std::size_t bh = 0, bw = 0;
            for (std::size_t kh = 0; kh < k; ++kh)
                for (std::size_t kw = 0; kw < k; ++kw)
                    if (better(win[kh * ld + kw], best)) best = win[kh * ld + kw], bh = kh, bw = kw;
            yp[oh * OW + ow] = best;
            ap[oh * OW + ow] = std::uint32_t((oh * st + bh) * Wd + ow * st + bw);
        }
}

/// True when pool_plane_backward takes its vectorised path for this shape, the one that can write
/// rows of any stride. Narrow planes (LeNet pool2: 5 windows a row) leave most lanes idle; the
/// scatter wins there.
template <class T>
inline bool pool_backward_vectorised(const Pool2dShape& s) {
#if XSIMD_WITH_AVX512F
    return std::is_same_v<T, float> && s.kernel == 2 && s.stride == 2 && s.out_w() >= 8;
#else
    (void)s;
    return false;
#endif
}

/// dx (one dense in_h x in_w plane, overwritten) = dy routed to each window's arg-max; with relu_y
/// (the pooled output of a ReLU'd input), only where relu_y > 0. With ld > in_w (only where
/// pool_backward_vectorised), dx's rows are ld apart and the columns past in_w are not written.
template <class T>
void pool_plane_backward(const Pool2dShape& s, const T* dyp, const std::uint32_t* ap, T* dxp,
                         const T* relu_y = nullptr, [[maybe_unused]] std::size_t ld = 0) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float>) {
        if (pool_backward_vectorised<T>(s)) return backward_2x2(s, dyp, ap, dxp, relu_y, ld ? ld : s.in_w);
    }
#endif
    assert((ld == 0 || ld == s.in_w) && "pool_plane_backward: rows of another stride need the vectorised path");
    std::fill(dxp, dxp + HW, T(0));
    for (std::size_t o = 0; o < OHW; ++o)  // += : windows may overlap
        if (!relu_y || relu_y[o] > T(0)) dxp[ap[o]] += dyp[o];
}

}  // namespace ctgrad::kernels::detail
