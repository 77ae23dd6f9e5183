// dropout_mlp --scratch: d2l 5.6's from-scratch dropout MLP (loose Params, matmul and dropout
// masks drawn by hand), trained by the same loop as the concise form (classifier.hpp).
#include "dropout_mlp_scratch.hpp"

#include <random>
#include <sstream>

#include <ctgrad/sched/schedules.hpp>

namespace example {
namespace {

/// d2l's from-scratch model: the same computation written with Params and expressions. It offers
/// what example::fit() needs from a model: operator(), parameters(), train(), eval().
class ScratchMLP {
public:
    ScratchMLP(std::size_t h1, std::size_t h2, double p1, double p2, std::uint64_t seed)
        : W1(init<2>({784, h1}, 784)), b1(init<1>({h1}, 784)), W2(init<2>({h1, h2}, h1)), b2(init<1>({h2}, h1)),
          W3(init<2>({h2, 10}, h2)), b3(init<1>({10}, h2)), p1_(p1), p2_(p2), gen_(seed) {}

    /// d2l's dropout_layer: mask = (rand > p) / (1 - p); p = 1 drops everything.
    void draw(Tensor<float, 2>& mask, std::size_t rows, std::size_t cols, double p) {
        if (mask.shape() != Shape<2>{rows, cols}) mask.resize({rows, cols});
        std::uniform_real_distribution<float> u(0.f, 1.f);
        const float keep = p < 1 ? float(1 / (1 - p)) : 0.f;
        for (auto& m : mask) m = u(gen_) > float(p) ? keep : 0.f;
    }
    /// The logits of a batch; dropout only in training. Both branches give the same node type:
    /// in evaluation the masks are all ones.
    template <class X>
    auto operator()(const X& x) {
        const std::size_t n = x.shape()[0];
        if (training_) {
            draw(mask1_, n, W1.value().shape()[1], p1_);
            draw(mask2_, n, W2.value().shape()[1], p2_);
        } else {
            ones(mask1_, n, W1.value().shape()[1]);
            ones(mask2_, n, W2.value().shape()[1]);
        }
        auto h1 = nn::dropout(relu(matmul(nn::Flatten{}(x), W1) + b1), mask1_);
        auto h2 = nn::dropout(relu(matmul(std::move(h1), W2) + b2), mask2_);
        return matmul(std::move(h2), W3) + b3;
    }
    auto parameters() { return optim::params(W1, b1, W2, b2, W3, b3); }
    /// The weights for nn::save / nn::load (keys W1, b1, ... with the shapes held here).
    auto state() { return nn::named(parameters(), {"W1", "b1", "W2", "b2", "W3", "b3"}); }
    /// The mask generator's state (for checkpoints).
    std::string rng_state() const {
        std::ostringstream s;
        s << gen_;
        return s.str();
    }
    void set_rng_state(const std::string& state) {
        std::istringstream s(state);
        std::mt19937 g;
        s >> g;
        if (!s) throw io::FormatError("the scratch MLP's generator state in the checkpoint does not parse");
        gen_ = g;
    }
    void train() { training_ = true; }
    void eval() { training_ = false; }

    Param<float, 2> W1;
    Param<float, 1> b1;
    Param<float, 2> W2;
    Param<float, 1> b2;
    Param<float, 2> W3;
    Param<float, 1> b3;

private:
    /// PyTorch's default for a linear layer's weight and bias, as d2l 1.0's nn.LazyLinear leaves them.
    template <std::size_t N>
    static Tensor<float, N> init(const Shape<N>& s, std::size_t fan_in) {
        auto w = Tensor<float, N>::from_shape(s);
        nn::init::uniform(w, 1.0 / std::sqrt(double(fan_in)));
        return w;
    }
    static void ones(Tensor<float, 2>& m, std::size_t rows, std::size_t cols) {
        if (m.shape() != Shape<2>{rows, cols}) m.resize({rows, cols});
        std::fill(m.begin(), m.end(), 1.f);
    }
    double p1_, p2_;
    std::mt19937 gen_;
    bool training_ = true;
    Tensor<float, 2> mask1_, mask2_;
};

}  // namespace

void run_scratch_mlp(const ScratchMLPConfig& c, const FashionData& d, const RunSetup& setup, train::Summary& summary) {
    ScratchMLP net(c.hidden1, c.hidden2, c.dropout1, c.dropout2, c.mask_seed);
    if (setup.persist.eval_only) return evaluate_saved(net, d, setup, summary);
    optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = setup.common.lr});
    fit(net, optimizer, d, setup, false, summary);
}

}  // namespace example
