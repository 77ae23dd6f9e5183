// Max-pooling over NCHW planes, one (image, channel) plane per OpenMP iteration. Memory-bound, so the
// loops are kept simple; the common non-overlapping 2x2 window gets a vector path (maxpool_plane.hpp).
#include "maxpool_plane.hpp"

#include <algorithm>
#include <cstdint>
#include <omp.h>

namespace ctgrad::kernels {
namespace {

using idx = std::ptrdiff_t;

// Planes are handed out dynamically in blocks of 64 so that a descheduled thread's share is taken
// over by the other (results do not depend on the split).
int plane_threads(std::size_t planes, std::size_t plane_work) {
    if (omp_in_parallel() || planes * plane_work < 16384) return 1;
    return std::max(1, std::min<int>(omp_get_max_threads(), int(planes)));
}

template <class T>
void forward(const Pool2dShape& s, const T* x, T* y, std::uint32_t* am) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
    const std::size_t planes = s.batch * s.channels;
#pragma omp parallel for schedule(dynamic, 64) num_threads(plane_threads(planes, HW))
    for (idx pl = 0; pl < idx(planes); ++pl)
        detail::pool_plane_forward(s, x + std::size_t(pl) * HW, s.in_w, y + std::size_t(pl) * OHW,
                                   am + std::size_t(pl) * OHW);
}

template <class T>
void backward(const Pool2dShape& s, const T* dy, const std::uint32_t* am, T* dx) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
    const std::size_t planes = s.batch * s.channels;
#pragma omp parallel for schedule(dynamic, 64) num_threads(plane_threads(planes, HW))
    for (idx pl = 0; pl < idx(planes); ++pl)
        detail::pool_plane_backward(s, dy + std::size_t(pl) * OHW, am + std::size_t(pl) * OHW,
                                    dx + std::size_t(pl) * HW);
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
