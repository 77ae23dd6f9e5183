// A rule and a schedule written outside the library plug into optim::Optimizer unchanged.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <cstddef>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;
namespace tt = boost::test_tools;

namespace user {
/// An exponential moving average of the gradient as the step direction, scaled by a root-mean-
/// square denominator (two state tensors; a made-up rule, so it cannot come from the library):
///   m ← α m + (1 − α) g;  q ← α q + (1 − α) g²;  w ← w − η m / √(q + δ).
struct EmaRms {
    double alpha = 0.5;
    double delta = 1e-8;

    static constexpr std::size_t state_slots = 2;
    template <class T>
    struct Coeffs {
        T lr, alpha, one_minus_alpha, delta;
    };
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr), T(alpha), T(1 - alpha), T(delta)};
    }
    template <class V, class C>
    void apply(V& w, V g, std::array<V, 2>& s, const C& c) const {
        s[0] = c.alpha * s[0] + c.one_minus_alpha * g;
        s[1] = c.alpha * s[1] + c.one_minus_alpha * (g * g);
        w -= c.lr * s[0] / vm::sqrt(s[1] + c.delta);
    }
};

/// A triangular (cyclic) schedule: up from low to high over `half` positions, back down, repeat.
struct Triangle {
    double low = 0.0, high = 1.0;
    std::size_t half = 4;
    double operator()(std::size_t t) const {
        const std::size_t p = t % (2 * half);
        const double frac = p <= half ? double(p) / double(half) : double(2 * half - p) / double(half);
        return low + (high - low) * frac;
    }
};

/// Not a rule: misses apply(). Not a schedule: no call operator.
struct NotARule {
    static constexpr std::size_t state_slots = 0;
    template <class T>
    int prepare(double, std::size_t) const { return 0; }
};
struct NotASchedule {
    double lr = 0.1;
};
}  // namespace user

static_assert(optim::UpdateRule<user::EmaRms>);
static_assert(sched::Schedule<user::Triangle>);
static_assert(!optim::UpdateRule<user::NotARule>);
static_assert(!sched::Schedule<user::NotASchedule>);
static_assert(optim::UpdateRule<optim::SGD> && optim::UpdateRule<optim::Momentum> && optim::UpdateRule<optim::Adagrad> &&
              optim::UpdateRule<optim::RMSProp> && optim::UpdateRule<optim::Adadelta> && optim::UpdateRule<optim::Adam>);

BOOST_AUTO_TEST_SUITE(custom_policy)

BOOST_AUTO_TEST_CASE(triangle_schedule_values) {
    const user::Triangle s{.low = 0.1, .high = 0.5, .half = 2};
    const double want[] = {0.1, 0.3, 0.5, 0.3, 0.1, 0.3};
    for (std::size_t t = 0; t < 6; ++t) BOOST_TEST(s(t) == want[t], tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(user_rule_and_schedule_in_the_optimizer) {
    // 21 double elements: SIMD batches and a scalar tail both run the user's apply().
    constexpr std::size_t n = 21;
    Tensor<double, 1> init = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) init(i) = 1.0 + 0.1 * double(i);
    Param<double, 1> w(init);
    const user::Triangle tri{.low = 0.1, .high = 0.5, .half = 2};
    optim::Optimizer opt(optim::params(w), user::EmaRms{.alpha = 0.8}, tri);

    std::array<double, n> x{}, m{}, q{};
    for (std::size_t i = 0; i < n; ++i) x[i] = init(i);
    for (std::size_t t = 0; t < 6; ++t) {
        const double eta = tri(t);
        BOOST_TEST(opt.lr() == eta);
        // loss = sum(w²) / 2 → g = w, through the DSL
        backward(sum(square(w)) * 0.5);
        opt.step();
        for (std::size_t i = 0; i < n; ++i) {
            const double g = x[i];
            m[i] = 0.8 * m[i] + 0.2 * g;
            q[i] = 0.8 * q[i] + 0.2 * g * g;
            x[i] -= eta * m[i] / std::sqrt(q[i] + 1e-8);
        }
    }
    for (std::size_t i = 0; i < n; ++i) BOOST_TEST(w.value()(i) == x[i], tt::tolerance(1e-12));
    for (double g : w.grad()) BOOST_TEST(g == 0.0);
}

BOOST_AUTO_TEST_CASE(user_schedule_behind_library_warmup) {
    const sched::Warmup s{.schedule = user::Triangle{.low = 0.2, .high = 0.6, .half = 2}, .warmup_steps = 2};
    // Triangle has neither base_lr nor lr, so the warm-up climbs to its value at 0 (0.2).
    BOOST_TEST(s(0) == 0.0);
    BOOST_TEST(s(1) == 0.1, tt::tolerance(1e-14));
    BOOST_TEST(s(2) == 0.2, tt::tolerance(1e-14));
    BOOST_TEST(s(3) == 0.4, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_SUITE_END()
