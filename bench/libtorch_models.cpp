// libtorch counterparts of bench_models.cpp's training steps and bench_airfoil.cpp's regression step,
// linked with bench_models.cpp into bench_vs_libtorch so that both libraries are measured in the same
// run (same machine load). Only libtorch is included here: torch and ctgrad headers never share a TU.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "libtorch_lenet.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

namespace {
constexpr std::int64_t kBatch = 256;

// Same as ctgrad's nn::dropout_mlp and d2l 1.0: torch's default Linear initialisation.
torch::nn::Sequential dropout_mlp() {
    using namespace torch::nn;
    return Sequential(Flatten(),                               //
                      Linear(784, 256), ReLU(), Dropout(0.5),  //
                      Linear(256, 256), ReLU(), Dropout(0.5),  //
                      Linear(256, 10));
}

// One step = forward, cross-entropy, backward, SGD update (and zeroing the gradients), as ctgrad's
// backward + opt.step(). Threads: ATen's intra-op pool (OpenMP here) is what the kernels use; the
// inter-op pool only serves torch::jit::fork, which this code never calls, so it is left alone.
void train_step(benchmark::State& s, torch::nn::Sequential net, double lr) {
    torch::set_num_threads(int(s.range(0)));
    torch::manual_seed(0);
    const auto x = torch::rand({kBatch, 1, 28, 28});
    const auto y = torch::randint(0, 10, {kBatch}, torch::kLong);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(lr));
    net->train();
    for (auto _ : s) {
        opt.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt.step();
        benchmark::DoNotOptimize(loss.item<float>());
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * kBatch), benchmark::Counter::kIsRate);
    s.SetLabel("torch threads " + std::to_string(torch::get_num_threads()));
}
void BM_torch_lenet_train_step(benchmark::State& s) { train_step(s, torch_lenet(), 0.3); }
void BM_torch_mlp_train_step(benchmark::State& s) { train_step(s, dropout_mlp(), 0.1); }

// Inference as bench_models.cpp's BM_*_infer: logits of 1000 images, eval mode, no autograd graph,
// in forward passes of `chunk` images. libtorch 1.13's LeNet falls off a cliff at batch 1000 on our
// machine (3.4k images/s with 1 thread, against 30k for any chunk from 50 to 500), so the comparison
// also runs it on chunks of 250 and takes libtorch's faster form (bench/compare_libtorch.sh).
void infer(benchmark::State& s, torch::nn::Sequential net, std::int64_t chunk) {
    torch::set_num_threads(int(s.range(0)));
    torch::manual_seed(0);
    constexpr std::int64_t n = 1000;
    const auto x = torch::rand({n, 1, 28, 28});
    torch::NoGradGuard no_grad;
    net->eval();
    for (auto _ : s) {
        for (std::int64_t i = 0; i < n; i += chunk) {
            auto logits = net->forward(x.narrow(0, i, std::min(chunk, n - i)));
            benchmark::DoNotOptimize(logits.data_ptr<float>());
        }
    }
    s.counters["img/s"] = benchmark::Counter(double(s.iterations() * n), benchmark::Counter::kIsRate);
    s.SetLabel("torch threads " + std::to_string(torch::get_num_threads()) + ", chunks of " + std::to_string(chunk));
}
void BM_torch_lenet_infer(benchmark::State& s) { infer(s, torch_lenet(), 1000); }
void BM_torch_mlp_infer(benchmark::State& s) { infer(s, dropout_mlp(), 1000); }
void BM_torch_lenet_infer_chunked(benchmark::State& s) { infer(s, torch_lenet(), 250); }
void BM_torch_mlp_infer_chunked(benchmark::State& s) { infer(s, dropout_mlp(), 250); }

// Which BLAS libtorch's matrix products run on, for the run's context (bench/compare_libtorch.sh
// checks it): the libblas file mapped into this process and, if it is OpenBLAS, its threading
// (openblas_get_parallel: 0 sequential, 1 pthreads, 2 OpenMP) and the kernel set it chose.
std::string mapped_blas() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        const std::string path = line.substr(slash);
        const auto name = path.substr(path.rfind('/') + 1);
        if (name.rfind("libblas", 0) == 0 || name.rfind("libopenblas", 0) == 0) return path;
    }
    return "none";
}
const bool kBlasContext = [] {
    benchmark::AddCustomContext("blas_library", mapped_blas());
    using IntFn = int (*)();
    using StrFn = char* (*)();
    const auto parallel = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    const auto corename = reinterpret_cast<StrFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    benchmark::AddCustomContext("openblas_parallel", parallel ? std::to_string(parallel()) : "not OpenBLAS");
    benchmark::AddCustomContext("openblas_core", corename ? corename() : "not OpenBLAS");
    return true;
}();

// d2l's from-scratch linear regression (chapter 11 airfoil) with the data and lr of bench_airfoil.cpp:
// y_hat = X w + b, loss = mean((y_hat - y)² / 2), backward, w -= lr·w.grad, b -= lr·b.grad, zero grads.
void BM_torch_airfoil_scratch_step(benchmark::State& s) {
    torch::set_num_threads(1);  // the tensors are far below ATen's parallel grain size anyway
    const std::int64_t n = s.range(0);
    auto X = torch::empty({n, 5});
    auto y = torch::empty({n, 1});
    for (std::int64_t i = 0; i < X.numel(); ++i) X.data_ptr<float>()[i] = float(i % 7) / 7.f - 0.5f;
    for (std::int64_t i = 0; i < y.numel(); ++i) y.data_ptr<float>()[i] = float(i % 3) / 3.f;
    auto w = torch::zeros({5, 1}, torch::requires_grad());
    auto b = torch::zeros({1}, torch::requires_grad());
    const float lr = 0.01f;
    for (auto _ : s) {
        auto loss = ((torch::matmul(X, w) + b - y).square() / 2).mean();
        loss.backward();
        {
            torch::NoGradGuard no_grad;
            w.sub_(lr * w.grad());
            b.sub_(lr * b.grad());
            w.mutable_grad().zero_();
            b.mutable_grad().zero_();
        }
        benchmark::DoNotOptimize(loss.item<float>());
    }
    s.counters["us/step"] = benchmark::Counter(double(s.iterations()) * 1e-6,
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_torch_lenet_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_mlp_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_lenet_infer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_mlp_infer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_lenet_infer_chunked)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_mlp_infer_chunked)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_torch_airfoil_scratch_step)->Arg(1)->Arg(10);
