// d2l 12.5-12.10 (chapter 11 of the PyTorch edition): linear regression on the airfoil self-noise data
// (the first 1500 rows, every column whitened) trained with minibatch SGD and its refinements, in
// d2l's two forms:
//   from scratch (default)  loose Params w ~ N(0, 0.01²) and b = 0, d2l's linreg and squared_loss
//                           (x w + b - y)² / 2, backward() and optim::Optimizer — d2l's train_ch11;
//   --concise               nn::Linear<5, 1> and nn::mse (PyTorch's MSELoss, no 1/2; the reported
//                           loss is halved, as d2l's train_concise_ch11 does).
// Every 200 examples the loss over the whole data set is recorded (d2l's evaluation points; the
// time axis counts training only, not these evaluations).
//
//   airfoil --optimizer sgd|momentum|adagrad|rmsprop|adadelta|adam   (d2l's settings per chapter)
//   airfoil --compare        d2l 12.5's four settings: gd, sgd, minibatch 100, minibatch 10
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

using namespace ctgrad;
namespace fs = std::filesystem;

namespace {

using Data = data::Airfoil<float>;

/// d2l's from-scratch model: linreg(X, w, b) = X w + b with squared_loss = (ŷ - y)² / 2.
struct ScratchModel {
    Param<float, 2> w;
    Param<float, 1> b;
    explicit ScratchModel(std::uint64_t seed) : w(Tensor<float, 2>::from_shape({5, 1})), b(xt::zeros<float>({1})) {
        std::mt19937_64 g(seed);
        nn::init::normal(w.value(), 0.01, g);
    }
    auto net(const Tensor<float, 2>& X) { return matmul(X, w) + b; }
    template <class E>
    static auto squared_loss(E&& y_hat, const Tensor<float, 2>& y) {
        return square(std::forward<E>(y_hat) - y) / 2;
    }
    /// One minibatch: adds the gradient of the mean loss into w.grad(), b.grad(); returns the loss.
    double train_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) {
        return backward(mean(squared_loss(net(X), y)));
    }
    /// Mean loss over a data set (no gradients).
    double eval_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) {
        return eval(mean(squared_loss(net(X), y)))();
    }
    auto parameters() { return optim::params(w, b); }
    /// For nn::save: keys "w" (5, 1) and "b" (1,), as held.
    auto weights() { return nn::named(parameters(), {"w", "b"}); }
};

/// d2l's concise model: nn.Linear(5, 1) with weight ~ N(0, 0.01²) and nn.MSELoss.
struct ConciseModel {
    nn::Linear<5, 1> net;
    explicit ConciseModel(std::uint64_t seed) {
        std::mt19937_64 g(seed);
        nn::init::normal(net.weight.value(), 0.01, g);
        nn::init::zeros(net.bias.value());  // PyTorch draws it uniformly; d2l leaves that as is
    }
    double train_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) { return backward(nn::mse(net(X), y)); }
    /// Halved, as d2l's train_concise_ch11 reports it, so both forms print the same quantity.
    double eval_loss(const Tensor<float, 2>& X, const Tensor<float, 2>& y) { return eval(nn::mse(net(X), y))() / 2; }
    auto parameters() { return net.parameters(); }
    /// For nn::save: PyTorch's nn.Linear(5, 1) state_dict ("weight" (1, 5), "bias" (1,)).
    nn::Linear<5, 1>& weights() { return net; }
};

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

/// Calls f(rule) with the update rule named `name` and its hyper-parameters.
template <class F>
void with_rule(const std::string& name, double beta, double gamma, double rho, F&& f) {
    if (name == "sgd") f(optim::SGD{});
    else if (name == "momentum") f(optim::Momentum{.beta = beta});
    else if (name == "adagrad") f(optim::Adagrad{});
    else if (name == "rmsprop") f(optim::RMSProp{.gamma = gamma});
    else if (name == "adadelta") f(optim::Adadelta{.rho = rho});
    else f(optim::Adam{});
}

/// d2l's settings per optimizer chapter: {from-scratch lr, concise lr, from-scratch beta, concise beta}.
struct Defaults {
    double lr_scratch, lr_concise, beta_scratch = 0.5, beta_concise = 0.9;
};
Defaults defaults_for(const std::string& name) {
    if (name == "sgd") return {0.05, 0.01};             // 12.5: train_sgd(.05, 10); concise SGD lr 0.01
    if (name == "momentum") return {0.02, 0.005};       // 12.6: lr 0.02, momentum 0.5; concise 0.005, 0.9
    if (name == "adagrad") return {0.1, 0.1};           // 12.7
    if (name == "rmsprop") return {0.01, 0.01};         // 12.8: gamma 0.9
    if (name == "adadelta") return {1.0, 1.0};          // 12.9: no rate (1), rho 0.9
    return {0.01, 0.01};                                // 12.10: Adam
}

