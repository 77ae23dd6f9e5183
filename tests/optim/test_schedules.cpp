// Each schedule against d2l's formulas (d2l 1.0.3, chapter "Learning Rate Scheduling"), the
// stateful Python schedulers replayed here as loops.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

#include <ctgrad/sched/schedules.hpp>

using namespace ctgrad;
namespace tt = boost::test_tools;

static_assert(sched::Schedule<sched::Constant> && sched::Schedule<sched::SquareRoot> && sched::Schedule<sched::Factor> &&
              sched::Schedule<sched::MultiFactor> && sched::Schedule<sched::Cosine> &&
              sched::Schedule<sched::Polynomial> && sched::Schedule<sched::Exponential> &&
              sched::Schedule<sched::Warmup<sched::Cosine>>);

BOOST_AUTO_TEST_SUITE(schedules)

BOOST_AUTO_TEST_CASE(constant) {
    const sched::Constant s{.lr = 0.3};
    for (std::size_t t : {0, 1, 7, 1000000}) BOOST_TEST(s(t) == 0.3);
}

BOOST_AUTO_TEST_CASE(square_root) {
    // d2l: lr * pow(num_update + 1.0, -0.5); d2l plots it with lr = 1.0.
    const sched::SquareRoot s{.lr = 1.0};
    BOOST_TEST(s(0) == 1.0);
    BOOST_TEST(s(3) == 0.5);
    BOOST_TEST(s(99) == 0.1, tt::tolerance(1e-15));
    for (std::size_t t = 0; t < 30; ++t) BOOST_TEST(s(t) == 1.0 * std::pow(t + 1.0, -0.5));
    BOOST_TEST(sched::SquareRoot{}.lr == 0.1);
}

BOOST_AUTO_TEST_CASE(factor_replays_d2l_sequence) {
    // d2l: FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0), called for t = 0..49;
    // each call does base_lr = max(stop, base_lr * factor) and returns it.
    const sched::Factor s{.factor = 0.9, .stop_factor_lr = 1e-2, .base_lr = 2.0};
    double state = 2.0;
    for (std::size_t t = 0; t < 50; ++t) {
        state = std::max(1e-2, state * 0.9);
        BOOST_TEST(s(t) == state);  // bit-identical
    }
    // First values by hand: 1.8, 1.62, 1.458, 1.3122.
    BOOST_TEST(s(0) == 1.8, tt::tolerance(1e-15));
    BOOST_TEST(s(1) == 1.62, tt::tolerance(1e-15));
    BOOST_TEST(s(2) == 1.458, tt::tolerance(1e-15));
    BOOST_TEST(s(3) == 1.3122, tt::tolerance(1e-15));
    // 2·0.9^(t+1) < 0.01 from t + 1 = 51 on (0.9^50 ≈ 0.00515), so the floor is hit at t = 50.
    BOOST_TEST(s(49) > 1e-2);
    BOOST_TEST(s(50) == 1e-2);
    BOOST_TEST(s(100000) == 1e-2);
}

BOOST_AUTO_TEST_CASE(factor_closed_form_far_out) {
    // Beyond the replayed range the closed form max(stop, base·factor^(t+1)) is used.
    const sched::Factor s{.factor = 0.9999, .stop_factor_lr = 1e-9, .base_lr = 1.0};
    for (std::size_t t : {4095, 4096, 10000, 50000})
        BOOST_TEST(s(t) == std::max(1e-9, std::pow(0.9999, t + 1.0)), tt::tolerance(1e-12));
    const sched::Factor flat{.factor = 1, .base_lr = 0.5};
    BOOST_TEST(flat(123456) == 0.5);
}

BOOST_AUTO_TEST_CASE(multi_factor_d2l_milestones) {
    // d2l (PyTorch): MultiStepLR(milestones=[15, 30], gamma=0.5), lr 0.5.
    const sched::MultiFactor s{.steps = {15, 30}, .factor = 0.5, .base_lr = 0.5};
    for (std::size_t t = 0; t < 15; ++t) BOOST_TEST(s(t) == 0.5);
    for (std::size_t t = 15; t < 30; ++t) BOOST_TEST(s(t) == 0.25);
    for (std::size_t t = 30; t < 40; ++t) BOOST_TEST(s(t) == 0.125);
}

