// d2l 12.7 "Adagrad": the 2-D trace of Adagrad on f(x1, x2) = 0.1 x1² + 2 x2² from (-5, -2).
// The objective is a ctgrad expression, its gradient comes from backward(), and the update is
// optim::Optimizer with optim::Adagrad — the same three pieces a real model uses.
//
//   adagrad_trace --eta 0.4      d2l prints: epoch 20, x1: -2.382563, x2: -0.158591
#include <cstdio>
#include <vector>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/train/train.hpp>

using namespace ctgrad;

int main(int argc, char** argv) {
    return train::run_main(argc, argv, [&] {
        train::CommandLine cli{"d2l 12.7: Adagrad on f(x1, x2) = 0.1 x1^2 + 2 x2^2 from (-5, -2); writes the trajectory and a "
                               "contour plot"};
        train::CommonOptions opt;
        train::add_common_flags(cli, opt, "adagrad_trace", train::flags::out | train::flags::detect_anomaly);
        double eta = 0.4;
        std::size_t steps = 20;
        cli.option("--eta,--lr", eta, "learning rate").show_default().check(train::positive_real());
        // Every step is kept (metrics.csv, the plotted path): 10^6 steps are about 50 MB.
        cli.option("--steps,--epochs", steps, "number of updates").show_default().check(train::count_in(1, 1'000'000));
        cli.parse(argc, argv);
        const auto out = train::prepare_out_dir(opt.out);

        Param<double, 1> x1(Tensor<double, 1>{-5.0});
        Param<double, 1> x2(Tensor<double, 1>{-2.0});
        // The objective as an expression; built afresh each time it is used (nodes are cheap).
        auto objective = [&] { return sum(0.1 * square(x1) + 2.0 * square(x2)); };
        optim::Optimizer optimizer(optim::params(x1, x2), optim::Adagrad{}, sched::Constant{.lr = eta});

        train::MetricsCsv csv(out / "metrics.csv", {"step", "x1", "x2", "f"});
        std::vector<std::array<double, 2>> path;
        auto record = [&](std::size_t step) {
            const double f = eval(objective())();
            csv.row({step, x1.value()(0), x2.value()(0), f});
            path.push_back({x1.value()(0), x2.value()(0)});
            return f;
        };
        record(0);
        train::Timer timer;
        double f = 0;
        for (std::size_t t = 1; t <= steps; ++t) {
            train::check_finite(backward(objective()), 1, t);  // adds df/dx into x1.grad(), x2.grad()
            optimizer.step();                                  // Adagrad update; zeroes the gradients
            f = record(t);
        }
        const double seconds = timer.stop();
        const double fx1 = x1.value()(0), fx2 = x2.value()(0);

        train::Summary s;
        s["eta"] = eta;
        s["steps"] = steps;
        s["final_x1"] = fx1;
        s["final_x2"] = fx2;
        s["final_f"] = f;
        s["seconds"] = seconds;
        train::write_summary(out, s);
        train::report(train::plot_contour(
            out, "plot",
            {.title = "Adagrad, eta = " + std::to_string(eta),
             .f = [](double a, double b) { return 0.1 * a * a + 2 * b * b; },
             .trajectory = path}));
        std::printf("epoch %zu, x1: %f, x2: %f\n", steps, fx1, fx2);  // d2l's train_2d line
    });
}
