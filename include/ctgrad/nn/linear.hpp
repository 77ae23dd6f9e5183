#pragma once
/// \file nn::Linear: y = x W + b.
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/functions.hpp>
#include <ctgrad/expr/matmul.hpp>
#include <ctgrad/nn/checked.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/init.hpp>
#include <ctgrad/nn/layer.hpp>

namespace ctgrad::nn {

/// Fully connected layer on (batch, In) inputs: y = x W + b with W of shape (In, Out), so the
/// forward pass is one matrix product without a transpose. In or Out may be nn::dynamic, given
/// to the constructor instead. Weights start Xavier-uniform, the bias at zero.
template <std::size_t In, std::size_t Out, class T = float>
class Linear {
public:
    /// Input features (nn::dynamic: given at run time).
    static constexpr std::size_t in_features = In;
    /// Output features (nn::dynamic: given at run time).
    static constexpr std::size_t out_features = Out;

    Linear() requires(In != dynamic && Out != dynamic) : Linear(In, Out) {}
    /// Sizes at run time; each must equal the template argument unless that is nn::dynamic.
    Linear(std::size_t in, std::size_t out)
        : weight(Tensor<T, 2>::from_shape({in, out})), bias(Tensor<T, 1>(xt::zeros<T>({out}))) {
        if ((In != dynamic && in != In) || (Out != dynamic && out != Out) || in == 0 || out == 0)
            throw std::invalid_argument("nn::Linear: sizes (" + std::to_string(in) + ", " + std::to_string(out) +
                                        ") contradict the template arguments or are zero");
        init::xavier_uniform(weight.value(), in, out);
    }

    /// x W + b for a (batch, In) expression, Param or Tensor.
    template <TensorLike E>
    auto operator()(E&& x) & {
        using XT = operand_value_t<E>;
        static_assert(std::is_same_v<XT, T>, "nn::Linear: the input's scalar type differs from the layer's");
        static_assert(std::remove_cvref_t<node_t<E>>::rank == 2, "nn::Linear needs a rank-2 (batch, features) input");
        const std::size_t in = weight.value().shape()[0];
        const std::size_t out = weight.value().shape()[1];
        auto checked = detail::checked(to_node<T>(std::forward<E>(x)), [in, out](const Shape<2>& s) {
            if (s[1] != in)
                throw std::invalid_argument("nn::Linear<" + std::to_string(in) + ", " + std::to_string(out) +
                                            ">: the input has " + std::to_string(s[1]) + " features (shape " +
                                            shape_string(s) + "), the layer expects " + std::to_string(in));
        });
        return matmul(std::move(checked), weight) + bias;
    }

    /// The trainable parameters: a Hana tuple of pointers to weight and bias.
    auto parameters() & { return boost::hana::make_tuple(&weight, &bias); }
    CTGRAD_LVALUE_LAYER_ONLY(Linear)

    /// Per-example output shape for an input shape known at compile time.
    template <class D>
    static constexpr auto infer(D) {
        if constexpr (!std::is_same_v<D, AnyDims>) {
            static_assert(detail::NeedsFlatInput<D::rank>::ok);
            if constexpr (D::rank == 1 && In != dynamic) static_assert(check_in(D{}));
        }
        return Dims<Out>{};
    }

    Param<T, 2> weight;  ///< (In, Out)
    Param<T, 1> bias;    ///< (Out)

private:
    template <std::size_t F>
    static constexpr bool check_in(Dims<F>) {
        if constexpr (F != dynamic) return detail::LinearInFeatures<In, F>::ok;
        return true;
    }
};

}  // namespace ctgrad::nn
