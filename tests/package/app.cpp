// The consumer program of the package tests (tests/package/meson.build): built against an installed
// ctgrad through pkg-config, through CMake's find_package and as a meson subproject. It trains a
// two-class logistic (softmax) regression for a few steps and exits 1 unless the loss went down.
// The labels go through an IDX file, so the program also needs the compiled library (the reader is in
// libctgrad, and links zlib) and the large product runs through the library's threaded GEMM.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <ctgrad/ctgrad.hpp>

using namespace ctgrad;

int main(int argc, char** argv) {
    const std::filesystem::path label_file = argc > 1 ? argv[1] : "labels.idx1";
    constexpr std::size_t n = 512;

    // Two Gaussian blobs in 2-D, class i % 2.
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.f, 1.f);
    Tensor<float, 2> x({n, 2});
    std::vector<char> idx = {0, 0, 8, 1, 0, 0, char(n >> 8), char(n & 0xff)};  // IDX1 header, n labels
    for (std::size_t i = 0; i < n; ++i) {
        const int label = int(i % 2);
        x(i, 0) = (label ? 1.5f : -1.5f) + noise(rng);
        x(i, 1) = (label ? 0.5f : -0.5f) + noise(rng);
        idx.push_back(char(label));
    }
    std::ofstream(label_file, std::ios::binary).write(idx.data(), std::streamsize(idx.size()));
    const Tensor<std::uint8_t, 1> labels = data::read_idx_labels(label_file);

    Param<float, 2> w(Tensor<float, 2>(xt::zeros<float>({2, 2})));
    Param<float, 1> b(Tensor<float, 1>(xt::zeros<float>({2})));
    optim::Optimizer opt(optim::params(w, b), optim::SGD{}, sched::Constant{.lr = 0.5});
    float first = 0.f, last = 0.f;
    for (int step = 0; step < 20; ++step) {
        last = backward(nn::cross_entropy(matmul(x, w) + b, labels));
        if (step == 0) first = last;
        opt.step();
    }
    std::printf("loss %.4f -> %.4f after 20 steps\n", double(first), double(last));
    if (!(last < 0.8f * first)) {
        std::fprintf(stderr, "error: the loss did not fall by 20%% (%.4f -> %.4f)\n", double(first), double(last));
        return 1;
    }
    return 0;
}
