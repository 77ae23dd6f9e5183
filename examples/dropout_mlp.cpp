// d2l 5.6 "Dropout": an MLP 784 -> 256 -> 256 -> 10 with dropout after each hidden layer, on
// Fashion-MNIST (lr 0.1, batch 256, 10 epochs). Two forms, as in d2l:
//   dropout_mlp             concise: nn::Sequential with nn::Dropout layers
//   dropout_mlp --scratch   from scratch: loose Params, matmul, and a dropout mask drawn by hand
#include <random>

#include <ctgrad/sched/schedules.hpp>

#include "classifier.hpp"

using namespace ctgrad;

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

int main(int argc, char** argv) {
    return example::run_main_distributed(argc, argv, [&] {
        CLI::App app{"d2l 5.6: a dropout MLP on Fashion-MNIST"};
        train::CommonOptions o{.epochs = 10, .batch_size = 256, .lr = 0.1};
        train::add_common_flags(app, o, "dropout_mlp");
        double p1 = 0.5, p2 = 0.5;
        std::size_t h1 = 256, h2 = 256, limit_train = 0;
        bool scratch = false;
        auto prob = CLI::Range(0.0, 1.0);
        app.add_option("--dropout1", p1, "dropout probability after the first hidden layer")->capture_default_str()->check(prob);
        app.add_option("--dropout2", p2, "dropout probability after the second hidden layer")->capture_default_str()->check(prob);
        app.add_option("--hidden1", h1, "units of the first hidden layer")->capture_default_str()->check(CLI::PositiveNumber);
        app.add_option("--hidden2", h2, "units of the second hidden layer")->capture_default_str()->check(CLI::PositiveNumber);
        app.add_option("--limit-train", limit_train, "use only the first N training images (0: all)")->capture_default_str();
        app.add_flag("--scratch", scratch, "the from-scratch form (Params, matmul and hand-drawn masks)");
        train::parse(app, argc, argv);

        // only rank 0 writes files
        const auto out = dist::is_root() ? train::prepare_out_dir(o.out) : std::filesystem::path(o.out);
        const auto d = example::load_fashion(o.data_path(), limit_train);
        train::Summary summary;
        summary["model"] = scratch ? "dropout_mlp (scratch)" : "dropout_mlp";
        summary["dropout1"] = p1;
        summary["dropout2"] = p2;
        summary["hidden1"] = h1;
        summary["hidden2"] = h2;
        nn::manual_seed(o.seed);
        // Under mpirun each rank draws its own dropout masks (rank 0 the single-process ones).
        const std::uint64_t mask_seed = o.seed + 1000003ull * std::uint64_t(dist::rank());
        if (scratch) {
            ScratchMLP net(h1, h2, p1, p2, mask_seed);
            optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = o.lr});
            example::fit(net, optimizer, d, o, false, out, summary);
        } else {
            auto net = nn::dropout_mlp<float>(h1, h2, p1, p2);
            net.template layer<3>().seed(mask_seed * 2 + 1);
            net.template layer<6>().seed(mask_seed * 2 + 2);
            optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = o.lr});
            example::fit(net, optimizer, d, o, false, out, summary);
        }
    });
}
