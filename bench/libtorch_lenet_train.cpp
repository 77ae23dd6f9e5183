// d2l's LeNet (chapter 6.6 settings) trained on Fashion-MNIST by libtorch, the reference for the
// accuracy and speed of examples/lenet: Xavier-uniform init, plain SGD at a constant lr, batch 256,
// a new shuffle each epoch, the last partial batch kept (d2l's DataLoader). The data is read with
// ctgrad's IDX readers so both libraries see identical inputs.
//
// Usage: libtorch_lenet_train [DATA_DIR] [EPOCHS=10] [THREADS=2] [LR=0.3]
// DATA_DIR defaults to $CTGRAD_DATA_DIR, then ./data. Prints one line per epoch and a summary.
#include <torch/torch.h>

#include "libtorch_lenet.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <ctgrad/data/datasets.hpp>
#include <ctgrad/data/error.hpp>
#include <ctgrad/data/idx.hpp>

namespace {

torch::Tensor images(const ctgrad::Tensor<std::uint8_t, 3>& raw) {
    const auto x = ctgrad::data::to_float_images(raw);  // N x 1 x 28 x 28, pixel / 255 like ToTensor()
    const auto n = std::int64_t(x.shape(0));
    // from_blob does not own the buffer: clone before x goes away.
    return torch::from_blob(const_cast<float*>(x.data()), {n, 1, 28, 28}, torch::kFloat).clone();
}

torch::Tensor labels(const ctgrad::Tensor<std::uint8_t, 1>& raw) {
    const auto n = std::int64_t(raw.size());
    return torch::from_blob(const_cast<std::uint8_t*>(raw.data()), {n}, torch::kUInt8).to(torch::kLong);
}

// Test accuracy in eval mode, in chunks to bound the activation memory.
double accuracy(torch::nn::Sequential& net, const torch::Tensor& x, const torch::Tensor& y) {
    torch::NoGradGuard no_grad;
    net->eval();
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < x.size(0); i += 1000) {
        const auto logits = net->forward(x.slice(0, i, i + 1000));
        correct += (logits.argmax(1) == y.slice(0, i, i + 1000)).sum().item<std::int64_t>();
    }
    return double(correct) / double(x.size(0));
}

}  // namespace

int main(int argc, char** argv) {
    const auto data_dir = ctgrad::data::resolve_data_dir(argc > 1 ? std::optional<std::string>(argv[1]) : std::nullopt);
    const int epochs = argc > 2 ? std::stoi(argv[2]) : 10;
    const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
    const double lr = argc > 4 ? std::stod(argv[4]) : 0.3;
    constexpr std::int64_t batch = 256;

    torch::Tensor train_x, train_y, test_x, test_y;
    try {
        const auto d = ctgrad::data::load_fashion_mnist(data_dir);
        train_x = images(d.train_images);
        train_y = labels(d.train_labels);
        test_x = images(d.test_images);
        test_y = labels(d.test_labels);
    } catch (const ctgrad::data::DataError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 3;
    }

    torch::set_num_threads(threads);
    torch::manual_seed(0);
    auto net = torch_lenet();
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(lr));
    const std::int64_t n = train_x.size(0);
    double train_seconds = 0, loss_sum = 0, test_acc = 0;
    std::int64_t correct = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
        // As d2l's timer: only the training pass is timed, not the evaluation.
        const auto t0 = std::chrono::steady_clock::now();
        net->train();
        loss_sum = 0;
        correct = 0;
        const auto order = torch::randperm(n, torch::kLong);
        for (std::int64_t i = 0; i < n; i += batch) {
            const auto idx = order.slice(0, i, std::min(i + batch, n));
            const auto x = train_x.index_select(0, idx), y = train_y.index_select(0, idx);
            opt.zero_grad();
            const auto logits = net->forward(x);
            auto loss = torch::nn::functional::cross_entropy(logits, y);
            loss.backward();
            opt.step();
            loss_sum += loss.item<double>() * double(idx.size(0));
            correct += (logits.argmax(1) == y).sum().item<std::int64_t>();
        }
        train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        test_acc = accuracy(net, test_x, test_y);
        std::printf("epoch %d: train loss %.3f, train acc %.3f, test acc %.3f\n", epoch + 1, loss_sum / double(n),
                    double(correct) / double(n), test_acc);
        std::fflush(stdout);
    }
    std::printf("train loss %.3f, train acc %.3f, test acc %.3f\n", loss_sum / double(n), double(correct) / double(n),
                test_acc);
    std::printf("%.2f sec/epoch, %.0f examples/sec on %d threads (libtorch %s)\n", train_seconds / epochs,
                double(n) * epochs / train_seconds, torch::get_num_threads(), TORCH_VERSION);
}
