// d2l 5.6 "Dropout": an MLP 784 -> 256 -> 256 -> 10 with dropout after each hidden layer, on
// Fashion-MNIST (lr 0.1, batch 256, 10 epochs). Two forms, as in d2l:
//   dropout_mlp             concise: nn::Sequential with nn::Dropout layers
//   dropout_mlp --scratch   from scratch: loose Params, matmul, and a dropout mask drawn by hand
#include <ctgrad/sched/schedules.hpp>

#include "classifier.hpp"
#include "dropout_mlp_scratch.hpp"

using namespace ctgrad;

int main(int argc, char** argv) {
    return example::run_main_distributed(argc, argv, [&] {
        train::CommandLine cli{"d2l 5.6: a dropout MLP on Fashion-MNIST"};
        train::CommonOptions o{.epochs = 10, .batch_size = 256, .lr = 0.1};
        train::add_common_flags(cli, o, "dropout_mlp");
        double p1 = 0.5, p2 = 0.5;
        std::size_t h1 = 256, h2 = 256, limit_train = 0;
        bool scratch = false;
        const auto prob = train::real_in(0, 1);
        cli.option("--dropout1", p1, "dropout probability after the first hidden layer").show_default().check(prob);
        cli.option("--dropout2", p2, "dropout probability after the second hidden layer").show_default().check(prob);
        // 8192 x 8192 weights are 256 MB each, with as much again for their gradients.
        cli.option("--hidden1", h1, "units of the first hidden layer").show_default().check(train::count_in(1, 8192));
        cli.option("--hidden2", h2, "units of the second hidden layer").show_default().check(train::count_in(1, 8192));
        cli.option("--limit-train", limit_train, "use only the first N training images (0: all)")
            .show_default()
            .check(train::count_in(0, 1'000'000'000));
        cli.flag("--scratch", scratch, "the from-scratch form (Params, matmul and hand-drawn masks)");
        train::PersistOptions po;
        train::add_persist_flags(cli, po, /*eval=*/true);
        cli.parse(argc, argv);
        if (po.eval_only && !cli.given("--out")) o.out = "runs/dropout_mlp-eval";  // keep the training run's folder
        train::check_out_path(o.out);

        // The data first: a data error leaves no run folder behind.
        const auto d = example::load_fashion(o.data_path(), limit_train);
        std::optional<train::RunDir> run_dir;  // only rank 0 creates, locks and writes the run folder
        if (dist::is_root()) run_dir.emplace(o.out, po.resume);
        const std::filesystem::path out = run_dir ? run_dir->path() : std::filesystem::path(o.out);
        // The settings a resumed run must keep (--epochs may change).
        const train::Summary config{{"--dropout1", p1},        {"--dropout2", p2}, {"--hidden1", h1},
                                    {"--hidden2", h2},         {"--scratch", scratch}, {"--limit-train", limit_train},
                                    {"--batch-size", o.batch_size}, {"--lr", o.lr}, {"--seed", o.seed}};
        const example::RunSetup setup{o, po, out, config};
        train::Summary summary;
        summary["model"] = scratch ? "dropout_mlp (scratch)" : "dropout_mlp";
        summary["dropout1"] = p1;
        summary["dropout2"] = p2;
        summary["hidden1"] = h1;
        summary["hidden2"] = h2;
        nn::manual_seed(o.seed);
        // Under mpirun each rank draws its own dropout masks (rank 0 the single-process ones).
        const std::uint64_t mask_seed = o.seed + 1000003ull * std::uint64_t(dist::rank());
        if (scratch) {
            example::run_scratch_mlp({h1, h2, p1, p2, mask_seed}, d, setup, summary);
        } else {
            auto net = nn::dropout_mlp<float>(h1, h2, p1, p2);
            if (po.eval_only) return example::evaluate_saved(net, d, setup, summary);
            net.template layer<3>().seed(mask_seed * 2 + 1);
            net.template layer<6>().seed(mask_seed * 2 + 2);
            optim::Optimizer optimizer(net.parameters(), optim::SGD{}, sched::Constant{.lr = o.lr});
            example::fit(net, optimizer, d, setup, false, summary);
        }
    });
}