namespace {
/// d2l's CosineScheduler, replayed (stateful: after max_update it returns the last value).
struct D2lCosine {
    std::size_t max_update;
    double base_lr_orig, final_lr;
    std::size_t warmup_steps = 0;
    double warmup_begin_lr = 0;
    double base_lr = 0;
    double operator()(std::size_t epoch) {
        const double max_steps = double(max_update - warmup_steps);
        if (epoch < warmup_steps)
            return warmup_begin_lr + (base_lr_orig - warmup_begin_lr) * double(epoch) / double(warmup_steps);
        if (epoch <= max_update)
            base_lr = final_lr + (base_lr_orig - final_lr) *
                                     (1 + std::cos(std::numbers::pi * double(epoch - warmup_steps) / max_steps)) / 2;
        return base_lr;
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(cosine_d2l_20_steps) {
    // d2l: CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01), 30 epochs.
    const sched::Cosine s{.max_update = 20, .base_lr = 0.3, .final_lr = 0.01};
    D2lCosine ref{20, 0.3, 0.01};
    for (std::size_t t = 0; t < 30; ++t) BOOST_TEST(s(t) == ref(t));  // bit-identical
    BOOST_TEST(s(0) == 0.3, tt::tolerance(1e-15));
    BOOST_TEST(s(10) == 0.155, tt::tolerance(1e-14));  // cos(π/2) = 0: midway
    BOOST_TEST(s(20) == 0.01);
    BOOST_TEST(s(29) == 0.01);
}

BOOST_AUTO_TEST_CASE(cosine_with_warmup_d2l) {
    // d2l: CosineScheduler(20, warmup_steps=5, base_lr=0.3, final_lr=0.01), 30 epochs.
    const sched::Warmup s{.schedule = sched::Cosine{.max_update = 15, .base_lr = 0.3, .final_lr = 0.01}, .warmup_steps = 5};
    const auto s2 = sched::cosine_with_warmup(20, 0.3, 0.01, 5);
    D2lCosine ref{20, 0.3, 0.01, 5, 0.0};
    for (std::size_t t = 0; t < 30; ++t) {
        const double r = ref(t);
        BOOST_TEST(s(t) == r);  // bit-identical
        BOOST_TEST(s2(t) == r);
    }
    // Warm-up: 0, 0.06, 0.12, 0.18, 0.24, then the cosine starts at 0.3 and reaches 0.01 at 20.
    const double warm[] = {0.0, 0.06, 0.12, 0.18, 0.24};
    for (std::size_t t = 0; t < 5; ++t) BOOST_TEST(s(t) == warm[t], tt::tolerance(1e-14));
    BOOST_TEST(s(5) == 0.3, tt::tolerance(1e-15));
    BOOST_TEST(s(20) == 0.01);
    BOOST_TEST(s(25) == 0.01);
}

BOOST_AUTO_TEST_CASE(warmup_in_front_of_other_schedules) {
    // Linear warm-up from 0.1 to a Constant's lr, then the constant.
    const sched::Warmup w{.schedule = sched::Constant{.lr = 0.5}, .warmup_steps = 4, .warmup_begin_lr = 0.1};
    const double want[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.5};
    for (std::size_t t = 0; t < 6; ++t) BOOST_TEST(w(t) == want[t], tt::tolerance(1e-14));
    // A Factor behind warm-up starts at its own t = 0 when the warm-up ends.
    const sched::Factor f{.factor = 0.5, .stop_factor_lr = 0, .base_lr = 1.0};
    const sched::Warmup wf{.schedule = f, .warmup_steps = 2};
    BOOST_TEST(wf(0) == 0.0);
    BOOST_TEST(wf(1) == 0.5);  // halfway to base_lr = 1
    BOOST_TEST(wf(2) == 0.5);  // f(0)
    BOOST_TEST(wf(3) == 0.25); // f(1)
}

BOOST_AUTO_TEST_CASE(polynomial_and_exponential_d2l) {
    // d2l 12.4: η = 0.1·(1 + 0.1 t)^(−0.5) and η = 0.1·e^(−0.1 t).
    const sched::Polynomial p{.base_lr = 0.1, .beta = 0.1, .alpha = 0.5};
    const sched::Exponential e{.base_lr = 0.1, .lambda = 0.1};
    for (std::size_t t = 0; t < 50; ++t) {
        BOOST_TEST(p(t) == 0.1 * std::pow(1 + 0.1 * double(t), -0.5), tt::tolerance(1e-15));
        BOOST_TEST(e(t) == 0.1 * std::exp(-0.1 * double(t)), tt::tolerance(1e-15));
    }
    BOOST_TEST(p(0) == 0.1);
    BOOST_TEST(p(30) == 0.05, tt::tolerance(1e-15));  // (1 + 3)^(−1/2) = 1/2
    BOOST_TEST(e(10) == 0.1 / std::numbers::e, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_SUITE_END()
