// The Optimizer's bookkeeping: gradients zeroed, counters, schedule pacing, parameters of
// different ranks and scalar types in one optimizer, state layout.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <type_traits>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

using namespace ctgrad;
namespace hana = boost::hana;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(optimizer)

BOOST_AUTO_TEST_CASE(step_zeroes_grads_and_advances_count) {
    Param<double, 1> a(Tensor<double, 1>{1.0, 2.0, 3.0});
    optim::Optimizer opt(optim::params(a), optim::SGD{}, sched::Constant{.lr = 0.5});
    BOOST_TEST(opt.update_count() == 0u);
    a.grad() = Tensor<double, 1>{1.0, -2.0, 4.0};
    opt.step();
    BOOST_TEST(opt.update_count() == 1u);
    BOOST_TEST(opt.schedule_step() == 1u);
    const double want[] = {0.5, 3.0, 1.0};
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(a.value()(i) == want[i]);
        BOOST_TEST(a.grad()(i) == 0.0);
    }
    opt.step();  // zero gradient: nothing moves
    BOOST_TEST(opt.update_count() == 2u);
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(a.value()(i) == want[i]);
}

BOOST_AUTO_TEST_CASE(zero_grad_alone) {
    Param<float, 2> b(Tensor<float, 2>{{1, 2}, {3, 4}});
    optim::Optimizer opt(optim::params(b), optim::SGD{}, sched::Constant{.lr = 0.5});
    b.grad() = Tensor<float, 2>{{1, 1}, {1, 1}};
    opt.zero_grad();
    for (float g : b.grad()) BOOST_TEST(g == 0.0f);
    BOOST_TEST(b.value()(1, 1) == 4.0f);
    BOOST_TEST(opt.update_count() == 0u);
}

