// The ops and layers added on the public protocol: softplus / nn::Softplus, nn::Residual,
// check_gradients over a whole model's parameters, and the double-precision image loader.
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/autodiff/gradcheck.hpp>
#include <ctgrad/data/images.hpp>
#include <ctgrad/nn/activation.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/residual.hpp>
#include <ctgrad/nn/sequential.hpp>

#include "../core/check_grads.hpp"
#include "../core/random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(extensions)

BOOST_AUTO_TEST_CASE(softplus_values_and_gradient) {
    // Stable at both ends: log(1 + e^x) would overflow at x = 1000 and round to 0 far below zero.
    Tensor<double, 1> x = {-1000.0, -40.0, -1.0, 0.0, 2.0, 40.0, 1000.0};
    const auto y = eval(softplus(x));
    BOOST_TEST(y(0) == 0.0);
    BOOST_TEST(y(1) == std::exp(-40.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(y(2) == std::log1p(std::exp(-1.0)), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(y(3) == std::log(2.0), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(y(4) == std::log1p(std::exp(2.0)), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(y(5) == 40.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(y(6) == 1000.0);
    // float, through the SIMD path (16 elements) and the scalar tail
    Tensor<float, 1> xf = xt::linspace<float>(-100.f, 100.f, 19);
    const auto yf = eval(softplus(xf));
    for (std::size_t i = 0; i < xf.size(); ++i) {
        BOOST_TEST(std::isfinite(yf(i)));
        BOOST_TEST(yf(i) == std::max(0.f, xf(i)) + std::log1p(std::exp(-std::abs(xf(i)))),
                   boost::test_tools::tolerance(1e-5f));
    }
    // gradient = sigmoid(x), including large |x|
    Param<double, 1> p(x);
    backward(sum(softplus(p)));
    for (std::size_t i = 0; i < x.size(); ++i)
        BOOST_TEST(p.grad()(i) == 1.0 / (1.0 + std::exp(-x(i))), boost::test_tools::tolerance(1e-14));

    auto q = random_param<double, 2>({3, 5}, -6, 6);
    const auto w = random_tensor<double, 2>({3, 5});
    CHECK_GRADS([&] { return sum(softplus(q * 2.0) * w); }, q);
}

BOOST_AUTO_TEST_CASE(softplus_layer) {
    nn::Sequential net{nn::Linear<4, 3, double>{}, nn::Softplus{}, nn::Linear<3, 2, double>{}};
    auto x = random_param<double, 2>({5, 4});
    const auto w = random_tensor<double, 2>({5, 2});
    CHECK_GRADS([&] { return sum(net(x) * w); }, x);
    CHECK_GRADS([&] { return sum(net(x) * w); }, net.parameters());
}

BOOST_AUTO_TEST_CASE(residual) {
    {  // around a single layer: y = x + (x W + b)
        nn::Residual res{nn::Linear<3, 3, double>{}};
        auto x = random_param<double, 2>({4, 3});
        const auto w = random_tensor<double, 2>({4, 3});
        CHECK_GRADS([&] { return sum(res(x) * w); }, x);
        CHECK_GRADS([&] { return sum(res(x) * w); }, res.parameters());
        const auto y = eval(res(x));
        const auto f = eval(res.inner()(x));
        for (std::size_t i = 0; i < y.size(); ++i)
            BOOST_TEST(y.data()[i] == x.value().data()[i] + f.data()[i], boost::test_tools::tolerance(1e-14));
    }
    {  // around a Sequential, inside a Sequential, fed by a non-trivial expression
        nn::Sequential net{nn::Linear<2, 4, double>{}, nn::Tanh{},
                           nn::Residual{nn::Sequential{nn::Linear<4, 5, double>{}, nn::Softplus{},
                                                       nn::Linear<5, 4, double>{}}},
                           nn::Linear<4, 1, double>{}};
        static_assert(std::is_same_v<decltype(decltype(net)::output_dims<nn::Dims<2>>()), nn::Dims<1>>);
        auto x = random_param<double, 2>({3, 2});
        CHECK_GRADS([&] { return sum(square(net(x * 0.5))); }, x);
        CHECK_GRADS([&] { return sum(square(net(x * 0.5))); }, net.parameters());
    }
    {  // a shape change is found at run time when the shapes are not static
        nn::Residual res{nn::Linear<nn::dynamic, nn::dynamic, double>(3, 2)};
        auto x = random_param<double, 2>({4, 3});
        BOOST_CHECK_THROW(eval(res(x)), std::invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(check_gradients_over_a_model_matches_the_loose_form) {
    nn::Sequential net{nn::Linear<3, 4, double>{}, nn::Sigmoid{}, nn::Linear<4, 2, double>{}};
    auto x = random_param<double, 2>({2, 3});
    auto f = [&] { return sum(square(net(x))); };
    const GradCheckResult whole = check_gradients(f, net.parameters());
    const GradCheckResult loose = check_gradients(f, net.layer<0>().weight, net.layer<0>().bias,
                                                  net.layer<2>().weight, net.layer<2>().bias);
    BOOST_TEST(whole.passed);
    BOOST_TEST(whole.max_error == loose.max_error);
    BOOST_TEST(whole.worst == loose.worst);
    // and it does find a wrong gradient: a tolerance no finite difference can meet fails
    const auto strict = check_gradients(GradCheckOptions{.eps = 1e-1, .tolerance = 1e-30}, f, net.parameters());
    BOOST_TEST(!strict.passed);
}

BOOST_AUTO_TEST_CASE(double_images) {
    Tensor<std::uint8_t, 3> raw = xt::zeros<std::uint8_t>({2, 3, 4});
    raw(0, 1, 2) = 255;
    raw(1, 2, 3) = 51;
    const Tensor<double, 4> x = data::to_images<double>(raw);
    BOOST_TEST((x.shape() == Shape<4>{2, 1, 3, 4}));
    BOOST_TEST(x(0, 0, 1, 2) == 1.0);
    BOOST_TEST(x(1, 0, 2, 3) == 0.2, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(x(1, 0, 0, 0) == 0.0);
    const Tensor<float, 4> xf = data::to_images<float>(raw);
    BOOST_TEST(xf(1, 0, 2, 3) == 0.2f);
}

BOOST_AUTO_TEST_SUITE_END()
