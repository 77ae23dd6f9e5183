// The public convolution entry points: check the epilogue, then pick the algorithm by shape.
//  - stride 1: the direct kernels (conv2d_direct.cpp); the input gradient of a 1x1 unpadded
//    convolution is one GEMM per image instead (conv2d_gemm.cpp);
//  - any other stride: im2col + GEMM per image (conv2d_gemm.cpp).
// Both paths give results that do not depend on the thread count (conv2d_chunks.hpp).
#include "conv2d_geometry.hpp"
#include "conv2d_paths.hpp"

#include <ctgrad/kernels/conv2d.hpp>

namespace ctgrad::kernels {
namespace {
using namespace detail;

template <class T>
void forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
             std::uint32_t* argmax) {
    check_epilogue(ep);
    if (s.stride == 1) return direct_forward(s, x, w, bias, y, ep, argmax);
    gemm_forward(s, x, w, bias, y, ep, argmax);
}

template <class T>
void backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx, const Conv2dEpilogue& ep, const T* y,
                    const std::uint32_t* argmax) {
    check_epilogue(ep);
    const OutputGrad<T> og(s, dy, ep, y, argmax);
    if (s.stride == 1 && !is_pointwise(s)) return direct_backward_input(s, og, w, dx);
    gemm_backward_input(s, og, w, dx);
}

template <class T>
void backward_weights(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* db, const Conv2dEpilogue& ep,
                      const T* y, const std::uint32_t* argmax) {
    check_epilogue(ep);
    const OutputGrad<T> og(s, dy, ep, y, argmax);
    if (s.stride == 1) return direct_backward_weights(s, x, og, dw, db);
    gemm_backward_weights(s, x, og, dw, db);
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                    const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    forward(s, x, w, bias, y, ep, argmax);
}
void conv2d_forward(const Conv2dShape& s, const double* x, const double* w, const double* bias, double* y,
                    const Conv2dEpilogue& ep, std::uint32_t* argmax) {
    forward(s, x, w, bias, y, ep, argmax);
}
void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx, const Conv2dEpilogue& ep,
                           const float* y, const std::uint32_t* argmax) {
    backward_input(s, dy, w, dx, ep, y, argmax);
}
void conv2d_backward_input(const Conv2dShape& s, const double* dy, const double* w, double* dx,
                           const Conv2dEpilogue& ep, const double* y, const std::uint32_t* argmax) {
    backward_input(s, dy, w, dx, ep, y, argmax);
}
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                             const Conv2dEpilogue& ep, const float* y, const std::uint32_t* argmax) {
    backward_weights(s, x, dy, dw, db, ep, y, argmax);
}
void conv2d_backward_weights(const Conv2dShape& s, const double* x, const double* dy, double* dw, double* db,
                             const Conv2dEpilogue& ep, const double* y, const std::uint32_t* argmax) {
    backward_weights(s, x, dy, dw, db, ep, y, argmax);
}

}  // namespace ctgrad::kernels
