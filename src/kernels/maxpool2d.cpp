// Max-pooling over NCHW planes, one (image, channel) plane per OpenMP iteration. Memory-bound, so the
// loops are kept simple; the common non-overlapping 2x2 window gets an unrolled path.
#include <ctgrad/kernels/maxpool2d.hpp>

#include <algorithm>
#include <cmath>
#include <omp.h>

namespace ctgrad::kernels {
namespace {

using idx = std::ptrdiff_t;

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

template <class T>
void forward(const Pool2dShape& s, const T* x, T* y, std::uint32_t* am) {
    const std::size_t H = s.in_h, Wd = s.in_w, k = s.kernel, st = s.stride, OH = s.out_h(), OW = s.out_w();
    const std::size_t planes = s.batch * s.channels;
#pragma omp parallel for schedule(static) num_threads(plane_threads(planes, H * Wd))
    for (idx pl = 0; pl < idx(planes); ++pl) {
        const T* xp = x + std::size_t(pl) * H * Wd;
        T* yp = y + std::size_t(pl) * OH * OW;
        std::uint32_t* ap = am + std::size_t(pl) * OH * OW;
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
#pragma omp parallel for schedule(static) num_threads(plane_threads(planes, HW))
    for (idx pl = 0; pl < idx(planes); ++pl) {
        T* dxp = dx + std::size_t(pl) * HW;
        const T* dyp = dy + std::size_t(pl) * OHW;
        const std::uint32_t* ap = am + std::size_t(pl) * OHW;
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
