// Conv2d's weight and bias are graph operands (leaves like Linear's): constant() freezes them, an
// expression can stand for them; and the fuse() consumers (ReLU, max and average pooling) give the
// unfused chain's values and gradients.
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/nn/avgpool2d.hpp>
#include <ctgrad/nn/conv2d.hpp>
#include <ctgrad/nn/maxpool2d.hpp>

#include "../core/check_grads.hpp"
#include "../core/random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;

namespace {
template <class N>
inline constexpr bool is_conv_node_v = false;
template <class E, class W, class B, std::size_t S, std::size_t P, class... Epi>
inline constexpr bool is_conv_node_v<nn::Conv2dNode<E, W, B, S, P, Epi...>> = true;

template <class A, class B>
void check_equal(const A& a, const B& b, double tol) {
    BOOST_TEST(a.shape() == b.shape(), boost::test_tools::per_element());
    for (std::size_t i = 0; i < a.size(); ++i) BOOST_TEST(a.data()[i] == b.data()[i], boost::test_tools::tolerance(tol));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(conv_operands)

BOOST_AUTO_TEST_CASE(constant_weight_is_frozen) {
    nn::Conv2d<2, 3, 3, 1, 1, double> conv;
    nn::init::normal(conv.bias.value(), 1.0);
    auto x = random_param<double, 4>({2, 2, 5, 4});
    const auto w = random_tensor<double, 4>({2, 3, 5, 4});
    auto frozen = [&] { return sum(nn::conv2d<1, 1>(x, constant(conv.weight), conv.bias) * w); };
    CHECK_GRADS(frozen, x, conv.bias);
    conv.weight.zero_grad();
    backward(frozen());
    BOOST_TEST(xt::all(xt::equal(conv.weight.grad(), 0.0)));
    BOOST_TEST(xt::any(xt::not_equal(conv.bias.grad(), 0.0)));
    // the same values as the layer
    check_equal(eval(nn::conv2d<1, 1>(x, constant(conv.weight), conv.bias)), eval(conv(x)), 1e-13);
}

BOOST_AUTO_TEST_CASE(weight_from_an_expression) {
    // a gradient that is not a Param leaf's reaches the Param through the expression's backward
    auto wt = random_param<double, 4>({3, 2, 3, 3});
    auto b = random_param<double, 1>({3});
    auto x = random_param<double, 4>({2, 2, 6, 5});
    const auto w = random_tensor<double, 4>({2, 3, 2, 2});
    CHECK_GRADS([&] { return sum(nn::conv2d<2>(x, tanh(wt), b * 2.0) * w); }, x, wt, b);
}

BOOST_AUTO_TEST_CASE(fused_pooling_equals_the_unfused_chain) {
    nn::Conv2d<2, 3, 3, 1, 0, double> conv;
    nn::init::normal(conv.bias.value(), 0.5);
    nn::AvgPool2d<2> avg;
    nn::MaxPool2d<2> maxp;
    auto x = random_param<double, 4>({2, 2, 7, 6});
    const auto w = random_tensor<double, 4>({2, 3, 2, 2});
    // conv -> avg pool fuses into the convolution's epilogue
    static_assert(is_conv_node_v<decltype(avg(conv(x)))>);
    static_assert(is_conv_node_v<decltype(maxp(relu(conv(x))))>);
    // ReLU then average pooling: the ReLU fuses, the pooling stays its own node
    static_assert(!is_conv_node_v<decltype(avg(relu(conv(x))))>);
    const Tensor<double, 4> c = eval(conv(x));
    check_equal(eval(avg(conv(x))), eval(avg(c)), 1e-13);
    check_equal(eval(avg(relu(conv(x)))), eval(avg(relu(c))), 1e-13);
    check_equal(eval(maxp(relu(conv(x)))), eval(maxp(relu(c))), 1e-13);
    CHECK_GRADS([&] { return sum(avg(conv(x)) * w); }, x, conv.weight, conv.bias);
    CHECK_GRADS([&] { return sum(avg(relu(conv(x))) * w); }, x, conv.weight, conv.bias);
    // the fused gradients equal the ones through the unfused nodes
    Param<double, 4> cp(c);
    backward(sum(avg(cp) * w));
    x.zero_grad();
    conv.weight.zero_grad();
    backward(sum(avg(conv(x)) * w));
    Tensor<double, 4> via_unfused = xt::zeros<double>(x.shape());
    {
        Param<double, 4> xp(x.value());
        backward(sum(conv(xp) * constant(cp.grad())));
        via_unfused = xp.grad();
    }
    check_equal(x.grad(), via_unfused, 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()
