#pragma once
/// \file backward(): the reverse-mode driver. Each node's own reverse rule lives with the node
/// (expr/: elementwise regions in region.hpp, boundary nodes in their headers; the contract is
/// expr/node_concepts.hpp); this header runs a whole graph backwards from its scalar root.
/// (eval() and assign(), the forward drivers, are in expr/eval.hpp, included here.)
#include <stdexcept>

#include <ctgrad/expr/eval.hpp>
#include <ctgrad/expr/functions.hpp>
#include <ctgrad/expr/reduce.hpp>

namespace ctgrad {

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
