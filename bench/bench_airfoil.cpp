// Per-step cost of d2l's airfoil linear regression (issue: trainers, "speed where d2l is slow"):
// one minibatch (forward, backward, SGD update) at batch 1 and 10, in d2l's two forms:
//   scratch:  loose Params, y_hat = X w + b, loss = mean((y_hat - y)² / 2)  (d2l's train_ch11)
//   concise:  nn::Linear<5, 1> and nn::mse                                   (train_concise_ch11)
// Times are reported in µs (the Time and CPU columns): one iteration is one training step.
// Eager frameworks spend 35-50 µs here.
#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/loss.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;

namespace {

/// A fixed minibatch of n examples with 5 features, labels as a column.
struct Batch {
    Tensor<float, 2> X, y;
    explicit Batch(std::size_t n) : X(Tensor<float, 2>::from_shape({n, 5})), y(Tensor<float, 2>::from_shape({n, 1})) {
        for (std::size_t i = 0; i < X.size(); ++i) X.data()[i] = float(i % 7) / 7.f - 0.5f;
        for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = float(i % 3) / 3.f;
    }
};

void BM_airfoil_scratch_step(benchmark::State& s) {
    const Batch d(std::size_t(s.range(0)));
    Param<float, 2> w(Tensor<float, 2>(xt::zeros<float>({5, 1})));
    Param<float, 1> b(Tensor<float, 1>(xt::zeros<float>({1})));
    optim::Optimizer opt(optim::params(w, b), optim::SGD{}, sched::Constant{.lr = 0.01});
    for (auto _ : s) {
        const double loss = backward(mean(square(matmul(d.X, w) + b - d.y) / 2));
        benchmark::DoNotOptimize(loss);
        opt.step();
    }
}

void BM_airfoil_concise_step(benchmark::State& s) {
    const Batch d(std::size_t(s.range(0)));
    nn::Linear<5, 1> net;
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.01});
    for (auto _ : s) {
        const double loss = backward(nn::mse(net(d.X), d.y));
        benchmark::DoNotOptimize(loss);
        opt.step();
    }
}

}  // namespace

BENCHMARK(BM_airfoil_scratch_step)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_airfoil_concise_step)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
