#pragma once
/// \file data::to_images<T>: uint8 images to NCHW floating-point tensors of any precision.
#include <concepts>
#include <cstdint>

#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// Converts uint8 images (N x rows x cols) to NCHW (N x 1 x rows x cols) of T scaled to [0, 1]
/// (pixel / 255), as to_float_images does for float; `to_images<double>` feeds double-precision
/// models (gradient checks on real images).
template <std::floating_point T>
Tensor<T, 4> to_images(const Tensor<std::uint8_t, 3>& images) {
    auto out = Tensor<T, 4>::from_shape({images.shape(0), 1, images.shape(1), images.shape(2)});
    const std::uint8_t* src = images.data();
    T* dst = out.data();
    for (std::size_t i = 0, n = images.size(); i < n; ++i) dst[i] = static_cast<T>(src[i]) / T(255);
    return out;
}

}  // namespace ctgrad::data
