#pragma once
/// \file fuse(producer, consumer): the one customisation point through which work that follows a
/// node (a ReLU, a pooling) folds into the node's own pass when the node can do it.
///
/// A consumer is a policy type: ops::Relu, ops::Pool<ops::Max, K, S>, ops::Pool<ops::Avg, K, S>.
/// A producer node that can apply consumer C in its own pass has a member `fuse(C) &&` returning
/// the combined node (nn::Conv2d's node does, for the epilogues its kernel supports); for every
/// other producer, fuse() builds the consumer's ordinary node, given by the specialisation
/// Unfused<C> (defined next to that node: relu in functions.hpp, pools in nn/). Either way the
/// result equals the unfused chain.
#include <cstddef>
#include <type_traits>
#include <utility>

#include <ctgrad/expr/node.hpp>

namespace ctgrad {

namespace ops {
/// Pooling kinds of ops::Pool.
struct Max {};
struct Avg {};
/// Pooling over K x K windows moved by S (no padding) of NCHW images, as a fuse() consumer.
template <class Kind, std::size_t K, std::size_t S = K>
struct Pool {
    static_assert(std::is_same_v<Kind, Max> || std::is_same_v<Kind, Avg>, "ops::Pool: the kind is ops::Max or ops::Avg");
    static_assert(K > 0 && S > 0, "ops::Pool: window and stride must be positive");
    /// The pooling kind: ops::Max or ops::Avg.
    using kind = Kind;
    /// The window size K.
    static constexpr std::size_t kernel = K;
    /// The stride S.
    static constexpr std::size_t stride = S;
};
}  // namespace ops

/// How consumer C is applied when its producer cannot fuse it: `Unfused<C>::apply(node)`.
template <class C>
struct Unfused;

/// The producer (an rvalue node) applies consumer C in its own pass.
template <class P, class C>
concept FusesInto = Expr<P> && !std::is_lvalue_reference_v<P> && requires(P&& p, C c) { std::move(p).fuse(c); };

/// The node `consumer(producer)`: fused into the producer when it supports it (see the file
/// comment), the consumer's own node otherwise.
template <class C, class P>
    requires Expr<P>
auto fuse(P&& producer, C consumer) {
    if constexpr (FusesInto<P, C>) return std::move(producer).fuse(consumer);
    else return Unfused<C>::apply(std::forward<P>(producer));
}

}  // namespace ctgrad
