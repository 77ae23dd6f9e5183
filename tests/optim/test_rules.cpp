// Each update rule against its formula, written out here as a scalar recurrence in double
// (d2l's from-scratch code, element by element), over several steps and enough elements to
// exercise both the SIMD batches and the scalar tail of the fused pass.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;
namespace tt = boost::test_tools;

namespace {
constexpr std::size_t n = 19;  // 2 AVX-512 double batches + a tail of 3
constexpr int steps = 5;

double w0(std::size_t i) { return 0.5 - 0.1 * double(i); }
/// The gradient fed at step k (1-based) to element i; varies in sign and size.
double grad(int k, std::size_t i) { return std::sin(0.7 * double(i) + 1.3 * k) * (1.0 + 0.25 * k); }

Param<double, 1> make_param() {
    Tensor<double, 1> v = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) v(i) = w0(i);
    return Param<double, 1>(v);
}
void set_grad(Param<double, 1>& p, int k) {
    for (std::size_t i = 0; i < n; ++i) p.grad()(i) = grad(k, i);
}
/// Runs `steps` updates with the given rule at the given constant rate; returns the weights.
template <class Rule>
std::vector<double> run(Rule rule, double lr) {
    auto p = make_param();
    optim::Optimizer opt(optim::params(p), rule, sched::Constant{.lr = lr});
    for (int k = 1; k <= steps; ++k) {
        set_grad(p, k);
        opt.step();
    }
    return {p.value().begin(), p.value().end()};
}
void check_close(const std::vector<double>& got, const std::vector<double>& want) {
    BOOST_REQUIRE_EQUAL(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(got[i] == want[i], tt::tolerance(1e-12));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(optim_rules)

BOOST_AUTO_TEST_CASE(sgd_literal_values) {
    // w = 2, g = 0.5 each step, η = 0.1: 1.95, 1.90, 1.85.
    Param<double, 1> p(Tensor<double, 1>{2.0});
    optim::Optimizer opt(optim::params(p), optim::SGD{}, sched::Constant{.lr = 0.1});
    const double want[] = {1.95, 1.90, 1.85};
    for (double x : want) {
        p.grad()(0) = 0.5;
        opt.step();
        BOOST_TEST(p.value()(0) == x, tt::tolerance(1e-14));
    }
}

BOOST_AUTO_TEST_CASE(sgd_recurrence) {
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        w[i] = w0(i);
        for (int k = 1; k <= steps; ++k) w[i] -= 0.3 * grad(k, i);
    }
    check_close(run(optim::SGD{}, 0.3), w);
}

BOOST_AUTO_TEST_CASE(sgd_weight_decay) {
    // g' = g + wd·w:  w = 2, g = 0.5, wd = 0.1, η = 0.1 → g' = 0.7, w = 1.93; then g' = 0.693, w = 1.8607.
    Param<double, 1> p(Tensor<double, 1>{2.0});
    optim::Optimizer opt(optim::params(p), optim::SGD{.weight_decay = 0.1}, sched::Constant{.lr = 0.1});
    p.grad()(0) = 0.5;
    opt.step();
    BOOST_TEST(p.value()(0) == 1.93, tt::tolerance(1e-14));
    p.grad()(0) = 0.5;
    opt.step();
    BOOST_TEST(p.value()(0) == 1.8607, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(momentum_literal_values) {
    // w = 1, g = 0.5 each step, η = 0.1, β = 0.9:
    // v: 0.5, 0.95, 1.355;  w: 0.95, 0.855, 0.7195.
    Param<double, 1> p(Tensor<double, 1>{1.0});
    optim::Optimizer opt(optim::params(p), optim::Momentum{.beta = 0.9}, sched::Constant{.lr = 0.1});
    const double want_w[] = {0.95, 0.855, 0.7195};
    const double want_v[] = {0.5, 0.95, 1.355};
    for (int k = 0; k < 3; ++k) {
        p.grad()(0) = 0.5;
        opt.step();
        BOOST_TEST(p.value()(0) == want_w[k], tt::tolerance(1e-14));
        BOOST_TEST(boost::hana::at_c<0>(opt.state())[0](0) == want_v[k], tt::tolerance(1e-14));
    }
}

BOOST_AUTO_TEST_CASE(momentum_recurrence) {
    const double beta = 0.5, lr = 0.2;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), v = 0;
        for (int k = 1; k <= steps; ++k) {
            v = beta * v + grad(k, i);
            x -= lr * v;
        }
        w[i] = x;
    }
    check_close(run(optim::Momentum{.beta = beta}, lr), w);
}

BOOST_AUTO_TEST_CASE(adagrad_recurrence) {
    const double eps = 1e-6, lr = 0.4;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), s = 0;
        for (int k = 1; k <= steps; ++k) {
            const double g = grad(k, i);
            s += g * g;
            x -= lr * g / std::sqrt(s + eps);
        }
        w[i] = x;
    }
    check_close(run(optim::Adagrad{}, lr), w);
}

