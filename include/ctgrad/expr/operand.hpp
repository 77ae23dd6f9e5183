#pragma once
/// \file What may appear in an expression (nodes, Params, Tensors, numbers) and how each
/// becomes a node.
#include <ctgrad/expr/leaf.hpp>

namespace ctgrad {

namespace detail {
template <class X> struct is_param : std::false_type {};
template <class T, std::size_t N> struct is_param<Param<T, N>> : std::true_type {};
template <class X> struct is_tensor : std::false_type {};
template <class T, std::size_t N> struct is_tensor<Tensor<T, N>> : std::true_type {};
}  // namespace detail

/// A Param (an lvalue: the expression refers to it and writes its gradient).
template <class X>
concept ParamOperand = detail::is_param<std::remove_cvref_t<X>>::value;
/// A plain Tensor, used as a constant.
template <class X>
concept TensorOperand = detail::is_tensor<std::remove_cvref_t<X>>::value;
template <class X>
concept NumberOperand = std::is_arithmetic_v<std::remove_cvref_t<X>>;
/// Anything tensor-like that can be an operand: a node, a Param or a Tensor.
template <class X>
concept TensorLike = Expr<X> || ParamOperand<X> || TensorOperand<X>;
/// Any operand of an arithmetic operator.
template <class X>
concept Operand = TensorLike<X> || NumberOperand<X>;
/// Operand pairs for which ctgrad's operators apply: at least one side is a node or a Param
/// (Tensor op Tensor stays xtensor's own lazy expression).
template <class L, class R>
concept BinaryOperands = Operand<L> && Operand<R> && (Expr<L> || ParamOperand<L> || Expr<R> || ParamOperand<R>);

/// An xtensor expression that is not a plain Tensor (e.g. `1.f - y` for a Tensor y): not an
/// operand, since it cannot be differentiated; wrap its tensors in constant() instead.
template <class X>
concept XtensorExpression = xt::is_xexpression<std::remove_cvref_t<X>>::value && !TensorOperand<X>;
/// An xtensor expression on one side, a node or Param on the other: rejected with a message.
template <class L, class R>
concept MixedXtensorOperands = (XtensorExpression<L> && (Expr<R> || ParamOperand<R>)) ||
                               (XtensorExpression<R> && (Expr<L> || ParamOperand<L>));

namespace detail {
template <class X, class = void>
struct operand_value { using type = void; };
template <class X>
struct operand_value<X, std::enable_if_t<!std::is_arithmetic_v<X>>> { using type = typename X::value_type; };

/// Instantiated with the two scalar types of a binary expression; fails when they differ.
template <class LhsScalar, class RhsScalar>
struct ScalarTypesMustMatch {
    static_assert(std::is_same_v<LhsScalar, RhsScalar>,
                  "ctgrad: an expression mixes scalar types; see <lhs, rhs> in 'ScalarTypesMustMatch' above "
                  "and convert one operand (float vs double)");
    using type = LhsScalar;
};
template <class L, class R>
struct common_value {
    using l = typename operand_value<std::remove_cvref_t<L>>::type;
    using r = typename operand_value<std::remove_cvref_t<R>>::type;
    using type = typename std::conditional_t<std::is_void_v<l>, std::type_identity<r>,
                                             std::conditional_t<std::is_void_v<r>, std::type_identity<l>,
                                                                ScalarTypesMustMatch<l, r>>>::type;
};
}  // namespace detail

/// Scalar type of an operand (for a number: void, it adopts the other operand's type).
template <class X>
using operand_value_t = typename detail::operand_value<std::remove_cvref_t<X>>::type;

/// The node an operand stands for; numbers become ScalarLeaf<T>.
template <class T, class X>
auto to_node(X&& x) {
    using D = std::remove_cvref_t<X>;
    if constexpr (Expr<X>) {
        return D(std::forward<X>(x));
    } else if constexpr (ParamOperand<X>) {
        static_assert(!std::is_const_v<std::remove_reference_t<X>>,
                      "ctgrad: a const Param cannot receive gradients; use constant(p.value()) to stop them");
        static_assert(std::is_lvalue_reference_v<X>,
                      "ctgrad: a temporary Param would be destroyed before the expression is evaluated");
        return ParamLeaf<typename D::value_type, D::rank>(x);
    } else if constexpr (TensorOperand<X>) {
        if constexpr (std::is_lvalue_reference_v<X>)
            return ConstLeaf<typename D::value_type, D::rank, false>(x);
        else
            return ConstLeaf<typename D::value_type, D::rank, true>(std::move(x));
    } else {
        static_assert(NumberOperand<X>, "ctgrad: not an expression operand");
        return ScalarLeaf<T>(static_cast<T>(x));
    }
}

/// The node type that an operand of type X becomes in an expression.
template <class X>
using node_t = decltype(to_node<operand_value_t<X>>(std::declval<X>()));

/// What a node constructor takes for operand x: an rvalue node passes through as a reference (it
/// is then moved once, into place), anything else becomes its node as to_node does.
template <class T, class X>
decltype(auto) node_arg(X&& x) {
    if constexpr (Expr<X> && !std::is_lvalue_reference_v<X> && !std::is_const_v<std::remove_reference_t<X>>)
        return static_cast<std::remove_cvref_t<X>&&>(x);
    else return to_node<T>(std::forward<X>(x));
}

/// A leaf that is not differentiated: a Tensor (held by reference if an lvalue, moved in if an
/// rvalue) or the current value of a Param (gradient stopped).
template <class X>
    requires(TensorOperand<X> || ParamOperand<X>)
auto constant(X&& x) {
    if constexpr (ParamOperand<X>) return to_node<operand_value_t<X>>(std::as_const(x.value()));
    else return to_node<operand_value_t<X>>(std::forward<X>(x));
}

}  // namespace ctgrad
