// The from-scratch form of the airfoil trainer (airfoil.cpp): loose Params, d2l's linreg and squared_loss.
#include "airfoil.hpp"

namespace airfoil {
namespace {
/// d2l's from-scratch model: linreg(X, w, b) = X w + b with squared_loss = (ŷ - y)² / 2.
struct ScratchModel {
    Param<float, 2> w;
    Param<float, 1> b;
    explicit ScratchModel(std::uint64_t seed) : w(Tensor<float, 2>::from_shape({5, 1})), b(xt::zeros<float>({1})) {
        std::mt19937_64 g(seed);
        nn::init::normal(w.value(), 0.01, g);
    }
    auto net(const Tensor<float, 2>& X) { return matmul(X, w) + b; }
    template <class E>
    static auto squared_loss(E&& y_hat, const Tensor<float, 2>& y) {
        return square(std::forward<E>(y_hat) - y) / 2;
    }
    /// One minibatch: adds the gradient of the mean loss into w.grad(), b.grad(); returns the loss.
    double train_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) {
        return backward(mean(squared_loss(net(X), y)));
    }
    /// Mean loss over a data set (no gradients).
    double eval_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) {
        return eval(mean(squared_loss(net(X), y)))();
    }
    auto parameters() { return optim::params(w, b); }
    /// For nn::save: keys "w" (5, 1) and "b" (1,), as held.
    auto weights() { return nn::named(parameters(), {"w", "b"}); }
};
}  // namespace

constinit const TrainFn train_scratch = &train_with_rule<ScratchModel>;

}  // namespace airfoil