BOOST_AUTO_TEST_CASE(ranks_one_and_two_and_scalar_types_all_update) {
    Param<double, 1> v(Tensor<double, 1>{1.0, 2.0});
    Param<double, 2> m(Tensor<double, 2>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    Param<float, 3> c(xt::ones<float>({2, 3, 5}));
    // the list type a model's parameters() returns, built directly with hana
    hana::tuple<Param<double, 1>*, Param<double, 2>*, Param<float, 3>*> list{&v, &m, &c};
    optim::Optimizer opt(list, optim::Momentum{.beta = 0.5}, sched::Constant{.lr = 0.1});
    static_assert(std::is_same_v<decltype(opt), optim::Optimizer<optim::Momentum, sched::Constant, decltype(list)>>);

    // loss = sum(v²) + sum(m) + sum(c·2) → grads 2v, 1, 2
    backward(sum(square(v)) + sum(m));
    backward(sum(c * 2.0f));
    opt.step();
    BOOST_TEST(v.value()(0) == 1.0 - 0.1 * 2.0, tt::tolerance(1e-15));
    BOOST_TEST(v.value()(1) == 2.0 - 0.1 * 4.0, tt::tolerance(1e-15));
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) BOOST_TEST(m.value()(i, j) == 1.0 + 3.0 * double(i) + double(j) - 0.1);
    for (float x : c.value()) BOOST_TEST(x == 1.0f - 0.2f, tt::tolerance(1e-6f));
    for (float g : c.grad()) BOOST_TEST(g == 0.0f);

    // State: one momentum tensor per parameter, shaped like it.
    auto& st = opt.state();
    BOOST_TEST(hana::at_c<1>(st)[0].shape()[0] == 2u);
    BOOST_TEST(hana::at_c<1>(st)[0].shape()[1] == 3u);
    BOOST_TEST(hana::at_c<2>(st)[0].dimension() == 3u);
    BOOST_TEST(hana::at_c<1>(st)[0](0, 0) == 1.0);  // v = g after one step

    // Second step with the same gradients: v = 0.5·g + g = 1.5 g.
    backward(sum(m));
    opt.step();
    BOOST_TEST(m.value()(0, 0) == 1.0 - 0.1 - 0.15, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(schedule_per_update_by_default) {
    Param<double, 1> a(Tensor<double, 1>{0.0});
    optim::Optimizer opt(optim::params(a), optim::SGD{}, sched::MultiFactor{.steps = {2}, .factor = 0.5, .base_lr = 1.0});
    BOOST_TEST((opt.pace() == optim::Pace::per_update));
    BOOST_TEST(opt.lr() == 1.0);
    // Each step uses lr() before it: rates 1, 1, 0.5, 0.5 with gradient −1.
    const double want[] = {1.0, 2.0, 2.5, 3.0};
    for (double x : want) {
        a.grad()(0) = -1.0;
        opt.step();
        BOOST_TEST(a.value()(0) == x);
    }
    BOOST_TEST(opt.lr() == 0.5);
}

BOOST_AUTO_TEST_CASE(schedule_per_epoch) {
    Param<double, 1> a(Tensor<double, 1>{0.0});
    optim::Optimizer opt(optim::params(a), optim::SGD{}, sched::Factor{.factor = 0.5, .stop_factor_lr = 0, .base_lr = 2.0},
                         optim::Pace::per_epoch);
    // Two epochs of three updates: the rate only moves on advance_schedule().
    for (int epoch = 0; epoch < 2; ++epoch) {
        for (int i = 0; i < 3; ++i) {
            a.grad()(0) = -1.0;
            opt.step();
        }
        opt.advance_schedule();
    }
    BOOST_TEST(opt.update_count() == 6u);
    BOOST_TEST(opt.schedule_step() == 2u);
    BOOST_TEST(a.value()(0) == 3 * 1.0 + 3 * 0.5);  // Factor: 1.0 at t = 0, 0.5 at t = 1
    BOOST_TEST(opt.lr() == 0.25);
    opt.set_schedule_step(0);
    BOOST_TEST(opt.lr() == 1.0);
}

BOOST_AUTO_TEST_CASE(adam_bias_correction_uses_update_count_not_schedule_position) {
    // With a per-epoch schedule the rule still sees t = 1, 2, ... per update.
    Param<double, 1> a(Tensor<double, 1>{0.0});
    optim::Optimizer opt(optim::params(a), optim::Adam{}, sched::Constant{.lr = 0.1}, optim::Pace::per_epoch);
    double x = 0, v = 0, s = 0;
    for (int t = 1; t <= 3; ++t) {
        const double g = 1.0 + t;
        a.grad()(0) = g;
        opt.step();
        v = 0.9 * v + 0.1 * g;
        s = 0.999 * s + 0.001 * g * g;
        x -= 0.1 * (v / (1 - std::pow(0.9, t))) / (std::sqrt(s / (1 - std::pow(0.999, t))) + 1e-6);
    }
    BOOST_TEST(a.value()(0) == x, tt::tolerance(1e-12));
    BOOST_TEST(opt.schedule_step() == 0u);
}

BOOST_AUTO_TEST_CASE(state_can_be_saved_and_restored) {
    // Copy the optimizer's state into a fresh one (a checkpoint round trip in memory): the two
    // then produce the same updates.
    Param<double, 1> a(Tensor<double, 1>{1.0, -1.0});
    Param<double, 1> b(Tensor<double, 1>{1.0, -1.0});
    optim::Optimizer oa(optim::params(a), optim::Adam{}, sched::Constant{.lr = 0.1});
    optim::Optimizer ob(optim::params(b), optim::Adam{}, sched::Constant{.lr = 0.1});
    for (int i = 0; i < 3; ++i) {
        a.grad() = Tensor<double, 1>{0.5, 2.0};
        oa.step();
    }
    b.value() = a.value();
    ob.state() = oa.state();
    ob.set_update_count(oa.update_count());
    ob.set_schedule_step(oa.schedule_step());
    a.grad() = Tensor<double, 1>{-1.0, 0.25};
    b.grad() = Tensor<double, 1>{-1.0, 0.25};
    oa.step();
    ob.step();
    BOOST_TEST(a.value()(0) == b.value()(0));
    BOOST_TEST(a.value()(1) == b.value()(1));
}

BOOST_AUTO_TEST_CASE(weight_decay_applies_through_any_rule) {
    // Momentum with wd: g' = g + wd·w. w = 1, g = 0, wd = 0.5, η = 0.1, β = 0.9:
    // v1 = 0.5, w1 = 0.95; g'2 = 0.475, v2 = 0.925, w2 = 0.8575.
    Param<double, 1> a(Tensor<double, 1>{1.0});
    optim::Optimizer opt(optim::params(a), optim::Momentum{.beta = 0.9, .weight_decay = 0.5}, sched::Constant{.lr = 0.1});
    opt.step();
    BOOST_TEST(a.value()(0) == 0.95, tt::tolerance(1e-14));
    opt.step();
    BOOST_TEST(a.value()(0) == 0.8575, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(large_parameters_split_over_threads_update_every_element_alike) {
    // 100003 elements: above the size at which the pass is split over the threads, odd, so the
    // chunks have scalar heads and tails. Adam with weight decay, two steps, 1 thread vs 2 threads.
    const std::size_t n = 100003;
    auto run = [&](int threads) {
        ctgrad::parallel::set_num_threads(threads);
        Param<float, 1> p(Tensor<float, 1>::from_shape({n}));
        for (std::size_t i = 0; i < n; ++i) p.value()(i) = float(i % 101) / 50.f - 1.f;
        optim::Optimizer opt(optim::params(p), optim::Adam{.weight_decay = 0.01}, sched::Constant{.lr = 0.1});
        for (int step = 0; step < 2; ++step) {
            p.grad() = Tensor<float, 1>::from_shape({n});
            for (std::size_t i = 0; i < n; ++i) p.grad()(i) = float(i % 37) / 18.f - 0.97f;  // |g| > 0.025: never cancelled by the decay
            opt.step();
        }
        ctgrad::parallel::set_num_threads(1);
        std::size_t not_zeroed = 0;
        for (std::size_t i = 0; i < n; ++i) not_zeroed += p.grad()(i) != 0.f;
        BOOST_TEST(not_zeroed == 0u);
        return Tensor<float, 1>(p.value());
    };
    const auto one = run(1), two = run(2);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < n; ++i) differ += !(std::abs(one(i) - two(i)) <= 1e-6f * (1.f + std::abs(one(i))));
    BOOST_TEST(differ == 0u);
    // Every element moved (a chunk left out would keep its initial value): the first step of Adam
    // moves each element by lr against the sign of its (never zero) gradient.
    std::size_t unmoved = 0;
    for (std::size_t i = 0; i < n; ++i) unmoved += two(i) == float(i % 101) / 50.f - 1.f;
    BOOST_TEST(unmoved == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
