#pragma once
// The Fashion-MNIST classification loop shared by the lenet and dropout_mlp trainers (d2l's
// train_ch3 / train_ch6): minibatch SGD, test accuracy after every epoch, metrics.csv,
// summary.json, a loss/accuracy plot and d2l's summary line; checkpoints, --resume, Ctrl-C,
// --save, and --load --eval-only. What does not depend on the model is compiled once, in
// classifier.cpp.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/data/data.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/nn/serialize.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/train/train.hpp>

#include "distributed.hpp"

namespace example {
using namespace ctgrad;

/// Fashion-MNIST as float images in [0, 1] (N x 1 x 28 x 28) and byte labels.
struct FashionData {
    Tensor<float, 4> train_x, test_x;
    Tensor<std::uint8_t, 1> train_y, test_y;
};

/// Fashion-MNIST's class names, by label.
const std::vector<std::string>& fashion_classes();

/// Loads the data set from `dir`, keeping the first `limit_train` training images (0: all).
FashionData load_fashion(const std::filesystem::path& dir, std::size_t limit_train);

/// How a run is set up besides the model: the common flags, the persistence flags, the run folder,
/// and the settings a resumed run must share (flag name -> value).
struct RunSetup {
    const train::CommonOptions& common;
    const train::PersistOptions& persist;
    std::filesystem::path out;  ///< the run folder (rank 0's train::RunDir creates and locks it)
    train::Summary config;
};

/// The weights of a model as nn::save / nn::load take them: a Sequential itself; another model
/// offers state() (e.g. nn::named(...) of its Params).
template <class Net>
decltype(auto) weights_of(Net& net) {
    if constexpr (nn::Saveable<Net&>) return (net);
    else return net.state();
}

/// The run's part of a checkpoint (its settings, progress and metrics rows) into `c.meta`.
void add_run_state(train::Checkpoint& c, const RunSetup& run, std::size_t epochs_done,
                   const std::optional<train::EpochPosition>& position, const train::MetricsCsv& csv,
                   double train_seconds);

/// Where a resumed run continues.
struct ResumePoint {
    std::size_t first_epoch = 0;                   ///< epochs done
    double train_seconds = 0;                      ///< training time so far
    std::optional<train::EpochPosition> position;  ///< inside an interrupted epoch
};

/// Opens the checkpoint of the run folder for --resume: checks that it exists and that the run's
/// settings match, restores the metrics rows into `csv` (rank 0's, else null) and returns the
/// checkpoint and where the run continues; the caller restores the model, optimizer and loader.
std::pair<train::Checkpoint, ResumePoint> open_resume(const RunSetup& run, train::MetricsCsv* csv);

/// The end of a completed fit(): the final figures from metrics.csv's rows into `summary` (with the
/// process layout `layout`), summary.json, the curves' plot and the final lines on stdout.
void finish_fit(const RunSetup& run, train::MetricsCsv& csv, double train_seconds, std::size_t train_examples,
                const train::Summary& layout, train::Summary& summary);

/// The report of evaluate_saved(): the per-class table on stdout, summary.json and the confusion
/// matrix plot.
void report_evaluation(const train::EpochStats& stats, const std::vector<std::vector<double>>& confusion,
                       const RunSetup& run, train::Summary& summary);

/// Everything of the run at the end of an epoch, or inside one after Ctrl-C (`position`).
template <class Net, class Opt, class Loader>
void write_checkpoint(const std::filesystem::path& path, Net& net, const Opt& optimizer, const Loader& loader,
                      const RunSetup& run, std::size_t epochs_done, const std::optional<train::EpochPosition>& position,
                      const train::MetricsCsv& csv, double train_seconds) {
    train::Checkpoint c;
    c.add_model(weights_of(net));
    if constexpr (requires { net.rng_state(); }) c.meta["model_rng"] = net.rng_state();
    c.add_optimizer(optimizer);
    c.add_loader("train", loader);
    add_run_state(c, run, epochs_done, position, csv, train_seconds);
    c.save(path);
}

/// Trains `net` with `opt` for common.epochs epochs; the schedule advances per epoch when
/// `per_epoch` (the optimizer must then have been built with optim::Pace::per_epoch). Checkpoints
/// every persist.checkpoint_every epochs and on Ctrl-C; with persist.resume continues from the
/// checkpoint in the run folder. Fills `summary` with the final figures and writes the run's files.
template <class Net, class Opt>
void fit(Net& net, Opt& optimizer, const FashionData& d, const RunSetup& run, bool per_epoch, train::Summary& summary) {
    const auto& o = run.common;
    const auto& out = run.out;
    const auto ckpt_path = out / "checkpoint.npz";
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

    ResumePoint at;
    if (run.persist.resume) {
        auto [c, point] = open_resume(run, csv ? &*csv : nullptr);
        c.restore_model(weights_of(net));
        if constexpr (requires { net.set_rng_state(std::string()); }) net.set_rng_state(c.need("model_rng").get<std::string>());
        c.restore_optimizer(optimizer);
        c.restore_loader("train", train_loader);
        at = std::move(point);
    }
    std::size_t first_epoch = at.first_epoch;
    double train_seconds = at.train_seconds;
    std::optional<train::EpochPosition> position = std::move(at.position);  // inside an interrupted epoch
    auto checkpoint = [&](std::size_t epochs_done, const std::optional<train::EpochPosition>& pos) {
        if (!root) return;
        csv->flush();
        write_checkpoint(ckpt_path, net, optimizer, train_loader, run, epochs_done, pos, *csv, train_seconds);
    };
    // What an unfinished run leaves: a summary that says so, next to its checkpoint and metrics.
    auto fail_summary = [&](const char* status) {
        summary["status"] = status;
        summary["epochs_done"] = first_epoch;
        if (root) train::write_summary(out, summary);
    };
    auto interrupted = [&](const std::optional<train::EpochPosition>& pos, std::size_t epochs_done) {
        checkpoint(epochs_done, pos);
        fail_summary("interrupted");
        throw train::Interrupted(pos, "interrupted; checkpoint written to " + ckpt_path.string() +
                                          "; continue with the same command plus --resume");
    };

    train::InterruptGuard on_ctrl_c;
    train::EpochStats last, test;
    for (std::size_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
        const double lr = optimizer.lr();
        net.train();
        try {
            last = train::run_epoch(
                train_loader, epoch, progress,
                [&](auto& batch) {
                    train::StepResult r;
                    if (batch.size() > 0) {  // a rank's share of a final batch smaller than the rank count is empty
                        auto loss = nn::cross_entropy(net(batch.x), batch.y);
                        r = {backward(loss), loss.correct()};  // adds d loss / d p into every parameter's grad
                    }
                    sync(batch.size(), batch.global_count);  // the global batch's gradient on every rank
                    optimizer.step();                        // SGD update; zeroes the gradients
                    return r;
                },
                position ? &*position : nullptr);
        } catch (const train::Interrupted& e) {
            train_seconds += e.position->stats.seconds - (position ? position->stats.seconds : 0.0);
            interrupted(e.position, epoch);
        } catch (const train::Diverged&) {
            fail_summary("diverged");
            throw;
        }
        reduce_over_ranks(last);  // the epoch's figures over all ranks
        train_seconds += last.seconds - (position ? position->stats.seconds : 0.0);
        position.reset();
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
        first_epoch = epoch + 1;
        // Written outside the timed epoch: checkpoints do not count as training time.
        const std::size_t every = run.persist.checkpoint_every;
        const bool due = (every && (epoch + 1) % every == 0) || epoch + 1 == o.epochs;
        if (due) checkpoint(epoch + 1, std::nullopt);
        if (train::interrupt_requested()) interrupted(std::nullopt, epoch + 1);
    }
    if (!root) return;  // the rest reports and writes
    if (first_epoch == 0 || csv->lines().empty()) throw train::ExitWithMessage(train::exit_code::failure, "no epoch ran");

    train::Summary layout;
    describe_layout(layout, sync);
    if (!run.persist.save.empty()) nn::save(weights_of(net), run.persist.save);
    finish_fit(run, *csv, train_seconds, train_loader.size(), layout, summary);
}

/// --load FILE --eval-only: the test loss and accuracy of saved weights, a per-class accuracy table,
/// summary.json and a confusion-matrix image in the run folder.
template <class Net>
void evaluate_saved(Net& net, const FashionData& d, const RunSetup& run, train::Summary& summary) {
    if (!dist::is_root()) return;  // under mpirun rank 0 evaluates alone
    nn::load(weights_of(net), run.persist.load);  // io::FormatError (exit 3) naming the file and key
    net.eval();
    data::DataLoader test_loader(d.test_x, d.test_y, {.batch_size = run.common.batch_size, .shuffle = false});
    constexpr std::size_t K = 10;
    std::vector<std::vector<double>> confusion(K, std::vector<double>(K, 0.0));
    const auto stats = train::evaluate(test_loader, [&](auto& batch) {
        const Tensor<float, 2> logits = eval(net(batch.x));
        auto loss = nn::cross_entropy(logits, batch.y);
        const float value = eval(loss)();
        std::size_t correct = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            std::size_t best = 0;
            for (std::size_t j = 1; j < K; ++j)
                if (logits(i, j) > logits(i, best)) best = j;
            confusion[batch.y(i)][best] += 1;
            correct += best == batch.y(i);
        }
        return train::StepResult{value, correct};
    });
    report_evaluation(stats, confusion, run, summary);
}

}  // namespace example
