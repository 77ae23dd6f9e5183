#pragma once
/// \file eval() and assign(): run a graph forwards into a Tensor.
#include <algorithm>
#include <type_traits>
#include <utility>

#include <ctgrad/expr/operand.hpp>
#include <ctgrad/expr/region.hpp>

namespace ctgrad {

namespace detail {
/// Writes the (prepared) node's value, contiguous, to out.
template <class Node>
void write_value(Node& n, typename Node::value_type* out) {
    if constexpr (Node::is_boundary) {
        if (anomaly_detection_enabled()) [[unlikely]] check_values(n, n.data(), n.shape());
        std::copy(n.data(), n.data() + shape_size(n.shape()), out);
    } else {
        region_assign(n, n.shape(), out);
    }
}
}  // namespace detail

namespace detail {
/// The node to run: a non-const node is run in place (an lvalue, so that its results, e.g. a
/// loss's accuracy, can be read afterwards; or a temporary, which lives until the end of the
/// caller's full expression, so moving the whole tree into a new node would be a wasted copy);
/// anything else is turned into a node held here.
template <class E>
decltype(auto) node_to_run(E&& e) {
    if constexpr (Expr<E> && !std::is_const_v<std::remove_reference_t<E>>)
        return static_cast<E&&>(e);
    else
        return to_node<operand_value_t<E>>(std::forward<E>(e));
}
}  // namespace detail

/// Evaluates an expression (or copies a Param's value / a Tensor) into a new Tensor.
template <TensorLike E>
auto eval(E&& e) {
    decltype(auto) n = detail::node_to_run(std::forward<E>(e));
    using Node = std::remove_reference_t<decltype(n)>;
    n.prepare();
    Tensor<typename Node::value_type, Node::rank> out(n.shape());
    detail::write_value(n, out.data());
    return out;
}

/// Evaluates an expression into `out`, resizing it only if its shape differs (so a loop that
/// assigns into the same tensor allocates nothing). `out` must not be an operand of `e` unless
/// `e` is purely elementwise and reads it only at the element being written.
template <class T, std::size_t N, TensorLike E>
void assign(Tensor<T, N>& out, E&& e) {
    decltype(auto) n = detail::node_to_run(std::forward<E>(e));
    using Node = std::remove_reference_t<decltype(n)>;
    static_assert(Node::rank == N, "ctgrad::assign: the expression's rank differs from the tensor's");
    static_assert(std::is_same_v<typename Node::value_type, T>, "ctgrad::assign: scalar types differ");
    n.prepare();
    if (!same_shape(out.shape(), n.shape())) out.resize(n.shape());
    detail::write_value(n, out.data());
}

}  // namespace ctgrad
