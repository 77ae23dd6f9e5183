// Convolution as per-image GEMM. The im2col buffer of one image (conv1 of LeNet: 25 x 784 floats,
// 78 KB; conv2: 150 x 100, 60 KB) stays in L2 between being written and being multiplied, instead of
// streaming a batch-sized im2col matrix through memory twice. The batch is split over OpenMP threads;
// the GEMMs inside run serially (they detect the enclosing parallel region).
#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>

#include <algorithm>
#include <omp.h>

namespace ctgrad::kernels {
namespace {

using idx = std::ptrdiff_t;  // OpenMP loop variable

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
                        const T* sp = src + (cr.lo + kw - p);  // contiguous run
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) d[ow] = sp[ow - cr.lo];
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
                        T* dp = dst + (cr.lo + kw - p);
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) dp[ow - cr.lo] += d[ow];
                    } else {
                        for (std::size_t ow = cr.lo; ow < cr.hi; ++ow) dst[ow * st + kw - p] += d[ow];
                    }
                }
            }
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
    const std::size_t OC = s.out_channels, K = s.in_channels * s.kernel * s.kernel, P = s.out_h() * s.out_w();
    const std::size_t in_sz = s.in_channels * s.in_h * s.in_w;
#pragma omp parallel num_threads(batch_threads(s.batch))
    {
        Scratch<T> col(is_pointwise(s) ? 0 : K * P);
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* xn = x + std::size_t(n) * in_sz;
            T* yn = y + std::size_t(n) * OC * P;
            const T* b = xn;
            if (!is_pointwise(s)) {
                im2col(s, xn, col.data());
                b = col.data();
            }
            if (bias)
                for (std::size_t oc = 0; oc < OC; ++oc) std::fill(yn + oc * P, yn + (oc + 1) * P, bias[oc]);
            gemm(false, false, OC, P, K, T(1), w, K, b, P, bias ? T(1) : T(0), yn, P);
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
    const std::size_t OC = s.out_channels, K = s.in_channels * s.kernel * s.kernel, P = s.out_h() * s.out_w();
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
        Scratch<T> col(is_pointwise(s) ? 0 : K * P);
#pragma omp for schedule(static)
        for (idx n = 0; n < idx(s.batch); ++n) {
            const T* xn = x + std::size_t(n) * in_sz;
            const T* dyn = dy + std::size_t(n) * OC * P;
            const T* b = xn;
            if (!is_pointwise(s)) {
                im2col(s, xn, col.data());
                b = col.data();
            }
            gemm(false, true, OC, K, P, T(1), dyn, P, b, P, T(1), pdw, K);
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
