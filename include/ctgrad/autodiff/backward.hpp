#pragma once
/// \file eval() and backward(): the two ways to run a graph.
#include <ctgrad/expr/functions.hpp>

namespace ctgrad {

namespace detail {
/// Writes the (prepared) node's value, contiguous, to out.
template <class Node>
void write_value(Node& n, typename Node::value_type* out) {
    if constexpr (Node::is_boundary) std::copy(n.data(), n.data() + shape_size(n.shape()), out);
    else region_assign(n, n.shape(), out);
}
}  // namespace detail

/// Evaluates an expression (or copies a Param's value / a Tensor) into a new Tensor.
template <TensorLike E>
auto eval(E&& e) {
    auto n = to_node<operand_value_t<E>>(std::forward<E>(e));
    using Node = decltype(n);
    n.prepare();
    Tensor<typename Node::value_type, Node::rank> out(n.shape());
    detail::write_value(n, out.data());
    return out;
}

/// Reverse-mode differentiation of a single-element expression: evaluates it, *adds*
/// d e / d p into p.grad() for every Param p in it, and returns its value.
/// Throws std::invalid_argument if e holds more than one element.
template <TensorLike E>
auto backward(E&& e) {
    auto n = to_node<operand_value_t<E>>(std::forward<E>(e));
    using Node = decltype(n);
    using T = typename Node::value_type;
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

}  // namespace ctgrad
