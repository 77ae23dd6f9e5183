// Max-pooling over NCHW planes, one (image, channel) plane per OpenMP iteration. Memory-bound, so the
// loops are kept simple; the common non-overlapping 2x2 window gets an unrolled path.
#include <ctgrad/kernels/maxpool2d.hpp>

#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <omp.h>
#include <type_traits>

namespace ctgrad::kernels {
namespace {

using idx = std::ptrdiff_t;

// Planes are handed out dynamically in blocks of 64 so that a descheduled thread's share is taken
// over by the other (results do not depend on the split).
int plane_threads(std::size_t planes, std::size_t plane_work) {
    if (omp_in_parallel() || planes * plane_work < 16384) return 1;
    return std::max(1, std::min<int>(omp_get_max_threads(), int(planes)));
}

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
inline __mmask16 better_mask(__m512 v, __m512 best) {
    const __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    const __mmask16 nv = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), nb = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
    return gt | (nv & __mmask16(~nb));
}
const __m512i kEven = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
const __m512i kOdd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
const __m512i kLo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
const __m512i kHi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

void forward_2x2(const Pool2dShape& s, const float* xp, float* yp, std::uint32_t* ap) {
    const std::size_t Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    const __m512i step2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (std::size_t oh = 0; oh < OH; ++oh) {
        const float* r0 = xp + 2 * oh * Wd;
        const float* r1 = r0 + Wd;
        for (std::size_t ow = 0; ow < OW; ow += 16) {
            const std::size_t n = std::min<std::size_t>(16, OW - ow);
            const __mmask16 mlo = lanes(2 * n), mhi = lanes(2 * n > 16 ? 2 * n - 16 : 0);
            const __m512 a0 = _mm512_maskz_loadu_ps(mlo, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(mhi, r0 + 2 * ow + 16);
            const __m512 b0 = _mm512_maskz_loadu_ps(mlo, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(mhi, r1 + 2 * ow + 16);
            const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(int(2 * oh * Wd + 2 * ow)), step2);
            __m512 best = _mm512_permutex2var_ps(a0, kEven, a1);
            __m512i bi = base;
            __m512 v = _mm512_permutex2var_ps(a0, kOdd, a1);
            __mmask16 m = better_mask(v, best);
            best = _mm512_mask_mov_ps(best, m, v);
            bi = _mm512_mask_mov_epi32(bi, m, _mm512_add_epi32(base, _mm512_set1_epi32(1)));
            v = _mm512_permutex2var_ps(b0, kEven, b1);
            m = better_mask(v, best);
            best = _mm512_mask_mov_ps(best, m, v);
            bi = _mm512_mask_mov_epi32(bi, m, _mm512_add_epi32(base, _mm512_set1_epi32(int(Wd))));
            v = _mm512_permutex2var_ps(b0, kOdd, b1);
            m = better_mask(v, best);
            best = _mm512_mask_mov_ps(best, m, v);
            bi = _mm512_mask_mov_epi32(bi, m, _mm512_add_epi32(base, _mm512_set1_epi32(int(Wd + 1))));
            const __mmask16 mo = lanes(n);
            _mm512_mask_storeu_ps(yp + oh * OW + ow, mo, best);
            _mm512_mask_storeu_epi32(ap + oh * OW + ow, mo, bi);
        }
    }
}

// Backward of non-overlapping 2x2 windows: every input position gets its window's gradient or zero,
// written once (no zero-fill pass, no scatter).
void backward_2x2(const Pool2dShape& s, const float* dyp, const std::uint32_t* ap, float* dxp) {
    const std::size_t H = s.in_h, Wd = s.in_w, OH = s.out_h(), OW = s.out_w();
    const __m512i step2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (std::size_t oh = 0; oh < OH; ++oh) {
        float* r0 = dxp + 2 * oh * Wd;
        float* r1 = r0 + Wd;
        for (std::size_t ow = 0; ow < OW; ow += 16) {
            const std::size_t n = std::min<std::size_t>(16, OW - ow);
            const __mmask16 mo = lanes(n), mlo = lanes(2 * n), mhi = lanes(2 * n > 16 ? 2 * n - 16 : 0);
            const __m512 g = _mm512_maskz_loadu_ps(mo, dyp + oh * OW + ow);
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
    for (std::size_t h = 2 * OH; h < H; ++h) std::fill(dxp + h * Wd, dxp + (h + 1) * Wd, 0.0f);
}
#endif

template <class T>
void forward(const Pool2dShape& s, const T* x, T* y, std::uint32_t* am) {
    const std::size_t H = s.in_h, Wd = s.in_w, k = s.kernel, st = s.stride, OH = s.out_h(), OW = s.out_w();
    const std::size_t planes = s.batch * s.channels;
#pragma omp parallel for schedule(dynamic, 64) num_threads(plane_threads(planes, H * Wd))
    for (idx pl = 0; pl < idx(planes); ++pl) {
        const T* xp = x + std::size_t(pl) * H * Wd;
        T* yp = y + std::size_t(pl) * OH * OW;
        std::uint32_t* ap = am + std::size_t(pl) * OH * OW;
#if XSIMD_WITH_AVX512F
        if constexpr (std::is_same_v<T, float>) {
            if (k == 2 && st == 2) {
                forward_2x2(s, xp, yp, ap);
                continue;
            }
        }
#endif
        if (k == 2 && st == 2) {
            for (std::size_t oh = 0; oh < OH; ++oh) {
                const T* r0 = xp + 2 * oh * Wd;
                const T* r1 = r0 + Wd;
                for (std::size_t ow = 0; ow < OW; ++ow) {
                    const std::size_t i0 = 2 * oh * Wd + 2 * ow;
                    T best = r0[2 * ow];
                    std::size_t bi = i0;
                    if (better(r0[2 * ow + 1], best)) best = r0[2 * ow + 1], bi = i0 + 1;
                    if (better(r1[2 * ow], best)) best = r1[2 * ow], bi = i0 + Wd;
                    if (better(r1[2 * ow + 1], best)) best = r1[2 * ow + 1], bi = i0 + Wd + 1;
                    yp[oh * OW + ow] = best;
                    ap[oh * OW + ow] = std::uint32_t(bi);
                }
            }
            continue;
        }
        for (std::size_t oh = 0; oh < OH; ++oh)
            for (std::size_t ow = 0; ow < OW; ++ow) {
                const std::size_t i0 = oh * st * Wd + ow * st;
                T best = xp[i0];
                std::size_t bi = i0;
                for (std::size_t kh = 0; kh < k; ++kh)
                    for (std::size_t kw = 0; kw < k; ++kw) {
                        const std::size_t i = i0 + kh * Wd + kw;
                        if (better(xp[i], best)) best = xp[i], bi = i;
                    }
                yp[oh * OW + ow] = best;
                ap[oh * OW + ow] = std::uint32_t(bi);
            }
    }
}

template <class T>
void backward(const Pool2dShape& s, const T* dy, const std::uint32_t* am, T* dx) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
    const std::size_t planes = s.batch * s.channels;
#pragma omp parallel for schedule(dynamic, 64) num_threads(plane_threads(planes, HW))
    for (idx pl = 0; pl < idx(planes); ++pl) {
        T* dxp = dx + std::size_t(pl) * HW;
        const T* dyp = dy + std::size_t(pl) * OHW;
        const std::uint32_t* ap = am + std::size_t(pl) * OHW;
#if XSIMD_WITH_AVX512F
        if constexpr (std::is_same_v<T, float>) {
            // Narrow planes (LeNet pool2: 5 windows a row) leave most lanes idle; the scatter wins there.
            if (s.kernel == 2 && s.stride == 2 && s.out_w() >= 8) {
                backward_2x2(s, dyp, ap, dxp);
                continue;
            }
        }
#endif
        std::fill(dxp, dxp + HW, T(0));
        for (std::size_t o = 0; o < OHW; ++o) dxp[ap[o]] += dyp[o];
    }
}

}  // namespace

void maxpool2d_forward(const Pool2dShape& s, const float* x, float* y, std::uint32_t* argmax) {
    forward(s, x, y, argmax);
}
void maxpool2d_forward(const Pool2dShape& s, const double* x, double* y, std::uint32_t* argmax) {
    forward(s, x, y, argmax);
}
void maxpool2d_backward(const Pool2dShape& s, const float* dy, const std::uint32_t* argmax, float* dx) {
    backward(s, dy, argmax, dx);
}
void maxpool2d_backward(const Pool2dShape& s, const double* dy, const std::uint32_t* argmax, double* dx) {
    backward(s, dy, argmax, dx);
}

}  // namespace ctgrad::kernels
