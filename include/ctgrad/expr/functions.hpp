#pragma once
/// \file The arithmetic operators and elementwise functions of the DSL. Each builds a node;
/// nothing is computed until eval() or backward().
#include <ctgrad/expr/elementwise.hpp>
#include <ctgrad/expr/fuse.hpp>
#include <ctgrad/expr/node_concepts.hpp>
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

namespace detail {
/// Instantiated when an xtensor expression (other than a plain Tensor) meets a ctgrad operand.
template <class XtensorSide>
struct XtensorExpressionMixedWithNode {
    static_assert(!xt::is_xexpression<XtensorSide>::value,
                  "ctgrad: an xtensor expression (such as 1.f - y for a plain Tensor y) cannot be combined with a "
                  "ctgrad expression; make the tensor a ctgrad operand: 1.f - constant(y), or constant(Tensor(expr))");
    struct type {};  // deliberately not an expression
};
template <class L, class R>
auto mixed_xtensor_error() {
    using X = std::remove_cvref_t<std::conditional_t<XtensorExpression<L>, L, R>>;
    return typename XtensorExpressionMixedWithNode<X>::type{};
}
}  // namespace detail

/// An xtensor expression combined with a ctgrad operand does not compile (a one-line message
/// names the fix): xtensor's own operator would otherwise swallow the node as a scalar.
template <class L, class R>
    requires MixedXtensorOperands<L, R>
auto operator+(L&&, R&&) { return detail::mixed_xtensor_error<L, R>(); }
/// As operator+: mixing an xtensor expression with a ctgrad operand does not compile.
template <class L, class R>
    requires MixedXtensorOperands<L, R>
auto operator-(L&&, R&&) { return detail::mixed_xtensor_error<L, R>(); }
/// As operator+: mixing an xtensor expression with a ctgrad operand does not compile.
template <class L, class R>
    requires MixedXtensorOperands<L, R>
auto operator*(L&&, R&&) { return detail::mixed_xtensor_error<L, R>(); }
/// As operator+: mixing an xtensor expression with a ctgrad operand does not compile.
template <class L, class R>
    requires MixedXtensorOperands<L, R>
auto operator/(L&&, R&&) { return detail::mixed_xtensor_error<L, R>(); }

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

/// Op applied elementwise to e: a user-defined function from a policy with f and df (see
/// UnaryOpPolicy, and ops::Softplus for an example). Fuses into its region like the built-ins.
template <class Op, TensorLike E>
    requires UnaryOpPolicy<Op, operand_value_t<E>>
auto elementwise(E&& e) {
    return detail::make_unary<Op>(std::forward<E>(e));
}
/// Op applied elementwise to l and r with broadcasting (see BinaryOpPolicy, ops::Mul).
template <class Op, class L, class R>
    requires BinaryOperands<L, R> && BinaryOpPolicy<Op, typename detail::common_value<L, R>::type>
auto elementwise(L&& l, R&& r) {
    return detail::make_binary<Op>(std::forward<L>(l), std::forward<R>(r));
}

/// e^x
template <TensorLike E> auto exp(E&& e) { return detail::make_unary<ops::Exp>(std::forward<E>(e)); }
/// Natural logarithm.
template <TensorLike E> auto log(E&& e) { return detail::make_unary<ops::Log>(std::forward<E>(e)); }
/// Square root.
template <TensorLike E> auto sqrt(E&& e) { return detail::make_unary<ops::Sqrt>(std::forward<E>(e)); }
/// x²
template <TensorLike E> auto square(E&& e) { return detail::make_unary<ops::Square>(std::forward<E>(e)); }
/// A ReLU that its producer does not fuse: an elementwise node.
template <>
struct Unfused<ops::Relu> {
    /// ReLU of `producer`, as an elementwise node.
    template <class P>
    static auto apply(P&& producer) { return detail::make_unary<ops::Relu>(std::forward<P>(producer)); }
};

/// max(x, 0); its derivative at 0 is taken as 0. Goes through fuse(): a node that can apply the
/// ReLU in its own output pass (nn::Conv2d's) does so instead of a separate elementwise node.
template <TensorLike E>
auto relu(E&& e) {
    if constexpr (Expr<E>) return fuse(std::forward<E>(e), ops::Relu{});
    else return detail::make_unary<ops::Relu>(std::forward<E>(e));
}
/// 1 / (1 + e^-x)
template <TensorLike E> auto sigmoid(E&& e) { return detail::make_unary<ops::Sigmoid>(std::forward<E>(e)); }
/// log(1 + e^x), stable for large |x| (see ops::Softplus).
template <TensorLike E> auto softplus(E&& e) { return detail::make_unary<ops::Softplus>(std::forward<E>(e)); }
/// Hyperbolic tangent.
template <TensorLike E> auto tanh(E&& e) { return detail::make_unary<ops::Tanh>(std::forward<E>(e)); }

}  // namespace ctgrad
