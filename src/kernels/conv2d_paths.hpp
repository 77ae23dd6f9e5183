#pragma once
// The two algorithms behind the public conv2d_* functions (conv2d.cpp picks one per shape):
//  - direct (conv2d_direct.cpp): stride 1; register-tiled 1-D correlations over the padded width,
//    no im2col, no packing;
//  - im2col + GEMM (conv2d_gemm.cpp): any stride; one image's im2col matrix at a time, written
//    straight into the GEMM's packed layout.
// Each is instantiated for float and double in its own translation unit. Private to src/kernels.
#include "conv2d_epilogue.hpp"

#include <ctgrad/kernels/conv2d.hpp>

#include <cstdint>

namespace ctgrad::kernels::detail {

// y = epilogue(conv(x) + bias), as conv2d_forward.
template <class T>
void direct_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
                    std::uint32_t* argmax);
template <class T>
void gemm_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y, const Conv2dEpilogue& ep,
                  std::uint32_t* argmax);

// dx = d loss / d x (overwritten), as conv2d_backward_input. The direct one needs a kernel wider than
// 1 x 1 (a pointwise convolution is a single GEMM per image).
template <class T>
void direct_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx);
template <class T>
void gemm_backward_input(const Conv2dShape& s, const OutputGrad<T>& og, const T* w, T* dx);

// dw += d loss / d w, db += d loss / d bias (db may be nullptr), as conv2d_backward_weights.
template <class T>
void direct_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db);
template <class T>
void gemm_backward_weights(const Conv2dShape& s, const T* x, const OutputGrad<T>& og, T* dw, T* db);

}  // namespace ctgrad::kernels::detail
