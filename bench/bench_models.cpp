// Training steps of d2l's LeNet and dropout MLP at batch 256 (forward, backward, SGD update),
// in images per second, with 1 and 2 threads; and each LeNet layer's forward and backward.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;

namespace {
constexpr std::size_t kBatch = 256;

Tensor<float, 4> images(std::size_t n) {
    auto x = Tensor<float, 4>::from_shape({n, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 256) / 255.f;
    return x;
}
Tensor<std::uint8_t, 1> labels(std::size_t n) {
    auto y = Tensor<std::uint8_t, 1>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = std::uint8_t((i * 31) % 10);
    return y;
}

template <class Net>
void train_step(benchmark::State& s, Net net) {
    omp_set_num_threads(int(s.range(0)));
    const auto x = images(kBatch);
    const auto y = labels(kBatch);
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.1});
    for (auto _ : s) {
        float loss = backward(nn::cross_entropy(net(x), y));
        opt.step();
        benchmark::DoNotOptimize(loss);
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * kBatch), benchmark::Counter::kIsRate);
}
void BM_lenet_train_step(benchmark::State& s) { train_step(s, nn::lenet<float>()); }
void BM_mlp_train_step(benchmark::State& s) { train_step(s, nn::dropout_mlp<float>()); }

}  // namespace

BENCHMARK(BM_lenet_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
