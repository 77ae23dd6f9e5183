// d2l 5.6 "Dropout": an MLP 784 -> 256 -> 256 -> 10 with dropout after each hidden layer, on
// Fashion-MNIST (lr 0.1, batch 256, 10 epochs). Two forms, as in d2l:
//   dropout_mlp             concise: nn::Sequential with nn::Dropout layers
//   dropout_mlp --scratch   from scratch: loose Params, matmul, and a dropout mask drawn by hand
#include <random>
#include <sstream>

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

int main(int argc, char** argv) {
    return example::run_main_distributed(argc, argv, [&] {
        CLI::App app{"d2l 5.6: a dropout MLP on Fashion-MNIST"};
        train::CommonOptions o{.epochs = 10, .batch_size = 256, .lr = 0.1};
        train::add_common_flags(app, o, "dropout_mlp");
        double p1 = 0.5, p2 = 0.5;
        std::size_t h1 = 256, h2 = 256, limit_train = 0;
        bool scratch = false;
        const auto prob = train::real_in(0, 1);
        app.add_option("--dropout1", p1, "dropout probability after the first hidden layer")->capture_default_str()->check(prob);
        app.add_option("--dropout2", p2, "dropout probability after the second hidden layer")->capture_default_str()->check(prob);
        // 8192 x 8192 weights are 256 MB each, with as much again for their gradients.
        app.add_option("--hidden1", h1, "units of the first hidden layer")->capture_default_str()->check(train::count_in(1, 8192));
        app.add_option("--hidden2", h2, "units of the second hidden layer")->capture_default_str()->check(train::count_in(1, 8192));
        app.add_option("--limit-train", limit_train, "use only the first N training images (0: all)")
            ->capture_default_str()
            ->check(train::count_in(0, 1'000'000'000));
        app.add_flag("--scratch", scratch, "the from-scratch form (Params, matmul and hand-drawn masks)");
        train::PersistOptions po;
        train::add_persist_flags(app, po, /*eval=*/true);
        train::parse(app, argc, argv);
        if (po.eval_only && !app.count("--out")) o.out = "runs/dropout_mlp-eval";  // keep the training run's folder
        train::check_out_path(o.out);

        // The data first: a data error leaves no run folder behind.
        const auto d = example::load_fashion(o.data_path(), limit_train);
        std::optional<train::RunDir> run_dir;  // only rank 0 creates, locks and writes the run folder
        if (dist::is_root()) run_dir.emplace(o.out, po.resume);
        const std::filesystem::path out = run_dir ? run_dir->path() : std::filesystem::path(o.out);
        // The settings a resumed run must keep (--epochs may change).
        const train::Summary config{{"--dropout1", p1},        {"--dropout2", p2}, {"--hidden1", h1},
                                    {"--hidden2", h2},         {"--scratch", scratch}, {"--limit-train", limit_train},
                                    {"--batch-size", o.batch_size}, {"--lr", o.lr}, {"--seed", o.seed}};
        const example::RunSetup setup{o, po, out, config};
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
            if (po.eval_only) return example::evaluate_saved(net, d, setup, summary);
            optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = o.lr});
            example::fit(net, optimizer, d, setup, false, summary);
        } else {
            auto net = nn::dropout_mlp<float>(h1, h2, p1, p2);
            if (po.eval_only) return example::evaluate_saved(net, d, setup, summary);
            net.template layer<3>().seed(mask_seed * 2 + 1);
            net.template layer<6>().seed(mask_seed * 2 + 2);
            optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = o.lr});
            example::fit(net, optimizer, d, setup, false, summary);
        }
    });
}
