#pragma once
/// \file The node protocol as concepts: what a fused (elementwise) node and a boundary node must
/// provide, and what an elementwise op policy must provide. A new differentiable function is
/// usually only a policy (UnaryOpPolicy / BinaryOpPolicy, used through ctgrad::elementwise) or a
/// boundary op (ctgrad::apply_op, see op.hpp); the node concepts matter to whoever writes a node
/// type by hand, and the library checks its own nodes against them (tests/core/test_protocol.cpp).
///
/// Every node N (concept Node):
///   typename N::value_type               float or double.
///   N::rank                              static rank of its value.
///   N::needs_grad                        true if some Param below it receives gradients.
///   N::is_boundary                       which of the two kinds below it is.
///   void prepare();                      Called once per evaluation, operands first: checks
///                                        shapes (throwing std::invalid_argument naming them)
///                                        and, for a boundary node, computes its value.
///   Shape<rank> shape() const;           Valid after prepare().
///   const T* materialize(Scratch<T>&);   The value, contiguous, after prepare(): a boundary
///                                        node's own buffer, a leaf's tensor, or a fused region
///                                        evaluated into the scratch given.
///   void backward(Up& up);               Reverse pass from an upstream gradient (GradView or
///                                        ScalarGrad) that broadcasts to shape().
///
/// A fused node F (concept FusedNode) is evaluated inside the single loop of its region:
///   own_cursors / operands               Cursors F itself reads (static constexpr, default 0)
///                                        and a std::tuple of its fused operand node types;
///                                        the region's cursor count is derived from these.
///   void collect(CursorSink<T>& s);      Binds its own cursors and pushes them into s, then
///                                        calls collect on each operand, in a fixed order.
///   Tape fwd<V>(std::size_t j) const;    The value at row position j, as V (T or an xsimd
///                                        batch), in a struct whose member .v is the value plus
///                                        whatever bwd needs (the operands' tapes).
///   void bwd<V>(const Tape&, V g, j);    Pushes adjoint g of its value at j to its operands
///                                        (a leaf: into its cursor's gradient).
///   void for_each_boundary(f);           Calls f on every boundary node directly below the
///                                        region, so their own reverse passes run after it.
///
/// A boundary node B (concept BoundaryNode) materialises its value in memory; it derives from
/// ctgrad::Boundary<B, T, rank, needs_grad>, which provides the fused-operand side (its single
/// cursor, the gradient buffer) and leaves to B:
///   void prepare();                      operands' prepare(), then set_shape(), then write out_.
///   void backward_kernel(const T* g);    g = d loss / d value, contiguous, of shape(): compute
///                                        the operands' gradients and call their backward().
/// ctgrad::apply_op writes both from an op's shape/forward/backward.
#include <concepts>
#include <cstddef>
#include <tuple>

#include <ctgrad/simd/xsimd.hpp>

#include <ctgrad/expr/leaf.hpp>
#include <ctgrad/expr/loop.hpp>

namespace ctgrad {

/// Members every node has (see the file comment).
template <class N>
concept Node = Expr<N> && std::floating_point<typename N::value_type> && requires(N& n, const N& cn) {
    { N::rank } -> std::convertible_to<std::size_t>;
    { N::needs_grad } -> std::convertible_to<bool>;
    { N::is_boundary } -> std::convertible_to<bool>;
    n.prepare();
    { cn.shape() } -> std::convertible_to<Shape<N::rank>>;
    { n.materialize(std::declval<Scratch<typename N::value_type>&>()) } -> std::convertible_to<const typename N::value_type*>;
};

/// A node evaluated inside the fused loop of its region, for values of type V (T or a batch).
template <class N, class V = typename N::value_type>
concept FusedNodeFor = Node<N> && requires(N& n, const N& cn, CursorSink<typename N::value_type>& sink, std::size_t j, V g) {
    n.collect(sink);
    { cn.template fwd<V>(j).v } -> std::convertible_to<V>;
    n.template bwd<V>(cn.template fwd<V>(j), g, j);
    n.for_each_boundary([](auto&) {});
};

/// A fused node, for scalars and SIMD batches alike.
template <class N>
concept FusedNode = !N::is_boundary && FusedNodeFor<N> && FusedNodeFor<N, xsimd::batch<typename N::value_type>>;

/// A node that materialises its value (derives from ctgrad::Boundary).
template <class N>
concept BoundaryNode = Node<N> && N::is_boundary && requires(N& n, const typename N::value_type* g) {
    n.backward_kernel(g);
    { n.data() } -> std::convertible_to<const typename N::value_type*>;
};

/// An elementwise unary op policy (see ops::Exp): value and derivative on V = T and on batches.
///   static V f(V x);               the value y = f(x)
///   static V df(V x, V y, V g);    the adjoint of x given y's adjoint g (x, y: operand and value)
///   static constexpr const char* name;   optional: the name in messages ("exp"; see describe.hpp)
template <class Op, class T>
concept UnaryOpPolicy = requires(T x, xsimd::batch<T> b) {
    { Op::f(x) } -> std::convertible_to<T>;
    { Op::df(x, x, x) } -> std::convertible_to<T>;
    { Op::f(b) } -> std::convertible_to<xsimd::batch<T>>;
    { Op::df(b, b, b) } -> std::convertible_to<xsimd::batch<T>>;
};

/// An elementwise binary op policy (see ops::Mul): value and both partial derivatives.
///   static V f(V a, V b);                   the value y = f(a, b)
///   static V da(V a, V b, V y, V g);        the adjoint of a given y's adjoint g
///   static V db(V a, V b, V y, V g);        the adjoint of b
///   static constexpr const char* name;      used in messages ("operator*" prints infix: a * b)
template <class Op, class T>
concept BinaryOpPolicy = requires(T x, xsimd::batch<T> b) {
    { Op::name } -> std::convertible_to<const char*>;
    { Op::f(x, x) } -> std::convertible_to<T>;
    { Op::da(x, x, x, x) } -> std::convertible_to<T>;
    { Op::db(x, x, x, x) } -> std::convertible_to<T>;
    { Op::f(b, b) } -> std::convertible_to<xsimd::batch<T>>;
    { Op::da(b, b, b, b) } -> std::convertible_to<xsimd::batch<T>>;
    { Op::db(b, b, b, b) } -> std::convertible_to<xsimd::batch<T>>;
};

}  // namespace ctgrad
