#pragma once
/// \file Activation layers: nn::ReLU, nn::Sigmoid, nn::Tanh, nn::Softplus (elementwise, fused into their region).
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/functions.hpp>

namespace ctgrad::nn {

namespace detail {
/// Base of the parameter-free layers whose output shape is their input's.
struct ShapePreserving {
    auto parameters() { return boost::hana::make_tuple(); }
    template <class D>
    static constexpr D infer(D) { return {}; }
};
}  // namespace detail

/// max(x, 0)
struct ReLU : detail::ShapePreserving {
    /// The activation applied to an expression.
    template <TensorLike E> auto operator()(E&& x) { return relu(std::forward<E>(x)); }
};
/// 1 / (1 + e^-x)
struct Sigmoid : detail::ShapePreserving {
    /// The activation applied to an expression.
    template <TensorLike E> auto operator()(E&& x) { return sigmoid(std::forward<E>(x)); }
};
/// tanh(x)
struct Tanh : detail::ShapePreserving {
    /// The activation applied to an expression.
    template <TensorLike E> auto operator()(E&& x) { return ctgrad::tanh(std::forward<E>(x)); }
};

/// log(1 + e^x), stable for large |x|
struct Softplus : detail::ShapePreserving {
    /// The activation applied to an expression.
    template <TensorLike E> auto operator()(E&& x) { return softplus(std::forward<E>(x)); }
};

}  // namespace ctgrad::nn