BOOST_AUTO_TEST_CASE(adagrad_literal_first_step) {
    // s = g² = 4, w = 1 − 0.1·2/√(4 + 1e-6).
    Param<double, 1> p(Tensor<double, 1>{1.0});
    optim::Optimizer opt(optim::params(p), optim::Adagrad{}, sched::Constant{.lr = 0.1});
    p.grad()(0) = 2;
    opt.step();
    BOOST_TEST(p.value()(0) == 1 - 0.2 / std::sqrt(4.000001), tt::tolerance(1e-14));
    BOOST_TEST(optim::Adagrad{}.eps == 1e-6);
}

BOOST_AUTO_TEST_CASE(rmsprop_recurrence) {
    const double gamma = 0.9, eps = 1e-6, lr = 0.01;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), s = 0;
        for (int k = 1; k <= steps; ++k) {
            const double g = grad(k, i);
            s = gamma * s + (1 - gamma) * g * g;
            x -= lr * g / std::sqrt(s + eps);
        }
        w[i] = x;
    }
    check_close(run(optim::RMSProp{}, lr), w);
    BOOST_TEST(optim::RMSProp{}.gamma == 0.9);
    BOOST_TEST(optim::RMSProp{}.eps == 1e-6);
}

BOOST_AUTO_TEST_CASE(adadelta_recurrence_rate_one_is_d2l) {
    // d2l's Adadelta has no rate; with η = 1 the optimizer is exactly it.
    const double rho = 0.9, eps = 1e-5;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), s = 0, delta = 0;
        for (int k = 1; k <= steps; ++k) {
            const double g = grad(k, i);
            s = rho * s + (1 - rho) * g * g;
            const double gp = std::sqrt(delta + eps) / std::sqrt(s + eps) * g;
            x -= gp;
            delta = rho * delta + (1 - rho) * gp * gp;
        }
        w[i] = x;
    }
    check_close(run(optim::Adadelta{}, 1.0), w);
    BOOST_TEST(optim::Adadelta{}.rho == 0.9);
    BOOST_TEST(optim::Adadelta{}.eps == 1e-5);
}

BOOST_AUTO_TEST_CASE(adadelta_rate_scales_only_the_weight_step) {
    const double rho = 0.9, eps = 1e-5, lr = 0.5;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), s = 0, delta = 0;
        for (int k = 1; k <= steps; ++k) {
            const double g = grad(k, i);
            s = rho * s + (1 - rho) * g * g;
            const double gp = std::sqrt(delta + eps) / std::sqrt(s + eps) * g;
            x -= lr * gp;
            delta = rho * delta + (1 - rho) * gp * gp;  // unscaled g'
        }
        w[i] = x;
    }
    check_close(run(optim::Adadelta{}, lr), w);
}

