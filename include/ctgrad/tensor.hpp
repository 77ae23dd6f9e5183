#pragma once
/// \file Tensor alias and Param, the trainable leaf of an expression graph.
#include <cstddef>
#include <xtensor/xtensor.hpp>
#include <xtensor/xbuilder.hpp>

namespace ctgrad {

/// Dense row-major tensor of static rank N (xtensor's container).
template <class T, std::size_t N>
using Tensor = xt::xtensor<T, N>;

/// A trainable tensor: a value and a gradient of the same shape.
/// Expressions refer to a Param by address, so a Param must outlive the expressions built from it.
template <class T, std::size_t N>
class Param {
public:
    static_assert(std::is_floating_point_v<T>, "Param<T, N>: T must be float or double");
    /// The scalar type (float or double).
    using value_type = T;
    /// The number of dimensions.
    static constexpr std::size_t rank = N;

    /// An empty parameter (no elements); assign a value before use.
    Param() = default;
    /// Takes the initial value; the gradient starts at zero with the same shape.
    Param(Tensor<T, N> value) : value_(std::move(value)), grad_(xt::zeros<T>(value_.shape())) {}
    /// From any xtensor expression of matching rank (e.g. `xt::zeros<float>({3, 4})`).
    template <class E>
        requires(!std::is_same_v<std::decay_t<E>, Tensor<T, N>> && xt::is_xexpression<std::decay_t<E>>::value)
    Param(E&& e) : Param(Tensor<T, N>(std::forward<E>(e))) {}

    /// The current value (an optimizer's step() updates it).
    Tensor<T, N>& value() noexcept { return value_; }
    /// The current value.
    const Tensor<T, N>& value() const noexcept { return value_; }
    /// The accumulated gradient: backward() adds into it, step() and zero_grad() clear it.
    Tensor<T, N>& grad() noexcept { return grad_; }
    /// The accumulated gradient.
    const Tensor<T, N>& grad() const noexcept { return grad_; }
    /// Sets the gradient to zero (resizing it to the value's shape if the value was reshaped).
    void zero_grad() {
        if (grad_.shape() != value_.shape()) grad_.resize(value_.shape());
        std::fill(grad_.begin(), grad_.end(), T(0));
    }
    /// The value's shape.
    const auto& shape() const noexcept { return value_.shape(); }
    /// The number of elements.
    std::size_t size() const noexcept { return value_.size(); }

private:
    Tensor<T, N> value_;
    Tensor<T, N> grad_;
};

/// `Param p(tensor)` deduces T and N from the tensor.
template <class T, std::size_t N>
Param(Tensor<T, N>) -> Param<T, N>;

}  // namespace ctgrad
