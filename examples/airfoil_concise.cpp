// The concise form of the airfoil trainer (airfoil.cpp): nn::Linear<5, 1> and nn::mse.
#include "airfoil.hpp"

namespace airfoil {
namespace {
/// d2l's concise model: nn.Linear(5, 1) with weight ~ N(0, 0.01²) and nn.MSELoss.
struct ConciseModel {
    nn::Linear<5, 1> net;
    explicit ConciseModel(std::uint64_t seed) {
        std::mt19937_64 g(seed);
        nn::init::normal(net.weight.value(), 0.01, g);
        nn::init::zeros(net.bias.value());  // PyTorch draws it uniformly; d2l leaves that as is
    }
    double train_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) { return backward(nn::mse(net(X), y)); }
    /// Halved, as d2l's train_concise_ch11 reports it, so both forms print the same quantity.
    double eval_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) { return eval(nn::mse(net(X), y))() / 2; }
    auto parameters() { return net.parameters(); }
    /// For nn::save: PyTorch's nn.Linear(5, 1) state_dict ("weight" (1, 5), "bias" (1,)).
    nn::Linear<5, 1>& weights() { return net; }
};

}  // namespace

constinit const TrainFn train_concise = &train_with_rule<ConciseModel>;

}  // namespace airfoil
