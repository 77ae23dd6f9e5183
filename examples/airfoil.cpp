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
#include <string>
#include <vector>

#include "airfoil.hpp"

using namespace airfoil;

namespace {

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
        train::CommandLine cli{"d2l 12.5-12.10: linear regression on the airfoil data (first 1500 whitened rows) with "
                               "minibatch SGD, momentum, Adagrad, RMSProp, Adadelta or Adam"};
        train::CommonOptions opt{.epochs = 2, .batch_size = 10, .lr = 0.05, .seed = 0};
        train::add_common_flags(cli, opt, "airfoil");
        std::string optimizer = "sgd";
        bool concise = false, compare = false;
        double beta = 0, gamma = 0.9, rho = 0.9;
        cli.option("--optimizer", optimizer, "update rule (defaults for --lr etc. follow d2l's chapter for it)")
            .show_default()
            .check(train::one_of({"sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam"}));
        cli.flag("--concise", concise, "use nn::Linear and nn::mse (d2l's concise implementation; 4 epochs)");
        cli.flag("--compare", compare,
                 "run d2l 12.5's four SGD settings (gd, sgd, minibatch 100, minibatch 10) and plot loss against time");
        // Leaky averages need a factor below 1: at 1 momentum never forgets, and RMSProp's and Adadelta's
        // averages of g^2 stay at their initial 0, so every step is g / sqrt(eps) (RMSProp) or plain SGD
        // with rate 1 (Adadelta), which is not d2l's algorithm; d2l uses 0.5 / 0.9.
        const auto leak = train::real_in(0, 1, train::Ends::open_high);
        cli.option("--momentum", beta, "momentum beta (default: 0.5, concise 0.9)").check(leak);
        cli.option("--gamma", gamma, "RMSProp gamma").show_default().check(leak);
        cli.option("--rho", rho, "Adadelta rho").show_default().check(leak);
        cli["--lr"].help("learning rate (default: d2l's for the optimizer)");
        cli["--epochs"].help("number of epochs (default: 2, concise 4)");
        train::PersistOptions po;
        // Epochs take well under a millisecond and a checkpoint (fsync) about as long or longer: by
        // default only the end of each setting and Ctrl-C write one.
        po.checkpoint_every = 0;
        train::add_persist_flags(cli, po, /*eval=*/false);
        cli["--save"].excludes(cli["--compare"]);
        cli.parse(argc, argv);
        train::check_out_path(opt.out);

        const Defaults def = defaults_for(optimizer);
        if (!cli.given("--lr")) opt.lr = concise ? def.lr_concise : def.lr_scratch;
        if (!cli.given("--momentum")) beta = concise ? def.beta_concise : def.beta_scratch;
        if (!cli.given("--epochs") && concise) opt.epochs = 4;

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
            const std::size_t e = cli.given("--epochs") ? opt.epochs : 2;
            settings = {{"gd", 1.0, 1500, cli.given("--epochs") ? opt.epochs : 10},
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
                    train::MetricsCsv* rows = csv ? &*csv : nullptr;
                    const RuleChoice rule{optimizer, beta, gamma, rho};
                    run = (concise ? train_concise : train_scratch)(d, y_all, rule, s, opt.seed, rows, persist);
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
