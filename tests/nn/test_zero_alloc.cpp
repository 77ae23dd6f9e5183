// A steady-state training step (forward, backward, optimizer update) of LeNet and of the
// dropout MLP performs zero heap allocations: proven with a counting operator new.
//
// On one thread. With more, each worker of the thread pool fills its own scratch pool the first time
// it takes part in a kernel, and workers join loops only when they are free
// (parallel/thread_pool.hpp), so on a busy machine that first time can come at any step: the
// allocations are bounded (once per worker and kernel) but not confined to the first steps.
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>

#include "../core/counting_allocator.hpp"

using namespace ctgrad;
using ctgrad::test::CountAllocations;

namespace {
template <class Net>
void expect_steady_state_without_allocations(Net& net, const Tensor<float, 4>& x, const Tensor<std::uint8_t, 1>& y) {
    parallel::set_num_threads(1);
    struct Restore {
        ~Restore() { parallel::set_num_threads(0); }
    } restore;
    const auto w0 = boost::hana::at_c<0>(net.parameters())->value();
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Cosine{.max_update = 10, .base_lr = 0.1, .final_lr = 0.01});
    auto step = [&] {
        const float loss = backward(nn::cross_entropy(net(x), y));
        opt.step();
        return loss;
    };
    const float first = step();  // warms the scratch pool
    step();
    float last = 0;
    {
        CountAllocations counter;
        for (int i = 0; i < 3; ++i) last = step();
        const auto log = counter.log();
        BOOST_TEST(log.count == 0u, "allocations: " << log.count << ", bytes: " << log.bytes);
    }
    BOOST_TEST(std::isfinite(last));
    BOOST_TEST(std::isfinite(first));
    // it really trains: the first weight tensor moved
    const auto& w = boost::hana::at_c<0>(net.parameters())->value();
    BOOST_TEST(!std::equal(w.begin(), w.end(), w0.begin()));
}
Tensor<float, 4> images(std::size_t n) {
    auto x = Tensor<float, 4>::from_shape({n, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 256) / 255.f;
    return x;
}
Tensor<std::uint8_t, 1> labels(std::size_t n) {
    auto y = Tensor<std::uint8_t, 1>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = std::uint8_t(i % 10);
    return y;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(zero_allocation)

BOOST_AUTO_TEST_CASE(lenet_training_step) {
    auto net = nn::lenet<float>();
    expect_steady_state_without_allocations(net, images(64), labels(64));
}

BOOST_AUTO_TEST_CASE(dropout_mlp_training_step) {
    auto net = nn::dropout_mlp<float>();
    expect_steady_state_without_allocations(net, images(64), labels(64));
}

BOOST_AUTO_TEST_SUITE_END()
