// Training steps of d2l's LeNet and dropout MLP at batch 256 (forward, backward, SGD update),
// in images per second, with 1 and 2 threads; inference (eval mode, batch 1000, the size of a
// test-set pass: BM_*_infer); and each LeNet layer's kernels (BM_lenet_layer).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>
#include <ctgrad/kernels/maxpool2d.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

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
    ctgrad::parallel::set_num_threads(int(s.range(0)));
    const auto x = images(kBatch);
    const auto y = labels(kBatch);
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.1});
    double used = 0;  // the threads the loops could use (the dynamic count), summed over the steps
    for (auto _ : s) {
        float loss = backward(nn::cross_entropy(net(x), y));
        opt.step();
        benchmark::DoNotOptimize(loss);
        used += ctgrad::parallel::active_threads();
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * kBatch), benchmark::Counter::kIsRate);
    s.counters["threads"] = used / double(s.iterations());
}
void BM_lenet_train_step(benchmark::State& s) { train_step(s, nn::lenet<float>()); }

// Inference: the logits of a batch of 1000 images in eval mode (dropout off), as a test-set pass
// evaluates them (bench/libtorch_models.cpp runs the same under torch::NoGradGuard).
constexpr std::size_t kInferBatch = 1000;
template <class Net>
void infer(benchmark::State& s, Net net) {
    ctgrad::parallel::set_num_threads(int(s.range(0)));
    const auto x = images(kInferBatch);
    net.eval();
    double used = 0;
    for (auto _ : s) {
        const Tensor<float, 2> logits = eval(net(x));
        benchmark::DoNotOptimize(logits.data());
        used += ctgrad::parallel::active_threads();
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * kInferBatch), benchmark::Counter::kIsRate);
    s.counters["threads"] = used / double(s.iterations());
}
void BM_lenet_infer(benchmark::State& s) { infer(s, nn::lenet<float>()); }
void BM_mlp_infer(benchmark::State& s) { infer(s, nn::dropout_mlp<float>()); }

// The kernels of one LeNet training step at batch 256, one at a time: arg 0 the layer pass, arg 1 threads.
// ReLU, bias and the loss are elementwise regions of the expression engine and not included.
struct LenetBuffers {
    static constexpr std::size_t B = kBatch;
    std::vector<float> x1 = std::vector<float>(B * 784), y1 = std::vector<float>(B * 6 * 784), w1 = std::vector<float>(150, 0.1f),
                       b1 = std::vector<float>(6), dw1 = std::vector<float>(150), db1 = std::vector<float>(6),
                       p1 = std::vector<float>(B * 6 * 196), dp1 = std::vector<float>(B * 6 * 784),
                       y2 = std::vector<float>(B * 16 * 100), w2 = std::vector<float>(16 * 150, 0.1f),
                       b2 = std::vector<float>(16), dw2 = std::vector<float>(16 * 150), db2 = std::vector<float>(16),
                       dx2 = std::vector<float>(B * 6 * 196), p2 = std::vector<float>(B * 400),
                       dp2 = std::vector<float>(B * 1600), h1 = std::vector<float>(B * 120),
                       l1 = std::vector<float>(400 * 120, 0.01f), g1 = std::vector<float>(400 * 120);
    std::vector<std::uint32_t> a1 = std::vector<std::uint32_t>(B * 6 * 196), a2 = std::vector<std::uint32_t>(B * 400);
    LenetBuffers() {
        for (std::size_t i = 0; i < x1.size(); ++i) x1[i] = float(i % 17) / 17.f;
        for (std::size_t i = 0; i < p1.size(); ++i) p1[i] = float(i % 13) / 13.f;
        for (std::size_t i = 0; i < y1.size(); ++i) y1[i] = float(i % 11) / 11.f - 0.5f;
        kernels::maxpool2d_forward(q1, y1.data(), p1.data(), a1.data());
        kernels::maxpool2d_forward(q2, y2.data(), p2.data(), a2.data());
    }
    kernels::Conv2dShape c1{B, 1, 28, 28, 6, 5, 1, 2}, c2{B, 6, 14, 14, 16, 5, 1, 0};
    kernels::Pool2dShape q1{B, 6, 28, 28, 2, 2}, q2{B, 16, 10, 10, 2, 2};
};
// Useful multiply-adds x 2 per call at batch 256 (the padding's zeros and pooling not counted):
// conv1 6x28x28 outputs x 25 taps, conv2 16x10x10 outputs x 150 taps per image, each pass alike;
// fc1 256 x 400 x 120.
constexpr double kLayerFlops[] = {2.0 * kBatch * 6 * 784 * 25,  2.0 * kBatch * 6 * 784 * 25,  0, 0,
                                  2.0 * kBatch * 1600 * 150,    2.0 * kBatch * 1600 * 150,    2.0 * kBatch * 1600 * 150,
                                  0,                            0,                            2.0 * kBatch * 400 * 120,
                                  2.0 * kBatch * 400 * 120,     2.0 * kBatch * 400 * 120};