std::string sig3(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run_main_distributed(argc, argv, [&] {
        CLI::App app{"d2l 12.5-12.10: linear regression on the airfoil data (first 1500 whitened rows) with "
                     "minibatch SGD, momentum, Adagrad, RMSProp, Adadelta or Adam"};
        train::CommonOptions opt{.epochs = 2, .batch_size = 10, .lr = 0.05, .seed = 0};
        train::add_common_flags(app, opt, "airfoil");
        std::string optimizer = "sgd";
        bool concise = false, compare = false;
        double beta = 0, gamma = 0.9, rho = 0.9;
        app.add_option("--optimizer", optimizer, "update rule (defaults for --lr etc. follow d2l's chapter for it)")
            ->capture_default_str()
            ->check(CLI::IsMember({"sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam"}));
        app.add_flag("--concise", concise, "use nn::Linear and nn::mse (d2l's concise implementation; 4 epochs)");
        app.add_flag("--compare", compare,
                     "run d2l 12.5's four SGD settings (gd, sgd, minibatch 100, minibatch 10) and plot loss against time");
        // Leaky averages need a factor below 1: at 1 momentum never forgets, and RMSProp's and Adadelta's
        // averages of g^2 stay at their initial 0, so every step is g / sqrt(eps) (RMSProp) or plain SGD
        // with rate 1 (Adadelta), which is not d2l's algorithm; d2l uses 0.5 / 0.9.
        const auto leak = train::real_in(0, 1, train::Ends::open_high);
        app.add_option("--momentum", beta, "momentum beta (default: 0.5, concise 0.9)")->check(leak);
        app.add_option("--gamma", gamma, "RMSProp gamma")->capture_default_str()->check(leak);
        app.add_option("--rho", rho, "Adadelta rho")->capture_default_str()->check(leak);
        app.get_option("--lr")->description("learning rate (default: d2l's for the optimizer)");
        app.get_option("--epochs")->description("number of epochs (default: 2, concise 4)");
        train::PersistOptions po;
        // Epochs take well under a millisecond and a checkpoint (fsync) about as long or longer: by
        // default only the end of each setting and Ctrl-C write one.
        po.checkpoint_every = 0;
        train::add_persist_flags(app, po, /*eval=*/false);
        app.get_option("--save")->excludes("--compare");
        train::parse(app, argc, argv);
        train::check_out_path(opt.out);

        const Defaults def = defaults_for(optimizer);
        if (!app.count("--lr")) opt.lr = concise ? def.lr_concise : def.lr_scratch;
        if (!app.count("--momentum")) beta = concise ? def.beta_concise : def.beta_scratch;
        if (!app.count("--epochs") && concise) opt.epochs = 4;

        const Data d = data::load_airfoil<float>(opt.data_path());  // throws DataError naming the file
        Tensor<float, 2> y_all = Tensor<float, 2>::from_shape({d.labels.size(), 1});
        std::copy(d.labels.begin(), d.labels.end(), y_all.begin());
        // After the data: a data error leaves no folder. Only rank 0 creates, locks and writes the run
        // folder; every rank evaluates its (identical) replica on the whole data set.
        const bool root = dist::is_root();
        std::optional<train::RunDir> run_dir;
        if (root) run_dir.emplace(opt.out, po.resume);
        const fs::path out = run_dir ? run_dir->path() : fs::path(opt.out);
        std::optional<train::MetricsCsv> csv;
        if (root) csv.emplace(out / "metrics.csv", std::vector<std::string>{"setting", "lr", "batch_size", "epoch", "time_s", "loss"});
        Persist persist{.checkpoint = out / "checkpoint.npz", .every = po.checkpoint_every, .save = po.save};
        // The settings a resumed run must keep (--epochs may grow, except with --compare, whose
        // settings follow it).
        persist.config = {{"--optimizer", optimizer}, {"--concise", concise}, {"--compare", compare},
                          {"--lr", opt.lr},           {"--batch-size", opt.batch_size}, {"--seed", opt.seed},
                          {"--momentum", beta},       {"--gamma", gamma}, {"--rho", rho}};
        if (compare) persist.config["--epochs"] = opt.epochs;
        std::optional<train::Checkpoint> resumed;
        if (po.resume) {
            if (!fs::exists(persist.checkpoint))
                throw train::ExitWithMessage(train::exit_code::data_problem,
                                             "--resume: " + out.string() + " holds no checkpoint.npz (nothing to resume; "
                                                                           "run without --resume to start)");
            resumed = train::Checkpoint::read(persist.checkpoint);
            train::check_same_flags(resumed->need("config"), persist.config, persist.checkpoint.string());
            if (csv) csv->restore_lines(resumed->need("metrics_rows").get<std::vector<std::string>>());
            persist.finished = resumed->need("finished");
        }

        std::vector<Setting> settings;
        if (compare) {
            const std::size_t e = app.count("--epochs") ? opt.epochs : 2;
            settings = {{"gd", 1.0, 1500, app.count("--epochs") ? opt.epochs : 10},
                        {"sgd", 0.005, 1, e},
                        {"minibatch 100", 0.4, 100, e},
                        {"minibatch 10", 0.05, 10, e}};
            optimizer = "sgd";
        } else {
            settings = {{optimizer, opt.lr, opt.batch_size, opt.epochs}};
        }

        train::Summary summary;
        summary["form"] = concise ? "concise" : "scratch";
        train::Panel by_epoch{.title = "loss vs epoch", .xlabel = "epoch", .ylabel = "loss"};
        train::Panel by_time{.title = "loss vs time", .xlabel = "time (s, training only)", .ylabel = "loss",
                             .log_x = compare};
        std::vector<std::string> lines;
        const std::size_t resume_setting = resumed ? resumed->need("setting").get<std::size_t>() : 0;
        for (std::size_t i = 0; i < settings.size(); ++i) {
            const Setting& s = settings[i];
            Run run;
            persist.setting = i;
            persist.resume = resumed && i == resume_setting ? &*resumed : nullptr;
            if (i < resume_setting) {
                run = Run::from_json(persist.finished.at(i));  // finished before the checkpoint
            } else {
                try {
                    with_rule(optimizer, beta, gamma, rho, [&](auto rule) {
                        train::MetricsCsv* rows = csv ? &*csv : nullptr;
                        run = concise ? train_ch11<ConciseModel>(d, y_all, rule, s, opt.seed, rows, persist)
                                      : train_ch11<ScratchModel>(d, y_all, rule, s, opt.seed, rows, persist);
                    });
                } catch (const train::Interrupted&) {
                    summary["status"] = "interrupted";
                    if (root) train::write_summary(out, summary);
                    throw train::Interrupted(std::nullopt, "interrupted; checkpoint written to " +
                                                               persist.checkpoint.string() +
                                                               "; continue with the same command plus --resume");
                } catch (const train::Diverged&) {
                    summary["status"] = "diverged";
                    if (root) train::write_summary(out, summary);
                    throw;
                }
                persist.finished.push_back(run.to_json());
            }
            train::Summary r;
            r["optimizer"] = optimizer;
            r["lr"] = s.lr;
            r["batch_size"] = s.batch_size;
            r["epochs"] = s.epochs;
            r["loss"] = run.final_loss();
            r["sec_per_epoch"] = run.sec_per_epoch(s.epochs);
            r["us_per_step"] = run.us_per_step();
            r["train_examples_per_sec"] = double(run.examples) / run.train_seconds;
            r["steps"] = run.steps;
            r["allreduce_ms_per_step"] = run.steps ? run.allreduce_seconds / double(run.steps) * 1e3 : 0.0;
            if (optimizer == "momentum") r["momentum"] = beta;
            if (optimizer == "rmsprop") r["gamma"] = gamma;
            if (optimizer == "adadelta") r["rho"] = rho;
            if (compare) summary["settings"][s.name] = r;
            else summary.update(r);
            by_epoch.curves.push_back({.title = s.name, .x = run.epoch, .y = run.loss});
            by_time.curves.push_back({.title = s.name, .x = run.time, .y = run.loss, .points = compare});
            char buf[160];
            // d2l's line; its %.3f would print 0.000 sec/epoch here, so three significant digits.
            std::snprintf(buf, sizeof buf, "loss: %.3f, %s sec/epoch", run.final_loss(),
                          sig3(run.sec_per_epoch(s.epochs)).c_str());
            lines.push_back(compare ? std::string(buf) + "  (" + s.name + ")" : std::string(buf));
        }
        summary["status"] = "completed";
        if (po.resume) summary["resumed"] = true;
        summary["ranks"] = dist::size();
        summary["threads_per_rank"] = example::threads_per_rank();
        if (!root) return;
        csv->flush();
        train::write_summary(out, summary);
        train::report(train::plot_curves(out, "plot", {by_epoch, by_time}));
        for (const auto& l : lines) std::printf("%s\n", l.c_str());
    });
}
