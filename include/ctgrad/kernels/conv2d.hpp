#pragma once
/// \file 2-D convolution kernels (NCHW, square kernel, zero padding), compiled once in src/kernels/.
///
/// Stride-1 convolutions run as direct kernels over a zero-padded copy of each image; others lower
/// each image to a GEMM through an im2col buffer small enough to stay in L2. The batch is split over
/// the library's threads (parallel::num_threads(), parallel/thread_pool.hpp); every result, including
/// the weight and bias gradients summed over the batch, is bit-identical for any thread count.
/// Temporaries come from ctgrad::Scratch.
#include <cstddef>
#include <cstdint>

namespace ctgrad::kernels {

/// Shape of a convolution: input batch x in_channels x in_h x in_w, weights
/// out_channels x in_channels x kernel x kernel.
struct Conv2dShape {
    /// Batch size, input channels, input height and width, output channels, kernel size, stride and padding.
    ///@{
    std::size_t batch, in_channels, in_h, in_w, out_channels, kernel, stride, padding;
    ///@}
    /// Output height (in_h + 2 padding - kernel) / stride + 1.
    std::size_t out_h() const { return (in_h + 2 * padding - kernel) / stride + 1; }
    /// Output width (in_w + 2 padding - kernel) / stride + 1.
    std::size_t out_w() const { return (in_w + 2 * padding - kernel) / stride + 1; }
};

/// Work fused into the convolution's pass over each image, applied in this order to its output:
/// `relu` (max(0, y)), then pooling over `pool` x `pool` windows moved by `pool_stride` (pool = 0:
/// none): the window's maximum, or with `avg_pool` its mean (sum in row-major window order divided by
/// pool * pool). The convolution's own output is then never stored for the whole batch.
/// Max pooling ties go to the first maximum in row-major window order; a NaN counts as the maximum.
/// `relu` together with `avg_pool` is refused (std::invalid_argument): the backward pass would need
/// the ReLU mask of every pre-pooling value, which the averaged output does not determine.
struct Conv2dEpilogue {
    /// Apply ReLU to the output (fused).
    bool relu = false;
    /// Pooling window and stride applied to the output (fused; 0: none).
    ///@{
    std::size_t pool = 0, pool_stride = 0;
    ///@}
    /// With pool > 0: average the window instead of taking its maximum (argmax is then unused and may
    /// be nullptr).
    bool avg_pool = false;
    /// Layer-output height for a convolution output of height h (h itself without pooling).
    std::size_t out_h(std::size_t h) const { return pool ? (h - pool) / pool_stride + 1 : h; }
    /// Layer-output width for a convolution output of width w.
    std::size_t out_w(std::size_t w) const { return out_h(w); }
};

/// The layer output y = epilogue(conv(x) + bias): y[n,oc,oh,ow] = bias[oc] (if bias) +
/// sum_{ic,kh,kw} x[n,ic,oh*s+kh-p,ow*s+kw-p] * w[oc,ic,kh,kw], then ReLU and pooling as `ep` says.
/// Overwrites y; bias may be nullptr. With pooling, argmax (same size as y) receives each window's
/// arg-max as an index into the convolution's output plane (oh * out_w + ow); with avg_pool, argmax
/// is not used.
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y,
                    const Conv2dEpilogue& ep = {}, std::uint32_t* argmax = nullptr);
/// The double-precision version of the function above.
void conv2d_forward(const Conv2dShape& s, const double* x, const double* w, const double* bias, double* y,
                    const Conv2dEpilogue& ep = {}, std::uint32_t* argmax = nullptr);

/// dx = d loss / d x given dy = d loss / d (layer output), of y's shape. Overwrites dx. With an
/// epilogue, y and argmax are the forward's outputs: dy is routed back through pooling (argmax; with
/// avg_pool spread evenly over each window) and masked by y > 0 (ReLU) per image, on the fly.
void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx,
                           const Conv2dEpilogue& ep = {}, const float* y = nullptr,
                           const std::uint32_t* argmax = nullptr);
/// The double-precision version of the function above.
void conv2d_backward_input(const Conv2dShape& s, const double* dy, const double* w, double* dx,
                           const Conv2dEpilogue& ep = {}, const double* y = nullptr,
                           const std::uint32_t* argmax = nullptr);

/// dw += d loss / d w and, if db is not nullptr, db[oc] += d loss / d bias[oc]. Accumulates.
/// dy, ep, y and argmax as for conv2d_backward_input.
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db,
                             const Conv2dEpilogue& ep = {}, const float* y = nullptr,
                             const std::uint32_t* argmax = nullptr);
/// The double-precision version of the function above.
void conv2d_backward_weights(const Conv2dShape& s, const double* x, const double* dy, double* dw, double* db,
                             const Conv2dEpilogue& ep = {}, const double* y = nullptr,
                             const std::uint32_t* argmax = nullptr);

}  // namespace ctgrad::kernels
