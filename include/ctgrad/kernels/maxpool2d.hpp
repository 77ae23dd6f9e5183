#pragma once
/// \file 2-D max-pooling kernels (NCHW, square window, no padding), compiled once in src/kernels/.
#include <cstddef>
#include <cstdint>

namespace ctgrad::kernels {

/// Shape of a pooling: input batch x channels x in_h x in_w, window kernel x kernel moved by stride.
struct Pool2dShape {
    /// Batch size, channels, input height and width, window size and stride.
    ///@{
    std::size_t batch, channels, in_h, in_w, kernel, stride;
    ///@}
    /// Output height (in_h - kernel) / stride + 1.
    std::size_t out_h() const { return (in_h - kernel) / stride + 1; }
    /// Output width (in_w - kernel) / stride + 1.
    std::size_t out_w() const { return (in_w - kernel) / stride + 1; }
};

/// y = the maximum of each window; argmax = its index within the image plane (ih * in_w + iw).
/// Ties go to the first maximum in row-major window order (as PyTorch); a NaN counts as the maximum.
void maxpool2d_forward(const Pool2dShape& s, const float* x, float* y, std::uint32_t* argmax);
/// The double-precision version of the function above.
void maxpool2d_forward(const Pool2dShape& s, const double* x, double* y, std::uint32_t* argmax);

/// dx = dy routed to the arg-max of each window. Overwrites dx (zeroed, then scatter-added so that
/// overlapping windows accumulate).
void maxpool2d_backward(const Pool2dShape& s, const float* dy, const std::uint32_t* argmax, float* dx);
/// The double-precision version of the function above.
void maxpool2d_backward(const Pool2dShape& s, const double* dy, const std::uint32_t* argmax, double* dx);

}  // namespace ctgrad::kernels
