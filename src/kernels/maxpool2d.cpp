// Max-pooling over NCHW planes, (image, channel) planes in chunks of 64 spread over the threads.
// Memory-bound, so the loops are kept simple; the common non-overlapping 2x2 window gets a vector
// path (maxpool_plane.hpp).
#include "maxpool_plane.hpp"

#include <ctgrad/parallel/thread_pool.hpp>

#include <algorithm>
#include <cstdint>

namespace ctgrad::kernels {
namespace {

// Planes are claimed in chunks of 64 so that a descheduled thread's share is taken over by the
// others (results do not depend on the split). Small problems stay on the calling thread.
constexpr std::size_t kPlanesPerChunk = 64;

template <class F>
void for_each_plane(std::size_t planes, std::size_t plane_work, F f) {
    const std::size_t chunks = planes * plane_work < 16384 ? 1 : (planes + kPlanesPerChunk - 1) / kPlanesPerChunk;
    const std::size_t per = chunks == 1 ? planes : kPlanesPerChunk;
    parallel::for_each_chunk(chunks, [&](std::size_t c) {
        for (std::size_t pl = c * per; pl < std::min(planes, (c + 1) * per); ++pl) f(pl);
    });
}

template <class T>
void forward(const Pool2dShape& s, const T* x, T* y, std::uint32_t* am) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
    for_each_plane(s.batch * s.channels, HW, [&](std::size_t pl) {
        detail::pool_plane_forward(s, x + pl * HW, s.in_w, y + pl * OHW, am + pl * OHW);
    });
}

template <class T>
void backward(const Pool2dShape& s, const T* dy, const std::uint32_t* am, T* dx) {
    const std::size_t HW = s.in_h * s.in_w, OHW = s.out_h() * s.out_w();
    for_each_plane(s.batch * s.channels, HW, [&](std::size_t pl) {
        detail::pool_plane_backward(s, dy + pl * OHW, am + pl * OHW, dx + pl * HW);
    });
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