BOOST_AUTO_TEST_CASE(adam_recurrence) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-6, lr = 0.05;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = w0(i), v = 0, s = 0;
        for (int t = 1; t <= steps; ++t) {
            const double g = grad(t, i);
            v = b1 * v + (1 - b1) * g;
            s = b2 * s + (1 - b2) * g * g;
            const double vh = v / (1 - std::pow(b1, t));
            const double sh = s / (1 - std::pow(b2, t));
            x -= lr * vh / (std::sqrt(sh) + eps);
        }
        w[i] = x;
    }
    check_close(run(optim::Adam{}, lr), w);
    BOOST_TEST(optim::Adam{}.beta1 == 0.9);
    BOOST_TEST(optim::Adam{}.beta2 == 0.999);
    BOOST_TEST(optim::Adam{}.eps == 1e-6);
}

BOOST_AUTO_TEST_CASE(adam_literal_first_step) {
    // With bias correction the first Adam step is η·g/(|g| + ε): w = 1 − 0.1·3/(3 + 1e-6).
    Param<double, 1> p(Tensor<double, 1>{1.0});
    optim::Optimizer opt(optim::params(p), optim::Adam{}, sched::Constant{.lr = 0.1});
    p.grad()(0) = 3;
    opt.step();
    BOOST_TEST(p.value()(0) == 1 - 0.3 / 3.000001, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(adam_float_matches_double_recurrence) {
    // float parameters (16-lane batches + tail): same formula, float tolerance.
    constexpr std::size_t m = 37;
    Tensor<float, 1> init = xt::zeros<float>({m});
    for (std::size_t i = 0; i < m; ++i) init(i) = float(w0(i));
    Param<float, 1> p(init);
    optim::Optimizer opt(optim::params(p), optim::Adam{.weight_decay = 0.01}, sched::Constant{.lr = 0.01});
    std::vector<double> x(m), v(m, 0.0), s(m, 0.0);
    for (std::size_t i = 0; i < m; ++i) x[i] = double(init(i));
    for (int t = 1; t <= steps; ++t) {
        for (std::size_t i = 0; i < m; ++i) {
            p.grad()(i) = float(grad(t, i));
            const double g = double(float(grad(t, i))) + 0.01 * x[i];
            v[i] = 0.9 * v[i] + 0.1 * g;
            s[i] = 0.999 * s[i] + 0.001 * g * g;
            x[i] -= 0.01 * (v[i] / (1 - std::pow(0.9, t))) / (std::sqrt(s[i] / (1 - std::pow(0.999, t))) + 1e-6);
        }
        opt.step();
    }
    for (std::size_t i = 0; i < m; ++i) BOOST_TEST(double(p.value()(i)) == x[i], tt::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(every_size_through_head_batches_and_tail) {
    // Sizes 0..70 float: the pass splits into a scalar head (to align w), SIMD batches and a
    // scalar tail; every element must get the same RMSProp update.
    for (std::size_t m = 0; m <= 70; ++m) {
        Tensor<float, 1> init = xt::zeros<float>({m});
        for (std::size_t i = 0; i < m; ++i) init(i) = float(w0(i));
        Param<float, 1> p(init);
        optim::Optimizer opt(optim::params(p), optim::RMSProp{}, sched::Constant{.lr = 0.1});
        std::vector<double> x(m), s(m, 0.0);
        for (std::size_t i = 0; i < m; ++i) x[i] = double(init(i));
        for (int k = 1; k <= 3; ++k) {
            for (std::size_t i = 0; i < m; ++i) {
                const float gf = float(grad(k, i));
                p.grad()(i) = gf;
                s[i] = 0.9 * s[i] + 0.1 * double(gf) * double(gf);
                x[i] -= 0.1 * double(gf) / std::sqrt(s[i] + 1e-6);
            }
            opt.step();
        }
        for (std::size_t i = 0; i < m; ++i) BOOST_TEST(std::abs(double(p.value()(i)) - x[i]) < 1e-5);
    }
}

BOOST_AUTO_TEST_SUITE_END()
