#pragma once
/// \file The arithmetic operators and elementwise functions of the DSL. Each builds a node;
/// nothing is computed until eval() or backward().
#include <ctgrad/expr/elementwise.hpp>
#include <ctgrad/expr/operand.hpp>

namespace ctgrad {

namespace detail {
template <class Op, class L, class R>
auto make_binary(L&& l, R&& r) {
    using T = typename common_value<L, R>::type;
    auto a = to_node<T>(std::forward<L>(l));
    auto b = to_node<T>(std::forward<R>(r));
    return Binary<Op, decltype(a), decltype(b)>(std::move(a), std::move(b));
}
template <class Op, class E>
auto make_unary(E&& e) {
    auto n = to_node<operand_value_t<E>>(std::forward<E>(e));
    return Unary<Op, decltype(n)>(std::move(n));
}
}  // namespace detail

/// Elementwise sum with NumPy broadcasting; numbers allowed on either side.
template <class L, class R>
    requires BinaryOperands<L, R>
auto operator+(L&& l, R&& r) { return detail::make_binary<ops::Add>(std::forward<L>(l), std::forward<R>(r)); }
/// Elementwise difference with broadcasting.
template <class L, class R>
    requires BinaryOperands<L, R>
auto operator-(L&& l, R&& r) { return detail::make_binary<ops::Sub>(std::forward<L>(l), std::forward<R>(r)); }
/// Elementwise product with broadcasting.
template <class L, class R>
    requires BinaryOperands<L, R>
auto operator*(L&& l, R&& r) { return detail::make_binary<ops::Mul>(std::forward<L>(l), std::forward<R>(r)); }
/// Elementwise quotient with broadcasting.
template <class L, class R>
    requires BinaryOperands<L, R>
auto operator/(L&& l, R&& r) { return detail::make_binary<ops::Div>(std::forward<L>(l), std::forward<R>(r)); }
/// Elementwise negation.
template <class E>
    requires(Expr<E> || ParamOperand<E>)
auto operator-(E&& e) { return detail::make_unary<ops::Neg>(std::forward<E>(e)); }

/// e^x
template <TensorLike E> auto exp(E&& e) { return detail::make_unary<ops::Exp>(std::forward<E>(e)); }
/// Natural logarithm.
template <TensorLike E> auto log(E&& e) { return detail::make_unary<ops::Log>(std::forward<E>(e)); }
/// Square root.
template <TensorLike E> auto sqrt(E&& e) { return detail::make_unary<ops::Sqrt>(std::forward<E>(e)); }
/// x²
template <TensorLike E> auto square(E&& e) { return detail::make_unary<ops::Square>(std::forward<E>(e)); }
/// max(x, 0); its derivative at 0 is taken as 0. A boundary node that can apply a ReLU in its own output pass (e.g. nn::Conv2d) offers
/// fuse_relu() and gets it instead of a separate elementwise node.
template <TensorLike E>
auto relu(E&& e) {
    if constexpr (requires { std::forward<E>(e).fuse_relu(); })
        return std::forward<E>(e).fuse_relu();
    else
        return detail::make_unary<ops::Relu>(std::forward<E>(e));
}
/// 1 / (1 + e^-x)
template <TensorLike E> auto sigmoid(E&& e) { return detail::make_unary<ops::Sigmoid>(std::forward<E>(e)); }
/// Hyperbolic tangent.
template <TensorLike E> auto tanh(E&& e) { return detail::make_unary<ops::Tanh>(std::forward<E>(e)); }

}  // namespace ctgrad
