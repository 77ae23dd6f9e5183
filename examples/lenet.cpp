// d2l 12.11 "Learning Rate Scheduling": LeNet on Fashion-MNIST with minibatch SGD and a choice of
// schedules, d2l's settings as defaults (lr 0.3, batch 256, 30 epochs, schedule stepped per epoch).
//
//   lenet --scheduler cosine-warmup --epochs 30
//   lenet --save lenet.npz                      then: lenet --load lenet.npz --eval-only
//   lenet --out runs/a   (Ctrl-C)               then: lenet --out runs/a --resume
#include <functional>
#include <map>

#include <ctgrad/sched/schedules.hpp>

#include "classifier.hpp"

using namespace ctgrad;

namespace {
/// A schedule chosen on the command line. One type for all six keeps one instantiation of the
/// training loop (six concrete schedule types made this file compile in 60 s instead of 34 s); the
/// indirect call costs nothing next to a training step.
using AnySchedule = std::function<double(std::size_t)>;

/// Builds the optimizer for `schedule` and trains.
void run(AnySchedule schedule, const example::RunSetup& setup, bool per_epoch, const example::FashionData& d,
         train::Summary& summary) {
    nn::manual_seed(setup.common.seed);
    auto net = nn::lenet<float>();
    optim::Optimizer optimizer(net.parameters(), optim::SGD{}, std::move(schedule),
                               per_epoch ? optim::Pace::per_epoch : optim::Pace::per_update);
    example::fit(net, optimizer, d, setup, per_epoch, summary);
}
}  // namespace

int main(int argc, char** argv) {
    return example::run_main_distributed(argc, argv, [&] {
        train::CommandLine cli{"d2l 12.11: LeNet on Fashion-MNIST with a learning-rate schedule"};
        train::CommonOptions o{.epochs = 30, .batch_size = 256, .lr = 0.3};
        train::add_common_flags(cli, o, "lenet");
        std::string scheduler = "constant", per = "epoch";
        std::size_t limit_train = 0;
        cli.option("--scheduler", scheduler,
                   "constant (lr), sqrt (0.1 (t+1)^-1/2), factor (x0.9 down to 0.01), multifactor (0.5, halved "
                   "at epochs 15 and 30), cosine (0.3 -> 0.01 over 20), cosine-warmup (5 warm-up epochs)")
            .show_default()
            .check(train::one_of({"constant", "sqrt", "factor", "multifactor", "cosine", "cosine-warmup"}));
        cli.option("--schedule-per", per, "advance the schedule per epoch (as d2l) or per update")
            .show_default()
            .check(train::one_of({"epoch", "update"}));
        cli.option("--limit-train", limit_train, "use only the first N training images (0: all)")
            .show_default()
            .check(train::count_in(0, 1'000'000'000));
        train::PersistOptions po;
        train::add_persist_flags(cli, po, /*eval=*/true);
        cli.parse(argc, argv);
        if (po.eval_only && !cli.given("--out")) o.out = "runs/lenet-eval";  // keep the training run's folder
        train::check_out_path(o.out);
        const bool lr_given = cli.given("--lr");
        const bool per_epoch = per == "epoch";
        // d2l's rates for each schedule unless --lr is given.
        auto base = [&](double d2l) { return lr_given ? o.lr : d2l; };

        // The data first: a data error leaves no run folder behind.
        const auto d = example::load_fashion(o.data_path(), limit_train);
        std::optional<train::RunDir> run_dir;  // only rank 0 creates, locks and writes the run folder
        if (dist::is_root()) run_dir.emplace(o.out, po.resume);
        const std::filesystem::path out = run_dir ? run_dir->path() : std::filesystem::path(o.out);
        // The settings a resumed run must keep (--epochs may change).
        train::Summary config{{"--scheduler", scheduler}, {"--schedule-per", per}, {"--limit-train", limit_train},
                              {"--batch-size", o.batch_size}, {"--seed", o.seed}};
        config["--lr"] = lr_given ? train::Summary(o.lr) : train::Summary("default");
        const example::RunSetup setup{o, po, out, config};
        train::Summary summary;
        summary["model"] = "lenet";
        if (po.eval_only) {
            auto net = nn::lenet<float>();
            example::evaluate_saved(net, d, setup, summary);
            return;
        }
        summary["scheduler"] = scheduler;
        summary["schedule_per"] = per;
        AnySchedule schedule;
        if (scheduler == "constant") {
            schedule = sched::Constant{.lr = base(0.3)};
        } else if (scheduler == "sqrt") {
            schedule = sched::SquareRoot{.lr = base(0.1)};
        } else if (scheduler == "factor") {
            schedule = sched::Factor{.factor = 0.9, .stop_factor_lr = 1e-2, .base_lr = base(0.3)};
        } else if (scheduler == "multifactor") {
            schedule = sched::MultiFactor{.steps = {15, 30}, .factor = 0.5, .base_lr = base(0.5)};
        } else if (scheduler == "cosine") {
            schedule = sched::Cosine{.max_update = 20, .base_lr = base(0.3), .final_lr = 0.01};
        } else {
            schedule = sched::cosine_with_warmup(20, base(0.3), 0.01, /*warmup_steps=*/5);
        }
        run(std::move(schedule), setup, per_epoch, d, summary);
    });
}
