#pragma once
/// \file eval() and backward(): the two ways to run a graph.
#include <ctgrad/expr/functions.hpp>
#include <ctgrad/expr/reduce.hpp>

namespace ctgrad {

namespace detail {
/// Writes the (prepared) node's value, contiguous, to out.
template <class Node>
void write_value(Node& n, typename Node::value_type* out) {
    if constexpr (Node::is_boundary) std::copy(n.data(), n.data() + shape_size(n.shape()), out);
    else region_assign(n, n.shape(), out);
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

namespace detail {
template <class N> struct is_sum_all : std::false_type {};
template <class E> struct is_sum_all<SumAll<E>> : std::true_type {};
}  // namespace detail

/// Reverse-mode differentiation of a single-element expression: evaluates it, *adds*
/// d e / d p into p.grad() for every Param p in it, and returns its value.
/// Throws std::invalid_argument if e holds more than one element.
template <TensorLike E>
auto backward(E&& e) {
    decltype(auto) n = detail::node_to_run(std::forward<E>(e));
    using Node = std::remove_reference_t<decltype(n)>;
    using T = typename Node::value_type;
    if constexpr (detail::is_sum_all<Node>::value) {
        // The usual loss form: sum or mean of a region. One pass gives the value and the adjoints.
        return n.value_and_backward();
    } else {
        n.prepare();
        if (shape_size(n.shape()) != 1)
            throw std::invalid_argument("backward: the expression must hold a single element, but its shape is " +
                                        shape_string(n.shape()) + " (reduce it with sum() or mean())");
        T value;
        detail::write_value(n, &value);
        ScalarGrad<T> one(T(1));
        n.backward(one);
        return value;
    }
}

}  // namespace ctgrad