const char* const kLayerNames[] = {"conv1_fwd", "conv1_dw",  "pool1_fwd", "pool1_bwd", "conv2_fwd",
                                   "conv2_dw",  "conv2_dx",  "pool2_fwd", "pool2_bwd", "fc1_fwd",
                                   "fc1_dw",    "fc1_dx"};
void BM_lenet_layer(benchmark::State& s) {
    ctgrad::parallel::set_num_threads(int(s.range(1)));
    static LenetBuffers b;
    const auto layer = s.range(0);
    s.SetLabel(kLayerNames[layer]);
    for (auto _ : s) {
        switch (layer) {
            case 0: kernels::conv2d_forward(b.c1, b.x1.data(), b.w1.data(), b.b1.data(), b.y1.data()); break;
            case 1: kernels::conv2d_backward_weights(b.c1, b.x1.data(), b.y1.data(), b.dw1.data(), b.db1.data()); break;
            case 2: kernels::maxpool2d_forward(b.q1, b.y1.data(), b.p1.data(), b.a1.data()); break;
            case 3: kernels::maxpool2d_backward(b.q1, b.p1.data(), b.a1.data(), b.dp1.data()); break;
            case 4: kernels::conv2d_forward(b.c2, b.p1.data(), b.w2.data(), b.b2.data(), b.y2.data()); break;
            case 5: kernels::conv2d_backward_weights(b.c2, b.p1.data(), b.y2.data(), b.dw2.data(), b.db2.data()); break;
            case 6: kernels::conv2d_backward_input(b.c2, b.y2.data(), b.w2.data(), b.dx2.data()); break;
            case 7: kernels::maxpool2d_forward(b.q2, b.y2.data(), b.p2.data(), b.a2.data()); break;
            case 8: kernels::maxpool2d_backward(b.q2, b.p2.data(), b.a2.data(), b.dp2.data()); break;
            case 9: kernels::gemm(false, false, kBatch, 120, 400, 1.f, b.p2.data(), 400, b.l1.data(), 120, 0.f, b.h1.data(), 120); break;
            case 10: kernels::gemm(true, false, 400, 120, kBatch, 1.f, b.p2.data(), 400, b.h1.data(), 120, 1.f, b.g1.data(), 120); break;
            default: kernels::gemm(false, true, kBatch, 400, 120, 1.f, b.h1.data(), 120, b.l1.data(), 120, 0.f, b.p2.data(), 400); break;
        }
        benchmark::ClobberMemory();
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * kBatch), benchmark::Counter::kIsRate);
    if (kLayerFlops[layer] > 0)
        s.counters["GFLOP/s"] = benchmark::Counter(double(s.iterations()) * kLayerFlops[layer] * 1e-9, benchmark::Counter::kIsRate);
}

// The machine's FMA peak for one thread, to read BM_lenet_layer's GFLOP/s against: 16 independent
// chains of SIMD fused multiply-adds (enough to cover the FMA latency on two FMA ports), widest
// vectors the build targets (AVX-512 with -march=native on an AVX-512 machine).
void BM_fma_peak(benchmark::State& s) {
    using B = xsimd::batch<float>;
    constexpr int kChains = 16, kSteps = 4096;
    float a0 = 0.999999f, b0 = 1e-6f;
    benchmark::DoNotOptimize(a0);
    benchmark::DoNotOptimize(b0);
    const B a(a0), b(b0);
    B acc[kChains];
    for (int k = 0; k < kChains; ++k) acc[k] = B(float(k));
    for (auto _ : s) {
        for (int r = 0; r < kSteps; ++r)
            for (int k = 0; k < kChains; ++k) acc[k] = xsimd::fma(acc[k], a, b);
        for (int k = 0; k < kChains; ++k) benchmark::DoNotOptimize(acc[k]);
    }
    s.counters["GFLOP/s"] = benchmark::Counter(double(s.iterations()) * kSteps * kChains * B::size * 2 * 1e-9,
                                               benchmark::Counter::kIsRate);
    s.SetLabel(std::to_string(B::size) + " floats per FMA");
}
void BM_mlp_train_step(benchmark::State& s) { train_step(s, nn::dropout_mlp<float>()); }

}  // namespace

BENCHMARK(BM_lenet_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_lenet_infer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_infer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fma_peak);
BENCHMARK(BM_lenet_layer)->ArgsProduct({benchmark::CreateDenseRange(0, 11, 1), {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
