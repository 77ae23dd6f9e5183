// Per-step cost of d2l's airfoil linear regression (issue: trainers, "speed where d2l is slow"):
// one minibatch of the from-scratch model (y_hat = X w + b, loss = mean((y_hat - y)² / 2),
// backward, SGD update) at batch 1 and 10, in µs per step. Eager frameworks spend 35-50 µs here.
#include <benchmark/benchmark.h>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;

namespace {

void BM_airfoil_scratch_step(benchmark::State& s) {
    const std::size_t n = std::size_t(s.range(0));
    Tensor<float, 2> X = Tensor<float, 2>::from_shape({n, 5});
    Tensor<float, 2> y = Tensor<float, 2>::from_shape({n, 1});
    for (std::size_t i = 0; i < X.size(); ++i) X.data()[i] = float(i % 7) / 7.f - 0.5f;
    for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = float(i % 3) / 3.f;
    Param<float, 2> w(Tensor<float, 2>(xt::zeros<float>({5, 1})));
    Param<float, 1> b(Tensor<float, 1>(xt::zeros<float>({1})));
    optim::Optimizer opt(optim::params(w, b), optim::SGD{}, sched::Constant{.lr = 0.01});
    for (auto _ : s) {
        const double loss = backward(mean(square(matmul(X, w) + b - y) / 2));
        benchmark::DoNotOptimize(loss);
        opt.step();
    }
    s.counters["us/step"] = benchmark::Counter(double(s.iterations()) * 1e-6,
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_airfoil_scratch_step)->Arg(1)->Arg(10);

BENCHMARK_MAIN();
