#pragma once
/// \file The Layer concept: what nn::Sequential, nn::Residual and the optimizers need from a layer,
/// and the guard that keeps a graph or an optimizer from pointing into a temporary layer.
///
/// A layer L (see nn::Linear for a complete one, nn::Softplus for a parameter-free one) provides:
///
///   template <TensorLike E> auto operator()(E&& x) &;
///       Builds (does not compute) the layer's expression on x: an expression node, Param or
///       Tensor. The node may refer to the layer's Params by address, so it must not outlive
///       the layer. A layer that owns Params or state declares the rvalue overload with
///       CTGRAD_LVALUE_LAYER_ONLY (below), so calling a temporary layer does not compile.
///
///   auto parameters() &;
///       A boost::hana::tuple of Param<T, N>* (possibly empty) for every trainable tensor, in a
///       fixed order; optim::Optimizer keeps these pointers. On an rvalue it must not compile
///       (CTGRAD_LVALUE_LAYER_ONLY): the pointers would dangle at the end of the statement.
///
///   template <class D> static constexpr auto infer(D);
///       The per-example output shape (nn::Dims<...>) for the per-example input shape D, or
///       nn::AnyDims when unknown. Called at compile time by nn::Sequential to check a chain;
///       a size mismatch should be a static_assert naming both numbers.
///
/// Optional: void set_training(bool) (nn::Dropout), called by Sequential::train()/eval().
#include <type_traits>

#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/operand.hpp>
#include <ctgrad/nn/dims.hpp>

namespace ctgrad::nn {

namespace detail {
template <class L>
inline constexpr bool dependent_false_v = false;

/// Instantiated when parameters() is called on a temporary layer or model (see Layer).
template <class Layer>
struct ParametersOfTemporary {
    static_assert(dependent_false_v<Layer>,
                  "ctgrad: parameters() of a temporary model: the Param pointers would dangle at the end of the "
                  "statement; name the model first (auto net = make_net(); net.parameters())");
    using type = boost::hana::tuple<>;
};
/// Instantiated when a layer that owns Params or state is called as a temporary.
template <class Layer>
struct CallOfTemporaryLayer {
    static_assert(dependent_false_v<Layer>,
                  "ctgrad: a temporary layer called on an input: the expression would refer to its Params after "
                  "they are destroyed; name the layer first (auto fc = nn::Linear<...>{}; fc(x))");
    struct type {};  // deliberately not an expression
};
}  // namespace detail

/// A layer in the sense above (the operator() part is checked per input type by nn::LayerFor).
template <class L>
concept Layer = requires(L& l) {
    l.parameters();
    L::infer(AnyDims{});
};

/// A layer that can be applied to an operand of type X.
template <class L, class X>
concept LayerFor = Layer<L> && TensorLike<X> && requires(L& l, X&& x) { l(std::forward<X>(x)); };

}  // namespace ctgrad::nn

/// Declares, inside a layer class named Self, the rvalue overloads of parameters() and
/// operator() that must not compile (see nn::Layer); the lvalue ones are written `&`-qualified.
#define CTGRAD_LVALUE_LAYER_ONLY(Self)                                                          \
    template <class CtgradSelf_ = Self>                                                         \
    auto parameters() && {                                                                      \
        return typename ::ctgrad::nn::detail::ParametersOfTemporary<CtgradSelf_>::type{};       \
    }                                                                                           \
    template <class CtgradX_, class CtgradSelf_ = Self>                                         \
    auto operator()(CtgradX_&&) && {                                                            \
        return typename ::ctgrad::nn::detail::CallOfTemporaryLayer<CtgradSelf_>::type{};        \
    }
