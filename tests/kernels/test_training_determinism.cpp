// Issue 14 item 3: the same seed gives bit-identical training with 1, 2 and 3 threads. LeNet
// (convolutions with fused ReLU and max pooling, GEMMs, cross-entropy) and the dropout MLP (dropout
// masks, GEMMs split over threads, the optimizer's split update) each train a few SGD steps on
// shuffled minibatches from a DataLoader; every loss and every weight afterwards must match the
// 1-thread run bit for bit.
#include <ctgrad/ctgrad.hpp>
#include <ctgrad/data/data_loader.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/schedules.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <boost/hana/for_each.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

using namespace ctgrad;

namespace {

// A synthetic image set (the real one need not be present): 300 images of 1 x 28 x 28, 10 classes.
struct Images {
    Tensor<float, 4> x = Tensor<float, 4>::from_shape({300, 1, 28, 28});
    Tensor<std::uint8_t, 1> y = Tensor<std::uint8_t, 1>::from_shape({300});
    Images() {
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(0.f, 1.f);
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = u(rng);
        for (std::size_t i = 0; i < y.size(); ++i) y(i) = std::uint8_t(rng() % 10);
    }
};

struct Run {
    std::vector<float> losses, weights;
};

// Trains `steps` minibatches of 100 (the last epoch's order drawn anew) with `threads` threads.
template <class MakeNet>
Run train(MakeNet make_net, int threads, std::size_t steps) {
    static const Images data;
    ctgrad::parallel::set_num_threads(threads);
    nn::manual_seed(17);
    auto net = make_net();
    optim::Optimizer opt(net.parameters(), optim::SGD{}, sched::Constant{.lr = 0.05});
    data::DataLoader loader(data.x, data.y, {.batch_size = 100, .shuffle = true, .seed = 99});
    Run r;
    while (r.losses.size() < steps)
        for (auto& b : loader.epoch()) {
            if (r.losses.size() == steps) break;
            r.losses.push_back(backward(nn::cross_entropy(net(b.x), b.y)));
            opt.step();
        }
    boost::hana::for_each(net.parameters(), [&](auto* p) {
        const auto& v = p->value();
        r.weights.insert(r.weights.end(), v.data(), v.data() + v.size());
    });
    ctgrad::parallel::set_num_threads(1);
    return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

template <class MakeNet>
void check(MakeNet make_net, const char* model) {
    const Run one = train(make_net, 1, 5);
    BOOST_TEST_REQUIRE(one.losses.size() == 5u);
    BOOST_TEST(one.losses.front() != one.losses.back(), model << ": the loss must move over the steps");
    for (int t : {2, 3}) {
        const Run r = train(make_net, t, 5);
        BOOST_TEST(same_bits(r.losses, one.losses), model << ": losses, " << t << " threads vs 1");
        BOOST_TEST(same_bits(r.weights, one.weights), model << ": weights after 5 steps, " << t << " threads vs 1");
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(training_determinism)

BOOST_AUTO_TEST_CASE(lenet_1_2_3_threads) {
    check([] { return nn::lenet<float>(); }, "LeNet");
}
BOOST_AUTO_TEST_CASE(dropout_mlp_1_2_3_threads) {
    check([] { return nn::dropout_mlp<float>(); }, "dropout MLP");
}

BOOST_AUTO_TEST_SUITE_END()
