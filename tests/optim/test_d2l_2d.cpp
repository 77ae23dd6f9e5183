// d2l's 2-D toy problems (chapter 12), with the objective written in the expression DSL and the
// gradient from backward(), against the same recurrence written out by hand in double.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;
namespace tt = boost::test_tools;

namespace {
struct Point {
    double x1, x2;
};

/// Runs `steps` optimizer steps on f(x1, x2) = a·x1² + b·x2² from (−5, −2).
template <class Rule, class Sched>
Point run_dsl(double a, double b, Rule rule, Sched schedule, int steps = 20) {
    Param<double, 1> x1(Tensor<double, 1>{-5.0});
    Param<double, 1> x2(Tensor<double, 1>{-2.0});
    optim::Optimizer opt(optim::params(x1, x2), rule, schedule);
    for (int i = 0; i < steps; ++i) {
        backward(sum(a * square(x1) + b * square(x2)));
        opt.step();
    }
    return {x1.value()(0), x2.value()(0)};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(d2l_2d)

BOOST_AUTO_TEST_CASE(gradient_descent_f_x1sq_2x2sq) {
    // d2l 12.3 gd_2d: f = x1² + 2 x2², η = 0.1, 20 steps from (−5, −2).
    double x1 = -5, x2 = -2;
    for (int i = 0; i < 20; ++i) {
        x1 -= 0.1 * 2 * x1;
        x2 -= 0.1 * 4 * x2;
    }
    const Point p = run_dsl(1.0, 2.0, optim::SGD{}, sched::Constant{.lr = 0.1});
    BOOST_TEST(p.x1 == x1, tt::tolerance(1e-12));
    BOOST_TEST(p.x2 == x2, tt::tolerance(1e-12));
    // d2l prints "epoch 20, x1: -0.057646, x2: -0.000073".
    BOOST_TEST(std::abs(p.x1 - -0.057646) < 1e-6);
    BOOST_TEST(std::abs(p.x2 - -0.000073) < 1e-6);
}

BOOST_AUTO_TEST_CASE(adagrad_eta_04_and_2) {
    // d2l 12.7 adagrad_2d: f = 0.1 x1² + 2 x2², g = (0.2 x1, 4 x2), ε = 1e-6.
    for (double eta : {0.4, 2.0}) {
        double x1 = -5, x2 = -2, s1 = 0, s2 = 0;
        for (int i = 0; i < 20; ++i) {
            const double g1 = 0.2 * x1, g2 = 4 * x2;
            s1 += g1 * g1;
            s2 += g2 * g2;
            x1 -= eta / std::sqrt(s1 + 1e-6) * g1;
            x2 -= eta / std::sqrt(s2 + 1e-6) * g2;
        }
        const Point p = run_dsl(0.1, 2.0, optim::Adagrad{}, sched::Constant{.lr = eta});
        BOOST_TEST(p.x1 == x1, tt::tolerance(1e-12));
        BOOST_TEST(std::abs(p.x2 - x2) <= 1e-12 * (1 + std::abs(x2)));
    }
    // d2l prints "epoch 20, x1: -2.382563, x2: -0.158591" for η = 0.4
    // and "epoch 20, x1: -0.002295, x2: -0.000000" for η = 2.
    const Point p04 = run_dsl(0.1, 2.0, optim::Adagrad{}, sched::Constant{.lr = 0.4});
    BOOST_TEST(std::abs(p04.x1 - -2.382563) < 1e-6);
    BOOST_TEST(std::abs(p04.x2 - -0.158591) < 1e-6);
    const Point p2 = run_dsl(0.1, 2.0, optim::Adagrad{}, sched::Constant{.lr = 2.0});
    BOOST_TEST(std::abs(p2.x1 - -0.002295) < 1e-6);
    BOOST_TEST(std::abs(p2.x2) < 1e-6);
}

BOOST_AUTO_TEST_CASE(rmsprop_eta_04_gamma_09) {
    // d2l 12.8 rmsprop_2d: f = 0.1 x1² + 2 x2², η = 0.4, γ = 0.9, ε = 1e-6.
    const double eta = 0.4, gamma = 0.9;
    double x1 = -5, x2 = -2, s1 = 0, s2 = 0;
    for (int i = 0; i < 20; ++i) {
        const double g1 = 0.2 * x1, g2 = 4 * x2;
        s1 = gamma * s1 + (1 - gamma) * g1 * g1;
        s2 = gamma * s2 + (1 - gamma) * g2 * g2;
        x1 -= eta / std::sqrt(s1 + 1e-6) * g1;
        x2 -= eta / std::sqrt(s2 + 1e-6) * g2;
    }
    const Point p = run_dsl(0.1, 2.0, optim::RMSProp{.gamma = gamma}, sched::Constant{.lr = eta});
    BOOST_TEST(p.x1 == x1, tt::tolerance(1e-12));
    BOOST_TEST(std::abs(p.x2 - x2) <= 1e-12 * (1 + std::abs(x2)));
    // d2l prints "epoch 20, x1: -0.010599, x2: 0.000000".
    BOOST_TEST(std::abs(p.x1 - -0.010599) < 1e-6);
    BOOST_TEST(std::abs(p.x2) < 1e-6);
}

BOOST_AUTO_TEST_CASE(sgd_with_exponential_schedule) {
    // Gradient descent (no noise) on f = x1² + 2 x2² with η_t = 0.1·e^(−0.1 t), the rate indexed
    // by the update count: the recurrence by hand.
    double x1 = -5, x2 = -2;
    for (int t = 0; t < 20; ++t) {
        const double eta = 0.1 * std::exp(-0.1 * t);
        x1 -= eta * 2 * x1;
        x2 -= eta * 4 * x2;
    }
    const Point p = run_dsl(1.0, 2.0, optim::SGD{}, sched::Exponential{.base_lr = 0.1, .lambda = 0.1});
    BOOST_TEST(p.x1 == x1, tt::tolerance(1e-12));
    BOOST_TEST(p.x2 == x2, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()
