// Every layer and loss against central finite differences in double, plus their forward values
// on hand-checkable inputs.
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/nn/nn.hpp>

#include "../core/check_grads.hpp"
#include "../core/random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::projection;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(layers)

BOOST_AUTO_TEST_CASE(linear) {
    nn::Linear<5, 3, double> fc;
    nn::init::normal(fc.bias.value(), 1.0);
    auto x = random_param<double, 2>({4, 5});
    const auto proj = projection<2>({4, 3});
    CHECK_GRADS([&] { return sum(fc(x) * proj); }, x, fc.weight, fc.bias);
    // forward: x W + b
    const auto y = eval(fc(x));
    double want = fc.bias.value()(2);
    for (std::size_t k = 0; k < 5; ++k) want += x.value()(1, k) * fc.weight.value()(k, 2);
    BOOST_TEST(y(1, 2) == want, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(conv2d_stride_and_padding) {
    {  // stride 1, padding 2, 1 -> 3 channels
        nn::Conv2d<1, 3, 5, 1, 2, double> conv;
        nn::init::normal(conv.bias.value(), 1.0);
        auto x = random_param<double, 4>({2, 1, 7, 6});
        const auto proj = projection<4>({2, 3, 7, 6});
        CHECK_GRADS([&] { return sum(conv(x) * proj); }, x, conv.weight, conv.bias);
    }
    {  // stride 2, padding 0, 2 -> 4 channels
        nn::Conv2d<2, 4, 3, 2, 0, double> conv;
        nn::init::normal(conv.bias.value(), 1.0);
        auto x = random_param<double, 4>({3, 2, 9, 8});
        const auto proj = projection<4>({3, 4, 4, 3});
        CHECK_GRADS([&] { return sum(conv(x) * proj); }, x, conv.weight, conv.bias);
    }
    {  // stride 2, padding 2, 3 -> 2 channels, inside a region (relu after, square before)
        nn::Conv2d<3, 2, 5, 2, 2, double> conv;
        auto x = random_param<double, 4>({2, 3, 6, 6});
        const auto proj = projection<4>({2, 2, 3, 3});
        CHECK_GRADS([&] { return sum(tanh(conv(x * 0.5 + 0.1)) * proj); }, x, conv.weight, conv.bias);
    }
}

BOOST_AUTO_TEST_CASE(conv2d_forward_value) {
    // 1 channel, 3x3 ones kernel, no padding over a 4x4 ramp: each output is a 3x3 window sum.
    nn::Conv2d<1, 1, 3, 1, 0, double> conv;
    std::fill(conv.weight.value().begin(), conv.weight.value().end(), 1.0);
    conv.bias.value()(0) = 0.5;
    auto x = Tensor<double, 4>::from_shape({1, 1, 4, 4});
    for (std::size_t i = 0; i < 16; ++i) x.data()[i] = double(i);
    const auto y = eval(conv(x));
    BOOST_TEST(y.shape()[2] == 2u);
    BOOST_TEST(y(0, 0, 0, 0) == 0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10 + 0.5);
    BOOST_TEST(y(0, 0, 1, 1) == 5 + 6 + 7 + 9 + 10 + 11 + 13 + 14 + 15 + 0.5);
}

BOOST_AUTO_TEST_CASE(maxpool2d) {
    nn::MaxPool2d<2> pool;
    auto x = random_param<double, 4>({2, 3, 6, 8});  // distinct values: the max is unique
    const auto proj = projection<4>({2, 3, 3, 4});
    CHECK_GRADS([&] { return sum(pool(x) * proj); }, x);
    nn::MaxPool2d<3, 2> overlapping;  // windows overlap: gradients accumulate
    const auto proj2 = projection<4>({2, 3, 2, 3});
    CHECK_GRADS([&] { return sum(overlapping(x) * proj2); }, x);
}

BOOST_AUTO_TEST_CASE(conv_relu_pool_fuse_into_the_convolution) {
    // relu() and nn::MaxPool2d fold into the Conv2d node (one node type, no separate passes); the
    // result and the gradients equal those of the unfused chain (a "* 1.0" keeps the ReLU and
    // pooling as separate nodes there).
    nn::Conv2d<2, 3, 3, 1, 1, double> conv;
    nn::init::normal(conv.bias.value(), 0.5);
    nn::MaxPool2d<2> pool;
    nn::MaxPool2d<3, 2> overlapping;
    auto x = random_param<double, 4>({2, 2, 7, 9});
    using Fused = decltype(pool(relu(conv(x))));
    static_assert(std::is_same_v<Fused, decltype(relu(pool(conv(x))))>, "ReLU and pooling commute when fused");
    static_assert(!std::is_same_v<decltype(pool(relu(conv(x) * 1.0))), Fused>);
    const auto fused = eval(pool(relu(conv(x))));
    const auto plain = eval(pool(relu(conv(x) * 1.0)));
    BOOST_TEST(fused.shape() == plain.shape(), boost::test_tools::per_element());
    BOOST_TEST(xt::allclose(fused, plain, 0.0, 1e-15));

    const auto proj = projection<4>({2, 3, 3, 4});
    CHECK_GRADS([&] { return sum(pool(relu(conv(x))) * proj); }, x, conv.weight, conv.bias);
    const auto proj2 = projection<4>({2, 3, 3, 4});
    CHECK_GRADS([&] { return sum(overlapping(conv(x)) * proj2); }, x, conv.weight, conv.bias);
    const auto proj3 = projection<4>({2, 3, 7, 9});
    CHECK_GRADS([&] { return sum(relu(conv(x)) * proj3); }, x, conv.weight, conv.bias);
    nn::Conv2d<2, 4, 3, 2, 1, double> strided;  // the GEMM path: output 4 x 5, pooled 2 x 2
    const auto proj4 = projection<4>({2, 4, 2, 2});
    CHECK_GRADS([&] { return sum(pool(relu(strided(x))) * proj4); }, x, strided.weight, strided.bias);

    // Gradients of the fused chain equal the unfused chain's.
    backward(sum(pool(relu(conv(x))) * proj));
    const Tensor<double, 4> gx = x.grad(), gw = conv.weight.grad();
    x.zero_grad();
    conv.weight.zero_grad();
    conv.bias.zero_grad();
    backward(sum(pool(relu(conv(x) * 1.0)) * proj));
    BOOST_TEST(xt::allclose(gx, x.grad(), 0.0, 1e-14));
    BOOST_TEST(xt::allclose(gw, conv.weight.grad(), 0.0, 1e-14));
}

BOOST_AUTO_TEST_CASE(maxpool2d_ties_route_to_the_first_maximum) {
    // A window of equal values: the whole gradient goes to its first element in row-major order.
    Param<double, 4> x(Tensor<double, 4>(xt::ones<double>({1, 1, 2, 4})));
    backward(sum(nn::MaxPool2d<2>{}(x) * 3.0));
    BOOST_TEST(x.grad()(0, 0, 0, 0) == 3.0);
    BOOST_TEST(x.grad()(0, 0, 0, 1) == 0.0);
    BOOST_TEST(x.grad()(0, 0, 1, 0) == 0.0);
    BOOST_TEST(x.grad()(0, 0, 0, 2) == 3.0);
    BOOST_TEST(x.grad()(0, 0, 1, 3) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
