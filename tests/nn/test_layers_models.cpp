// Flatten, Sequential, Dropout, the losses, run-time shape errors and the d2l models, against central
// finite differences in double and hand-checkable values. (Split from test_layers.cpp to keep each
// translation unit small.)
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/nn/nn.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../core/check_grads.hpp"
#include "../core/random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::projection;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(layers)

BOOST_AUTO_TEST_CASE(flatten_and_sequential) {
    auto net = nn::Sequential{nn::Conv2d<2, 3, 3, 1, 1, double>{}, nn::ReLU{}, nn::MaxPool2d<2>{},
                              nn::Flatten{}, nn::Linear<12, 4, double>{}, nn::Tanh{}, nn::Linear<4, 2, double>{},
                              nn::Sigmoid{}};
    static_assert(std::is_same_v<decltype(decltype(net)::output_dims<nn::Dims<2, 4, 4>>()), nn::Dims<2>>);
    auto x = random_param<double, 4>({3, 2, 4, 4});
    auto& c = net.layer<0>();
    auto& l1 = net.layer<4>();
    auto& l2 = net.layer<6>();
    CHECK_GRADS([&] { return mean(net(x)); }, x, c.weight, c.bias, l1.weight, l1.bias, l2.weight, l2.bias);
    BOOST_TEST(decltype(boost::hana::length(net.parameters()))::value == 6u);
}

BOOST_AUTO_TEST_CASE(dropout_semantics) {
    Param<double, 2> x(Tensor<double, 2>(xt::ones<double>({100, 100})));
    nn::Dropout d(0.3, 7);
    const auto y = eval(d(x));
    std::size_t zeros = 0;
    for (auto v : y) {
        BOOST_TEST((v == 0.0 || std::abs(v - 1.0 / 0.7) < 1e-12));
        zeros += v == 0.0;
    }
    BOOST_TEST(std::abs(double(zeros) / 1e4 - 0.3) < 0.02);  // ~ p of the elements dropped
    const auto y2 = eval(d(x));
    BOOST_TEST(!std::equal(y.begin(), y.end(), y2.begin()));  // a new mask each evaluation
    d.set_training(false);
    const auto id = eval(d(x));
    BOOST_TEST(std::all_of(id.begin(), id.end(), [](double v) { return v == 1.0; }));
    d.set_training(true);
    nn::Dropout none(0.0), all(1.0);
    const auto a = eval(none(x));
    const auto b = eval(all(x));
    BOOST_TEST(std::all_of(a.begin(), a.end(), [](double v) { return v == 1.0; }));
    BOOST_TEST(std::all_of(b.begin(), b.end(), [](double v) { return v == 0.0; }));
    BOOST_CHECK_THROW(nn::Dropout(1.5), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(dropout_masks_follow_one_sequence_for_any_thread_count) {
    // The masks are drawn in parallel chunks; they must be splitmix64's sequential draws, the same
    // for 1 and 2 threads, and the generator's state must advance as if drawn one by one (so that a
    // checkpoint's state continues the same masks).
    constexpr std::size_t n = 300 * 200;  // several chunks of 2^14
    const auto reference = [](std::uint64_t s, double p, std::vector<float>& mask) {
        const std::uint64_t threshold = std::uint64_t(p * 4294967296.0);
        for (auto& m : mask) {
            std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            m = (z >> 32) >= threshold ? float(1.0 / (1.0 - p)) : 0.f;
        }
        return s;
    };
    std::vector<float> want(n);
    const std::uint64_t end = reference(12345, 0.4, want);
    for (int threads : {1, 2}) {
        parallel::set_num_threads(threads);
        nn::Dropout d(0.4, 12345);
        std::vector<float> got(n, -1.f);
        BOOST_TEST(d.draw(got.data(), n));
        BOOST_TEST(d.state() == end);
        BOOST_TEST(std::memcmp(got.data(), want.data(), n * sizeof(float)) == 0, "threads " << threads);
    }
    parallel::set_num_threads(0);
}

BOOST_AUTO_TEST_CASE(dropout_gradient_with_a_fixed_mask) {
    nn::Dropout d(0.5);
    auto x = random_param<double, 2>({6, 9});
    const auto proj = projection<2>({6, 9});
    // Reseeding before each evaluation fixes the mask.
    CHECK_GRADS([&] { d.seed(11); return sum(relu(d(x * 2.0)) * proj); }, x);
    // the from-scratch form
    Tensor<double, 2> mask = xt::where(random_tensor<double, 2>({6, 9}) > 0.0, 2.0, 0.0);
    CHECK_GRADS([&] { return sum(nn::dropout(x, mask) * proj); }, x);
}

BOOST_AUTO_TEST_CASE(cross_entropy_values_and_gradients) {
    auto logits = random_param<double, 2>({5, 4});
    Tensor<int, 1> labels = {0, 3, 1, 1, 2};
    CHECK_GRADS([&] { return nn::cross_entropy(logits, labels); }, logits);
    // value: mean of log-sum-exp minus the labelled logit
    double want = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < 4; ++j) s += std::exp(logits.value()(i, j));
        want += std::log(s) - logits.value()(i, std::size_t(labels(i)));
    }
    BOOST_TEST(eval(nn::cross_entropy(logits, labels))() == want / 5, boost::test_tools::tolerance(1e-12));
    // composed with a linear layer and a temporary label tensor (moved in)
    nn::Linear<3, 4, double> fc;
    auto x = random_param<double, 2>({5, 3});
    CHECK_GRADS([&] { return nn::cross_entropy(fc(x), Tensor<std::uint8_t, 1>{0, 1, 2, 3, 0}); }, x, fc.weight, fc.bias);
}

