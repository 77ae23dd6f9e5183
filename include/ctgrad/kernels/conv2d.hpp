#pragma once
/// \file 2-D convolution kernels (NCHW, square kernel, zero padding), compiled once in src/kernels/.
///
/// Each image is lowered to a GEMM through an im2col buffer small enough to stay in L2; the batch is
/// split over OpenMP threads (omp_get_max_threads()). Temporaries come from ctgrad::Scratch.
#include <cstddef>

namespace ctgrad::kernels {

/// Shape of a convolution: input batch x in_channels x in_h x in_w, weights
/// out_channels x in_channels x kernel x kernel.
struct Conv2dShape {
    std::size_t batch, in_channels, in_h, in_w, out_channels, kernel, stride, padding;
    /// Output height (in_h + 2 padding - kernel) / stride + 1.
    std::size_t out_h() const { return (in_h + 2 * padding - kernel) / stride + 1; }
    /// Output width (in_w + 2 padding - kernel) / stride + 1.
    std::size_t out_w() const { return (in_w + 2 * padding - kernel) / stride + 1; }
};

/// y[n,oc,oh,ow] = bias[oc] (if bias) + sum_{ic,kh,kw} x[n,ic,oh*s+kh-p,ow*s+kw-p] * w[oc,ic,kh,kw].
/// Overwrites y; bias may be nullptr. relu: y = max(0, ...) instead (fused conv + bias + ReLU).
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                    bool relu = false);
void conv2d_forward(const Conv2dShape& s, const double* x, const double* w, const double* bias, double* y,
                    bool relu = false);

/// dx = d loss / d x given dy = d loss / d y. Overwrites dx.
/// relu_y (optional): the output of a fused conv + ReLU forward; dy is then the gradient with respect
/// to that ReLU's output and is masked by relu_y > 0 on the fly (no separate ReLU-backward pass).
void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                           const float* relu_y = nullptr);
void conv2d_backward_input(const Conv2dShape& s, const double* dy, const double* w, double* dx,
                           const double* relu_y = nullptr);

/// dw += d loss / d w and, if db is not nullptr, db[oc] += sum over n, oh, ow of dy. Accumulates.
/// relu_y as for conv2d_backward_input.
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                             const float* relu_y = nullptr);
void conv2d_backward_weights(const Conv2dShape& s, const double* x, const double* dy, double* dw, double* db,
                             const double* relu_y = nullptr);

}  // namespace ctgrad::kernels
