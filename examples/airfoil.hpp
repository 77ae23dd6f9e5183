#pragma once
// The airfoil trainer's training loop (d2l's train_ch11), shared by its translation units: airfoil.cpp
// (the command line), airfoil_scratch.cpp and airfoil_concise.cpp (one model each). Each model's unit
// instantiates the loop for the six update rules; in one file the twelve made the trainer the
// slowest unit of the build.
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/data/data.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/loss.hpp>
#include <ctgrad/nn/serialize.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/train.hpp>

#include "distributed.hpp"

namespace airfoil {
using namespace ctgrad;
namespace fs = std::filesystem;

/// The data set: the first 1500 rows, whitened.
using Data = data::Airfoil<float>;

/// One training run's settings.
struct Setting {
    std::string name;  ///< label in metrics.csv and the plot
    double lr;
    std::size_t batch_size, epochs;
};

/// What a run produced.
struct Run {
    std::vector<double> epoch, time, loss;  ///< evaluation points
    double train_seconds = 0;
    std::size_t steps = 0, examples = 0;
    double allreduce_seconds = 0;  ///< time in the gradient all-reduce (several ranks; not checkpointed)
    double final_loss() const { return loss.empty() ? 0.0 : loss.back(); }
    double sec_per_epoch(std::size_t epochs) const { return train_seconds / double(epochs); }
    double us_per_step() const { return steps ? train_seconds / double(steps) * 1e6 : 0.0; }

