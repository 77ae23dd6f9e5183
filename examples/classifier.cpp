// The parts of the Fashion-MNIST trainers' loop (classifier.hpp) that do not depend on the model:
// compiled once for lenet and dropout_mlp instead of once per model type in each.
#include "classifier.hpp"

#include <cstdio>

#include <xtensor/xview.hpp>

namespace example {

const std::vector<std::string>& fashion_classes() {
    static const std::vector<std::string> names{"t-shirt", "trouser", "pullover", "dress", "coat",
                                                "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};
    return names;
}

FashionData load_fashion(const std::filesystem::path& dir, std::size_t limit_train) {
    auto raw = data::load_fashion_mnist(dir);
    if (limit_train && limit_train < raw.train_labels.size()) {
        raw.train_images = xt::view(raw.train_images, xt::range(0, limit_train), xt::all(), xt::all());
        raw.train_labels = xt::view(raw.train_labels, xt::range(0, limit_train));
    }
    return {data::to_float_images(raw.train_images), data::to_float_images(raw.test_images),
            std::move(raw.train_labels), std::move(raw.test_labels)};
}

void add_run_state(train::Checkpoint& c, const RunSetup& run, std::size_t epochs_done,
                   const std::optional<train::EpochPosition>& position, const train::MetricsCsv& csv,
                   double train_seconds) {
    c.meta["config"] = run.config;
    c.meta["epochs_done"] = epochs_done;
    c.meta["train_seconds"] = train_seconds;
    c.meta["metrics_rows"] = csv.lines();
    if (position) {
        const auto& s = position->stats;
        c.meta["position"] = {{"epoch", position->epoch}, {"next_batch", position->next_batch},
                              {"loss_sum", s.loss_sum},   {"correct", s.correct},
                              {"examples", s.examples},   {"batches", s.batches},
                              {"seconds", s.seconds}};
    }
}

std::pair<train::Checkpoint, ResumePoint> open_resume(const RunSetup& run, train::MetricsCsv* csv) {
    const auto ckpt_path = run.out / "checkpoint.npz";
    if (!std::filesystem::exists(ckpt_path))
        throw train::ExitWithMessage(train::exit_code::data_problem,
                                     "--resume: " + run.out.string() + " holds no checkpoint.npz (nothing to resume; "
                                                                       "run without --resume to start)");
    auto c = train::Checkpoint::read(ckpt_path);
    train::check_same_flags(c.need("config"), run.config, ckpt_path.string());
    ResumePoint at;
    at.first_epoch = c.need("epochs_done").get<std::size_t>();
    at.train_seconds = c.need("train_seconds").get<double>();
    if (csv) csv->restore_lines(c.need("metrics_rows").get<std::vector<std::string>>());
    const bool root = dist::is_root();
    if (c.meta.contains("position")) {
        const auto& p = c.meta["position"];
        at.position = train::EpochPosition{p["epoch"], p["next_batch"],
                                           {p["loss_sum"], p["correct"], p["examples"], p["batches"], p["seconds"]}};
        auto& s = at.position->stats;
        if (!root) s.loss_sum = 0, s.correct = 0, s.examples = 0;  // the ranks' figures are summed
    }
    if (root)
        std::fprintf(stderr, "resuming %s after %zu epochs%s\n", ckpt_path.c_str(), at.first_epoch,
                     at.position ? (" and " + std::to_string(at.position->next_batch) + " batches").c_str() : "");
    return {std::move(c), std::move(at)};
}

void finish_fit(const RunSetup& run, train::MetricsCsv& csv, double train_seconds, std::size_t train_examples,
                const train::Summary& layout, train::Summary& summary) {
    // The curves, from metrics.csv's rows (a resumed run has the earlier epochs only there).
    train::Panel loss_panel{.title = "loss", .xlabel = "epoch", .ylabel = "loss"};
    train::Panel acc_panel{.title = "accuracy", .xlabel = "epoch", .ylabel = "accuracy", .y_range = {{0.0, 1.0}}};
    train::Curve loss_c{.title = "train loss"}, train_acc_c{.title = "train acc"}, test_acc_c{.title = "test acc"};
    double final_train_loss = 0, final_train_acc = 0, final_test_acc = 0;
    for (const auto& line : csv.lines()) {
        double e, lr, tl, ta, va, sec;
        if (std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf,%lf,%lf", &e, &lr, &tl, &ta, &va, &sec) != 6) continue;
        loss_c.x.push_back(e), loss_c.y.push_back(tl);
        train_acc_c.x.push_back(e), train_acc_c.y.push_back(ta);
        test_acc_c.x.push_back(e), test_acc_c.y.push_back(va);
        final_train_loss = tl, final_train_acc = ta, final_test_acc = va;
    }
    const std::size_t epochs = run.common.epochs;
    const double examples_per_sec = double(train_examples * epochs) / train_seconds;
    summary["status"] = "completed";
    summary["train_loss"] = final_train_loss;
    summary["train_acc"] = final_train_acc;
    summary["test_acc"] = final_test_acc;
    summary["epochs"] = epochs;
    summary["sec_per_epoch"] = train_seconds / double(epochs);
    summary["train_examples_per_sec"] = examples_per_sec;
    summary["batch_size"] = run.common.batch_size;
    summary["train_examples"] = train_examples;
    if (run.persist.resume) summary["resumed"] = true;
    summary.update(layout);
    csv.flush();
    if (!run.persist.save.empty()) {
        summary["weights"] = run.persist.save;
        std::fprintf(stderr, "weights: %s\n", run.persist.save.c_str());
    }
    train::write_summary(run.out, summary);
    loss_panel.curves = {loss_c};
    acc_panel.curves = {train_acc_c, test_acc_c};
    train::report(train::plot_curves(run.out, "plot", {loss_panel, acc_panel}));
    std::printf("train loss %.3f, train acc %.3f, test acc %.3f\n", final_train_loss, final_train_acc, final_test_acc);
    std::printf("%.1f examples/sec, %.2f sec/epoch\n", examples_per_sec, train_seconds / double(epochs));
}

void report_evaluation(const train::EpochStats& stats, const std::vector<std::vector<double>>& confusion,
                       const RunSetup& run, train::Summary& summary) {
    const auto& names = fashion_classes();
    const std::size_t K = names.size();
    // Inference speed: the whole evaluation pass (forward in eval mode, loss, arg-max) per test image.
    std::printf("test loss %.3f, test acc %.3f (%s, %zu images, %.0f images/s)\n", stats.loss(), stats.accuracy(),
                run.persist.load.c_str(), stats.examples, stats.examples_per_sec());
    std::printf("%-12s %8s %8s\n", "class", "images", "acc");
    train::Summary per_class = train::Summary::object();
    for (std::size_t k = 0; k < K; ++k) {
        double n = 0;
        for (double v : confusion[k]) n += v;
        const double acc = n > 0 ? confusion[k][k] / n : 0.0;
        std::printf("%-12s %8.0f %8.3f\n", names[k].c_str(), n, acc);
        per_class[names[k]] = acc;
    }
    summary["status"] = "completed";
    summary["eval_only"] = true;
    summary["weights"] = run.persist.load;
    summary["test_loss"] = stats.loss();
    summary["test_acc"] = stats.accuracy();
    summary["test_examples"] = stats.examples;
    summary["test_examples_per_sec"] = stats.examples_per_sec();
    summary["per_class_acc"] = per_class;
    summary["confusion"] = confusion;
    train::write_summary(run.out, summary);
    train::report(train::plot_heatmap(run.out, "confusion",
                                      {.title = "confusion matrix (" + std::filesystem::path(run.persist.load).filename().string() + ")",
                                       .xlabel = "predicted",
                                       .ylabel = "true class",
                                       .row_labels = names,
                                       .column_labels = names,
                                       .values = confusion}));
}

}  // namespace example