BOOST_AUTO_TEST_CASE(cross_entropy_with_extreme_logits_stays_finite) {
    Param<double, 2> logits(Tensor<double, 2>{{80.0, -80.0, 0.0}, {-80.0, -80.0, 80.0}});
    Tensor<int, 1> labels = {1, 2};
    const double loss = backward(nn::cross_entropy(logits, labels));
    BOOST_TEST(std::isfinite(loss));
    BOOST_TEST(loss == 80.0, boost::test_tools::tolerance(1e-9));  // (160 + 0) / 2
    for (auto g : logits.grad()) BOOST_TEST(std::isfinite(g));
    CHECK_GRADS([&] { return nn::cross_entropy(logits, labels); }, logits);
    Param<float, 2> lf(Tensor<float, 2>{{80.f, -80.f, 0.f}});
    const float lossf = backward(nn::cross_entropy(lf, Tensor<int, 1>{1}));
    BOOST_TEST(std::isfinite(lossf));
}

BOOST_AUTO_TEST_CASE(cross_entropy_rejects_bad_labels) {
    Param<double, 2> logits(Tensor<double, 2>(xt::zeros<double>({2, 3})));
    BOOST_CHECK_THROW(eval(nn::cross_entropy(logits, Tensor<int, 1>{0, 3})), std::invalid_argument);
    BOOST_CHECK_THROW(eval(nn::cross_entropy(logits, Tensor<int, 1>{0})), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(mse) {
    auto p = random_param<double, 2>({4, 2});
    Tensor<double, 2> t = random_tensor<double, 2>({4, 2});
    CHECK_GRADS([&] { return nn::mse(p, t); }, p);
    double want = 0;
    for (std::size_t i = 0; i < 8; ++i) want += std::pow(p.value().data()[i] - t.data()[i], 2);
    BOOST_TEST(eval(nn::mse(p, t))() == want / 8, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(runtime_shape_errors_name_the_layer) {
    nn::Linear<4, 2, double> fc;
    Tensor<double, 2> x = xt::zeros<double>({3, 5});
    try {
        eval(fc(x));
        BOOST_ERROR("no exception");
    } catch (const std::invalid_argument& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("nn::Linear<4, 2>") != std::string::npos, m);
        BOOST_TEST(m.find("5 features") != std::string::npos, m);
    }
    nn::Conv2d<3, 2, 3, 1, 0, double> conv;
    Tensor<double, 4> img = xt::zeros<double>({1, 1, 5, 5});
    BOOST_CHECK_THROW(eval(conv(img)), std::invalid_argument);
    // flattened size vs the next Linear, when the image size is only known at run time
    auto net = nn::Sequential{nn::Conv2d<1, 2, 3, 1, 0, double>{}, nn::Flatten{}, nn::Linear<8, 2, double>{}};
    Tensor<double, 4> big = xt::zeros<double>({1, 1, 5, 5});  // flattens to 2*3*3 = 18, not 8
    try {
        eval(net(big));
        BOOST_ERROR("no exception");
    } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("18 features") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(lenet_and_mlp_shapes) {
    auto lenet = nn::lenet<float>();
    Tensor<float, 4> x = xt::zeros<float>({3, 1, 28, 28});
    const auto y = eval(lenet(x));
    BOOST_TEST(y.shape()[0] == 3u);
    BOOST_TEST(y.shape()[1] == 10u);
    BOOST_TEST(decltype(boost::hana::length(lenet.parameters()))::value == 10u);
    auto mlp = nn::dropout_mlp<float>(128, 64, 0.2, 0.5);
    BOOST_TEST(eval(mlp(x)).shape()[1] == 10u);
    BOOST_TEST(decltype(boost::hana::length(mlp.parameters()))::value == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