    train::Summary to_json() const {
        return {{"epoch", epoch}, {"time", time}, {"loss", loss}, {"train_seconds", train_seconds},
                {"steps", steps}, {"examples", examples}};
    }
    static Run from_json(const train::Summary& j) {
        Run r;
        r.epoch = j.at("epoch").get<std::vector<double>>();
        r.time = j.at("time").get<std::vector<double>>();
        r.loss = j.at("loss").get<std::vector<double>>();
        r.train_seconds = j.at("train_seconds").get<double>();
        r.steps = j.at("steps").get<std::size_t>();
        r.examples = j.at("examples").get<std::size_t>();
        return r;
    }
};

/// Checkpointing of a run (one setting, or the four of --compare in turn).
struct Persist {
    fs::path checkpoint;                                ///< <out>/checkpoint.npz
    std::size_t every = 0;                              ///< epochs between checkpoints (0: end and Ctrl-C only)
    train::Summary config{};                            ///< the settings a resumed run must keep
    std::size_t setting = 0;                            ///< index of the setting being trained
    train::Summary finished = train::Summary::array();  ///< Run::to_json() of the settings before it
    const train::Checkpoint* resume = nullptr;          ///< continue this setting from it
    std::string save{};                                 ///< --save: the final weights
};

/// d2l's train_ch11 / train_concise_ch11 loop for any model and update rule.
template <class Model, class Rule>
Run train_ch11(const Data& d, const Tensor<float, 2>& y_all, Rule rule, const Setting& s, std::uint64_t seed,
               train::MetricsCsv* csv, const Persist& persist) {
    Model model(seed);
    optim::Optimizer optimizer(model.parameters(), rule, sched::Constant{.lr = s.lr});
    dist::GradientAllReduce sync(model.parameters());  // under mpirun: rank 0's initial weights everywhere
    data::DataLoader loader(d.features, d.labels,
                            {.batch_size = s.batch_size, .shuffle = true, .seed = seed, .shard = example::shard()});
    train::Progress progress(s.epochs, loader.num_batches(),
                             dist::is_root() ? train::Progress::Mode::automatic : train::Progress::Mode::quiet);
    Tensor<float, 2> y;  // the batch's labels as a column, to match X w's shape (batch, 1)

    Run run;
    std::size_t n = 0, first_epoch = 0;
    std::optional<std::size_t> next_batch;  // inside an interrupted epoch
    if (const auto* c = persist.resume) {
        c->restore_model(model.parameters());
        c->restore_optimizer(optimizer);
        c->restore_loader("train", loader);
        run = Run::from_json(c->need("run"));
        n = c->need("examples_seen").get<std::size_t>();
        first_epoch = c->need("epochs_done").get<std::size_t>();
        if (c->meta.contains("next_batch")) next_batch = c->meta["next_batch"].get<std::size_t>();
    }
    auto checkpoint = [&](std::size_t epochs_done, std::optional<std::size_t> batch) {
        if (!csv) return;  // rank 0 writes it
        csv->flush();
        train::Checkpoint c;
        c.add_model(model.parameters());
        c.add_optimizer(optimizer);
        c.add_loader("train", loader);
        c.meta["config"] = persist.config;
        c.meta["setting"] = persist.setting;
        c.meta["finished"] = persist.finished;
        c.meta["run"] = run.to_json();
        c.meta["examples_seen"] = n;
        c.meta["epochs_done"] = epochs_done;
        if (batch) c.meta["next_batch"] = *batch;
        c.meta["metrics_rows"] = csv->lines();
        c.save(persist.checkpoint);
    };
    auto record = [&](double epoch) {
        const double l = model.eval_loss(d.features, y_all);
        run.epoch.push_back(epoch);
        run.time.push_back(run.train_seconds);
        run.loss.push_back(l);
        if (csv) csv->row({s.name, s.lr, s.batch_size, epoch, run.train_seconds, l});
    };
    train::InterruptGuard on_ctrl_c;
    for (std::size_t epoch = first_epoch; epoch < s.epochs; ++epoch) {
        progress.begin_epoch(epoch);
        std::size_t b = next_batch.value_or(0);
        if (!next_batch) (void)loader.epoch();  // this epoch's order
        next_batch.reset();
        train::Timer timer;
        for (const std::size_t nb = loader.num_batches(); b < nb;) {
            auto& batch = loader.batch(b);
            if (y.size() != batch.size()) y.resize({batch.size(), 1});
            std::copy(batch.y.begin(), batch.y.end(), y.begin());
            // This rank's share of the batch (all of it in one process; may be empty under mpirun).
            const double loss = train::anomaly_as_divergence(epoch + 1, b + 1, [&] {
                return batch.size() > 0 ? model.train_loss(batch.x, y) : 0.0;
            });
            train::check_finite(loss, epoch + 1, ++b);
            sync(batch.size(), batch.global_count);  // the global batch's gradient on every rank
            optimizer.step();
            progress.step(batch.size(), loss);
            n += batch.global_count;
            ++run.steps;
            if (n % 200 == 0) {  // d2l's evaluation points, outside the timed intervals
                run.train_seconds += timer.stop();
                record(double(n) / double(batch.global_count) / double(loader.num_batches()));
                timer.start();
            }
            if (train::interrupt_requested()) [[unlikely]] {
                run.train_seconds += timer.stop();
                if (b == nb) checkpoint(epoch + 1, std::nullopt);  // the epoch's last step: a finished epoch
                else checkpoint(epoch, b);
                throw train::Interrupted(std::nullopt);
            }
        }
        run.train_seconds += timer.stop();
        progress.end_epoch();
        // Outside the timed intervals: checkpoints do not count as training time.
        if ((persist.every && (epoch + 1) % persist.every == 0) || epoch + 1 == s.epochs) checkpoint(epoch + 1, std::nullopt);
    }
    run.examples = n;
    run.allreduce_seconds = sync.seconds();
    if (n % 200 != 0) record(double(s.epochs));  // always end with the final loss
    if (!persist.save.empty() && dist::is_root()) nn::save(model.weights(), persist.save);
    return run;
}

/// The update rule chosen on the command line and its hyper-parameters.
struct RuleChoice {
    std::string name;  ///< sgd, momentum, adagrad, rmsprop, adadelta or adam
    double beta = 0, gamma = 0.9, rho = 0.9;
};

/// train_ch11 for `Model` with the update rule `rule` names and its hyper-parameters.
template <class Model>
Run train_with_rule(const Data& d, const Tensor<float, 2>& y_all, const RuleChoice& rule, const Setting& s,
                    std::uint64_t seed, train::MetricsCsv* csv, const Persist& persist) {
    auto with = [&](auto r) { return train_ch11<Model>(d, y_all, r, s, seed, csv, persist); };
    if (rule.name == "sgd") return with(optim::SGD{});
    if (rule.name == "momentum") return with(optim::Momentum{.beta = rule.beta});
    if (rule.name == "adagrad") return with(optim::Adagrad{});
    if (rule.name == "rmsprop") return with(optim::RMSProp{.gamma = rule.gamma});
    if (rule.name == "adadelta") return with(optim::Adadelta{.rho = rule.rho});
    return with(optim::Adam{});
}

/// train_with_rule for one model.
using TrainFn = Run (*)(const Data&, const Tensor<float, 2>&, const RuleChoice&, const Setting&, std::uint64_t,
                        train::MetricsCsv*, const Persist&);
/// For d2l's from-scratch model (airfoil_scratch.cpp).
extern const TrainFn train_scratch;
/// For d2l's concise model (airfoil_concise.cpp).
extern const TrainFn train_concise;

}  // namespace airfoil
