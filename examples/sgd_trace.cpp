// d2l 12.4 "Stochastic Gradient Descent": the 2-D trace of SGD on f(x1, x2) = x1² + 2 x2² from
// (-5, -2), with N(0, 1) noise added to each gradient component (d2l's stand-in for the gradient of one
// sampled example), at a constant, exponentially decaying or polynomially decaying rate.
// The gradient comes from backward() on a ctgrad expression; the update is optim::Optimizer with
// optim::SGD and a sched:: schedule.
//
//   sgd_trace --schedule constant       (d2l: 50 steps, eta 0.1)
//   sgd_trace --schedule exponential    (d2l: 1000 steps, eta_t = 0.1 e^(-0.1 t))
//   sgd_trace --schedule polynomial     (d2l: 50 steps, eta_t = 0.1 (0.1 t + 1)^(-1/2))
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/train.hpp>

using namespace ctgrad;

namespace {

struct Settings {
    std::string schedule;
    double eta;
    std::size_t steps;
    std::uint64_t seed;
    std::filesystem::path out;
};

template <class Schedule>
void run(const Settings& cfg, Schedule schedule) {
    Param<double, 1> x1(Tensor<double, 1>{-5.0});
    Param<double, 1> x2(Tensor<double, 1>{-2.0});
    auto objective = [&] { return sum(square(x1) + 2.0 * square(x2)); };
    optim::Optimizer optimizer(optim::params(x1, x2), optim::SGD{}, schedule);
    // d2l's rate functions keep a global t that starts at 1 and is incremented before use, so its
    // first update runs at t = 2; start the schedule there to follow the same sequence.
    optimizer.set_schedule_step(2);

    std::mt19937_64 rng(cfg.seed);
    std::normal_distribution<double> noise(0.0, 1.0);

    train::MetricsCsv csv(cfg.out / "metrics.csv", {"step", "lr", "x1", "x2", "f"});
    std::vector<std::array<double, 2>> path;
    auto record = [&](std::size_t step, double lr) {
        const double f = eval(objective())();
        csv.row({step, lr, x1.value()(0), x2.value()(0), f});
        path.push_back({x1.value()(0), x2.value()(0)});
        return f;
    };
    double f = record(0, optimizer.lr());
    train::Timer timer;
    for (std::size_t t = 1; t <= cfg.steps; ++t) {
        train::check_finite(backward(objective()), 1, t);  // exact gradient into x1.grad(), x2.grad()
        x1.grad()(0) += noise(rng);                        // ... made stochastic as d2l does
        x2.grad()(0) += noise(rng);
        const double lr = optimizer.lr();
        optimizer.step();
        f = record(t, lr);
    }
    const double seconds = timer.stop();
    const double fx1 = x1.value()(0), fx2 = x2.value()(0);

    train::Summary s;
    s["schedule"] = cfg.schedule;
    s["eta"] = cfg.eta;
    s["steps"] = cfg.steps;
    s["seed"] = cfg.seed;
    s["final_x1"] = fx1;
    s["final_x2"] = fx2;
    s["final_f"] = f;
    s["seconds"] = seconds;
    train::write_summary(cfg.out, s);
    train::report(train::plot_contour(cfg.out, "plot",
                                      {.title = "SGD, " + cfg.schedule + " rate",
                                       .f = [](double a, double b) { return a * a + 2 * b * b; },
                                       .trajectory = path}));
    std::printf("epoch %zu, x1: %f, x2: %f\n", cfg.steps, fx1, fx2);  // d2l's train_2d line
}

}  // namespace

int main(int argc, char** argv) {
    return train::run_main(argc, argv, [&] {
        train::CommandLine cli{"d2l 12.4: SGD with noisy gradients on f(x1, x2) = x1^2 + 2 x2^2 from (-5, -2); writes the "
                               "trajectory and a contour plot"};
        train::CommonOptions opt{.lr = 0.1};
        train::add_common_flags(cli, opt, "sgd_trace", train::flags::lr | train::flags::seed | train::flags::out | train::flags::detect_anomaly);
        std::string schedule = "constant";
        std::size_t steps = 0;
        cli.option("--schedule", schedule, "learning-rate schedule")
            .show_default()
            .check(train::one_of({"constant", "exponential", "polynomial"}));
        // Every step is kept (metrics.csv, the plotted path): 10^6 steps are about 50 MB.
        cli.option("--steps,--epochs", steps, "number of updates (default: d2l's, 1000 for exponential, else 50)")
            .check(train::count_in(1, 1'000'000));
        cli.parse(argc, argv);
        if (steps == 0) steps = schedule == "exponential" ? 1000 : 50;
        const Settings cfg{schedule, opt.lr, steps, opt.seed, train::prepare_out_dir(opt.out)};
        if (schedule == "constant") run(cfg, sched::Constant{.lr = opt.lr});
        else if (schedule == "exponential") run(cfg, sched::Exponential{.base_lr = opt.lr, .lambda = 0.1});
        else run(cfg, sched::Polynomial{.base_lr = opt.lr, .beta = 0.1, .alpha = 0.5});
    });
}
