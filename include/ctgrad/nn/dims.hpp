#pragma once
/// \file Compile-time per-example shapes, propagated through a layer chain so that a size
/// mismatch between layers is a compile error naming both numbers.
#include <cstddef>

namespace ctgrad::nn {

/// A size given at run time (constructor argument) instead of a template argument.
inline constexpr std::size_t dynamic = 0;

/// Per-example shape (the batch dimension excluded) known at compile time; a 0 is a dimension
/// not known statically.
template <std::size_t... D>
struct Dims {
    /// The number of dimensions.
    static constexpr std::size_t rank = sizeof...(D);
};
/// Nothing is known about the shape.
struct AnyDims {};

namespace detail {
// Instantiated with the two numbers that must agree; the failing static_assert's context names them.
template <std::size_t LayerExpects, std::size_t InputHas>
struct LinearInFeatures {
    static_assert(LayerExpects == InputHas,
                  "nn::Linear: the input's feature count differs from the layer's; see "
                  "<LayerExpects, InputHas> in 'LinearInFeatures' above");
    static constexpr bool ok = true;
};
template <std::size_t LayerExpects, std::size_t InputHas>
struct Conv2dInChannels {
    static_assert(LayerExpects == InputHas,
                  "nn::Conv2d: the input's channel count differs from the layer's; see "
                  "<LayerExpects, InputHas> in 'Conv2dInChannels' above");
    static constexpr bool ok = true;
};
template <std::size_t Rank>
struct NeedsImages {
    static_assert(Rank == 3, "nn::Conv2d / nn::MaxPool2d need NCHW images (per-example rank 3)");
    static constexpr bool ok = true;
};
template <std::size_t Rank>
struct NeedsFlatInput {
    static_assert(Rank == 1, "nn::Linear needs a flat (batch, features) input: put nn::Flatten before it");
    static constexpr bool ok = true;
};
template <std::size_t Size, std::size_t Kernel>
struct KernelFits {
    static_assert(Size == 0 || Size >= Kernel, "a convolution or pooling window is larger than its (padded) input");
    static constexpr bool ok = true;
};
}  // namespace detail

}  // namespace ctgrad::nn
