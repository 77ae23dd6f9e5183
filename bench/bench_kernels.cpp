// Kernel benchmarks: GEMM GFLOP/s at the shapes the models use and at square sizes, LeNet's conv1/conv2
// forward and backward at batch 256 (images/s), max-pooling; each at 1 and 2 threads (the last
// argument). Wall-clock time (UseRealTime) so that multi-threaded runs are measured fairly.
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/kernels/gemm.hpp>
#include <ctgrad/kernels/maxpool2d.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace {

template <class T>
std::vector<T> random_vec(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<T> d(T(-1), T(1));
    std::vector<T> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Args: M, N, K, trans_a, trans_b, threads.
template <class T>
void BM_gemm(benchmark::State& st) {
    const std::size_t M = st.range(0), N = st.range(1), K = st.range(2);
    const bool ta = st.range(3), tb = st.range(4);
    ctgrad::parallel::set_num_threads(int(st.range(5)));
    auto A = random_vec<T>(M * K, 1), B = random_vec<T>(K * N, 2);
    std::vector<T> C(M * N);
    for (auto _ : st) {
        ctgrad::kernels::gemm(ta, tb, M, N, K, T(1), A.data(), ta ? M : K, B.data(), tb ? K : N, T(0), C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    st.counters["GFLOP/s"] = benchmark::Counter(2e-9 * double(M) * double(N) * double(K),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void gemm_args(benchmark::internal::Benchmark* b) {
    for (int t : {1, 2}) {
        b->Args({256, 256, 256, 0, 0, t})->Args({512, 512, 512, 0, 0, t})->Args({1024, 1024, 1024, 0, 0, t});
        // MLP forward (x * W) and its backward forms: dX = dY * W^T, dW = X^T * dY.
        b->Args({256, 256, 784, 0, 0, t})->Args({256, 784, 256, 0, 1, t})->Args({784, 256, 256, 1, 0, t});
        b->Args({256, 10, 256, 0, 0, t})->Args({256, 256, 10, 0, 1, t})->Args({256, 10, 256, 1, 0, t});
        b->Args({256, 120, 400, 0, 0, t})->Args({256, 400, 120, 0, 1, t})->Args({400, 120, 256, 1, 0, t});
        // Convolution as a per-image GEMM (LeNet conv1 and conv2).
        b->Args({6, 784, 25, 0, 0, t})->Args({16, 100, 150, 0, 0, t});
    }
    b->ArgNames({"M", "N", "K", "ta", "tb", "thr"})->UseRealTime();
}
BENCHMARK(BM_gemm<float>)->Apply(gemm_args);
BENCHMARK(BM_gemm<double>)->Args({512, 512, 512, 0, 0, 1})->Args({512, 512, 512, 0, 0, 2})->UseRealTime();

// LeNet's layers at batch 256 (layers 1 and 2, the direct kernels), and layer 3: a stride-2 3x3
// convolution 6 -> 16 channels on 28 x 28 images, the im2col + GEMM path. Args: layer, pass (0
// forward, 1 input gradient, 2 weight gradient), threads. images/s counts images of the batch.
ctgrad::kernels::Conv2dShape lenet_conv(int layer) {
    if (layer == 3) return {256, 6, 28, 28, 16, 3, 2, 1};
    return layer == 1 ? ctgrad::kernels::Conv2dShape{256, 1, 28, 28, 6, 5, 1, 2}
                      : ctgrad::kernels::Conv2dShape{256, 6, 14, 14, 16, 5, 1, 0};
}

void BM_conv(benchmark::State& st) {
    const auto s = lenet_conv(int(st.range(0)));
    const int pass = int(st.range(1));
    ctgrad::parallel::set_num_threads(int(st.range(2)));
    const std::size_t xs = s.batch * s.in_channels * s.in_h * s.in_w;
    const std::size_t ws = s.out_channels * s.in_channels * s.kernel * s.kernel;
    const std::size_t ys = s.batch * s.out_channels * s.out_h() * s.out_w();
    auto x = random_vec<float>(xs, 1), w = random_vec<float>(ws, 2), b = random_vec<float>(s.out_channels, 3);
    auto dy = random_vec<float>(ys, 4);
    std::vector<float> y(ys), dx(xs), dw(ws), db(s.out_channels);
    for (auto _ : st) {
        if (pass == 0) ctgrad::kernels::conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
        if (pass == 1) ctgrad::kernels::conv2d_backward_input(s, dy.data(), w.data(), dx.data());
        if (pass == 2) ctgrad::kernels::conv2d_backward_weights(s, x.data(), dy.data(), dw.data(), db.data());
        benchmark::ClobberMemory();
    }
    const double macs = double(ys) * double(s.in_channels * s.kernel * s.kernel);
    st.counters["images/s"] = benchmark::Counter(double(s.batch), benchmark::Counter::kIsIterationInvariantRate);
    st.counters["GFLOP/s"] = benchmark::Counter(2e-9 * macs, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_conv)
    ->ArgsProduct({{1, 2, 3}, {0, 1, 2}, {1, 2}})
    ->ArgNames({"layer", "pass", "thr"})
    ->UseRealTime();

// LeNet's pools at batch 256 (6x28x28 and 16x10x10, 2x2 stride 2). Args: layer, pass (0 fwd, 1 bwd),
// threads.
void BM_maxpool(benchmark::State& st) {
    const ctgrad::kernels::Pool2dShape s = st.range(0) == 1 ? ctgrad::kernels::Pool2dShape{256, 6, 28, 28, 2, 2}
                                                            : ctgrad::kernels::Pool2dShape{256, 16, 10, 10, 2, 2};
    const bool bwd = st.range(1) != 0;
    ctgrad::parallel::set_num_threads(int(st.range(2)));
    const std::size_t xs = s.batch * s.channels * s.in_h * s.in_w, ys = s.batch * s.channels * s.out_h() * s.out_w();
    auto x = random_vec<float>(xs, 1), dy = random_vec<float>(ys, 2);
    std::vector<float> y(ys), dx(xs);
    std::vector<std::uint32_t> am(ys);
    ctgrad::kernels::maxpool2d_forward(s, x.data(), y.data(), am.data());
    for (auto _ : st) {
        if (bwd)
            ctgrad::kernels::maxpool2d_backward(s, dy.data(), am.data(), dx.data());
        else
            ctgrad::kernels::maxpool2d_forward(s, x.data(), y.data(), am.data());
        benchmark::ClobberMemory();
    }
    st.counters["images/s"] = benchmark::Counter(double(s.batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_maxpool)->ArgsProduct({{1, 2}, {0, 1}, {1, 2}})->ArgNames({"layer", "pass", "thr"})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
