#pragma once
// The Fashion-MNIST classification loop shared by the lenet and dropout_mlp trainers (d2l's
// train_ch3 / train_ch6): minibatch SGD, test accuracy after every epoch, metrics.csv,
// summary.json, a loss/accuracy plot and d2l's summary line.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/data/data.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/train/train.hpp>
#include <xtensor/xview.hpp>

#include "distributed.hpp"

namespace example {
using namespace ctgrad;

/// Fashion-MNIST as float images in [0, 1] (N x 1 x 28 x 28) and byte labels.
struct FashionData {
    Tensor<float, 4> train_x, test_x;
    Tensor<std::uint8_t, 1> train_y, test_y;
};

/// Loads the data set from `dir`, keeping the first `limit_train` training images (0: all).
inline FashionData load_fashion(const std::filesystem::path& dir, std::size_t limit_train) {
    auto raw = data::load_fashion_mnist(dir);
    if (limit_train && limit_train < raw.train_labels.size()) {
        raw.train_images = xt::view(raw.train_images, xt::range(0, limit_train), xt::all(), xt::all());
        raw.train_labels = xt::view(raw.train_labels, xt::range(0, limit_train));
    }
    return {data::to_float_images(raw.train_images), data::to_float_images(raw.test_images),
            std::move(raw.train_labels), std::move(raw.test_labels)};
}

/// Trains `net` with `opt` for opt.epochs epochs; the schedule advances per epoch when
/// `per_epoch` (the optimizer must then have been built with optim::Pace::per_epoch). Fills
/// `summary` with the final figures and writes the run's files into `out`.
template <class Net, class Opt>
void fit(Net& net, Opt& optimizer, const FashionData& d, const train::CommonOptions& o, bool per_epoch,
         const std::filesystem::path& out, train::Summary& summary) {
    // Under mpirun each rank takes its shard of every batch and of the test set (example::shard()).
    data::DataLoader train_loader(d.train_x, d.train_y,
                                  {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed, .shard = shard()});
    data::DataLoader test_loader(d.test_x, d.test_y, {.batch_size = o.batch_size, .shuffle = false, .shard = shard()});
    dist::GradientAllReduce sync(net.parameters());  // copies rank 0's initial weights to all ranks
    const bool root = dist::is_root();                // only rank 0 prints and writes files
    train::Progress progress(o.epochs, train_loader.num_batches(),
                             root ? train::Progress::Mode::automatic : train::Progress::Mode::quiet);
    std::optional<train::MetricsCsv> csv;
    if (root) csv.emplace(out / "metrics.csv", std::vector<std::string>{"epoch", "lr", "train_loss", "train_acc", "test_acc", "seconds"});
    train::Panel loss_panel{.title = "loss", .xlabel = "epoch", .ylabel = "loss"};
    train::Panel acc_panel{.title = "accuracy", .xlabel = "epoch", .ylabel = "accuracy", .y_range = {{0.0, 1.0}}};
    train::Curve loss_c{.title = "train loss"}, train_acc_c{.title = "train acc"}, test_acc_c{.title = "test acc"};

    train::EpochStats last, test;
    double train_seconds = 0;
    for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
        const double lr = optimizer.lr();
        net.train();
        last = train::run_epoch(train_loader, epoch, progress, [&](auto& batch) {
            train::StepResult r;
            if (batch.size() > 0) {  // a rank's share of a final batch smaller than the rank count is empty
                auto loss = nn::cross_entropy(net(batch.x), batch.y);
                r = {backward(loss), loss.correct()};  // adds d loss / d p into every parameter's grad
            }
            sync(batch.size(), batch.global_count);  // the global batch's gradient on every rank
            optimizer.step();                        // SGD update; zeroes the gradients
            return r;
        });
        reduce_over_ranks(last);  // the epoch's figures over all ranks
        train_seconds += last.seconds;
        net.eval();
        test = train::evaluate(test_loader, [&](auto& batch) {
            if (batch.size() == 0) return train::StepResult{};
            auto loss = nn::cross_entropy(net(batch.x), batch.y);
            const float value = eval(loss)();
            return train::StepResult{value, loss.correct()};
        });
        reduce_over_ranks(test);
        if (per_epoch) optimizer.advance_schedule();
        char extra[96];
        std::snprintf(extra, sizeof extra, "train acc %.3f, test acc %.3f, lr %.4g", last.accuracy(), test.accuracy(), lr);
        progress.end_epoch(extra);
        if (csv) csv->row({epoch + 1, lr, last.loss(), last.accuracy(), test.accuracy(), last.seconds});
        const double e = double(epoch + 1);
        loss_c.x.push_back(e), loss_c.y.push_back(last.loss());
        train_acc_c.x.push_back(e), train_acc_c.y.push_back(last.accuracy());
        test_acc_c.x.push_back(e), test_acc_c.y.push_back(test.accuracy());
    }
    const double examples_per_sec = double(train_loader.size() * o.epochs) / train_seconds;
    summary["train_loss"] = last.loss();
    summary["train_acc"] = last.accuracy();
    summary["test_acc"] = test.accuracy();
    summary["epochs"] = o.epochs;
    summary["sec_per_epoch"] = train_seconds / double(o.epochs);
    summary["train_examples_per_sec"] = examples_per_sec;
    summary["batch_size"] = o.batch_size;
    summary["train_examples"] = train_loader.size();
    describe_layout(summary, sync);
    if (!root) return;
    train::write_summary(out, summary);
    loss_panel.curves = {loss_c};
    acc_panel.curves = {train_acc_c, test_acc_c};
    train::report(train::plot_curves(out, "plot", {loss_panel, acc_panel}));
    std::printf("train loss %.3f, train acc %.3f, test acc %.3f\n", last.loss(), last.accuracy(), test.accuracy());
    std::printf("%.1f examples/sec, %.2f sec/epoch\n", examples_per_sec, train_seconds / double(o.epochs));
}

}  // namespace example
