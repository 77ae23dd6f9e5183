#pragma once
/// \file nn::Sequential: a chain of layers held in a Boost.Hana tuple; calling it on an
/// expression folds the layers over it, so the whole model is one graph type.
#include <boost/hana/at.hpp>
#include <boost/hana/flatten.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/transform.hpp>
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/operand.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/layer.hpp>

namespace ctgrad::nn {

/// A chain of layers. Consecutive layers are checked at compile time: a channel or feature
/// count that does not match the previous layer's output is a compile error naming both
/// numbers; output_dims<Dims<...>>() does the same for a full static input shape (e.g. images).
template <class... Layers>
class Sequential {
public:
    static_assert(sizeof...(Layers) > 0, "nn::Sequential needs at least one layer");

    /// Takes the layers in order; a mismatch between consecutive layers fails to compile here.
    explicit Sequential(Layers... layers) : layers_(std::move(layers)...) {
        (void)output_dims<AnyDims>();  // checks the chain with only what the layers themselves fix
    }

    /// The model applied to x: an expression (nothing is computed until eval/backward).
    template <TensorLike E>
    auto operator()(E&& x) & {
        return boost::hana::fold_left(layers_, to_node<operand_value_t<E>>(std::forward<E>(x)),
                                      [](auto&& acc, auto& layer) { return layer(std::move(acc)); });
    }

    /// Every layer's parameters, in order: a Hana tuple of Param pointers (for optim::Optimizer).
    auto parameters() & {
        return boost::hana::flatten(boost::hana::transform(layers_, [](auto& l) { return l.parameters(); }));
    }
    CTGRAD_LVALUE_LAYER_ONLY(Sequential)
    /// Training mode (dropout active).
    void train() { set_training(true); }
    /// Evaluation mode (dropout is the identity).
    void eval() { set_training(false); }

    /// The I-th layer.
    template <std::size_t I>
    auto& layer() { return boost::hana::at_c<I>(layers_); }

    /// Per-example output shape for the per-example input shape In (e.g. Dims<1, 28, 28>);
    /// instantiating it checks every layer against the shapes flowing into it.
    template <class In>
    static constexpr auto output_dims() {
        return infer_chain<In, Layers...>();
    }

    /// The same as output_dims, in the form of a layer's infer (so a Sequential nests as a layer).
    template <class D>
    static constexpr auto infer(D) {
        return infer_chain<D, Layers...>();
    }

private:
    template <class In, class L, class... Rest>
    static constexpr auto infer_chain() {
        using Out = decltype(L::infer(In{}));
        if constexpr (sizeof...(Rest) == 0) return Out{};
        else return infer_chain<Out, Rest...>();
    }
    void set_training(bool on) {
        boost::hana::for_each(layers_, [on](auto& l) {
            if constexpr (requires { l.set_training(on); }) l.set_training(on);
        });
    }
    boost::hana::tuple<Layers...> layers_;
};

}  // namespace ctgrad::nn
