// Gradients of reductions and composite expressions (a d2l loss, a two-layer MLP), accumulation into
// grad(), constants, and float against double; central finite differences in double. (Split from
// test_gradients.cpp to keep each translation unit small.)
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/expr/matmul.hpp>
#include <ctgrad/expr/reduce.hpp>

#include "check_grads.hpp"
#include "random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(reductions) {
    auto x = random_param<double, 3>({3, 4, 5});
    auto v = random_param<double, 1>({4});
    CHECK_GRADS([&] { return sum(square(sum(x, 0))); }, x);
    CHECK_GRADS([&] { return sum(square(sum(x, 1))); }, x);
    CHECK_GRADS([&] { return sum(exp(mean(x, -1))); }, x);
    CHECK_GRADS([&] { return mean(x) * mean(x); }, x);
    CHECK_GRADS([&] { return sum(sum(x, 2) * v); }, x, v);   // reduction result broadcast again
    CHECK_GRADS([&] { return log(sum(exp(x))); }, x);          // nonlinear function of a total
    CHECK_GRADS([&] { return sum(x / (sum(square(x), 0) + 1)); }, x);  // (3,4,5) / (4,5): reduced, then broadcast back
}

BOOST_AUTO_TEST_CASE(d2l_linear_regression_loss) {
    // d2l 3.4: loss = mean((X w + b - y)^2) / 2
    Tensor<double, 2> X = random_tensor<double, 2>({10, 3});
    Tensor<double, 2> y = random_tensor<double, 2>({10, 1});
    auto w = random_param<double, 2>({3, 1});
    auto b = random_param<double, 1>({1});
    CHECK_GRADS([&] { return mean(square(matmul(X, w) + b - y)) / 2; }, w, b);
}

BOOST_AUTO_TEST_CASE(two_layer_mlp) {
    Tensor<double, 2> X = random_tensor<double, 2>({8, 5});
    Tensor<double, 2> y = random_tensor<double, 2>({8, 2});
    auto W1 = random_param<double, 2>({5, 7});
    auto b1 = random_param<double, 1>({7});
    auto W2 = random_param<double, 2>({7, 2});
    auto b2 = random_param<double, 1>({2});
    CHECK_GRADS([&] { return mean(square(matmul(relu(matmul(X, W1) + b1), W2) + b2 - y)); }, W1, b1, W2, b2);
    CHECK_GRADS([&] { return sum(sigmoid(matmul(tanh(matmul(X, W1) + b1), W2) + b2)); }, W1, b1, W2, b2);
}

BOOST_AUTO_TEST_CASE(backward_adds_into_grad) {
    Param<double, 1> x(Tensor<double, 1>{1.0, 2.0, 3.0});
    const double v = backward(sum(square(x)));
    BOOST_TEST(v == 14.0);
    backward(sum(square(x)));
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(x.grad()(i) == 4.0 * x.value()(i));  // 2x, twice
    x.zero_grad();
    backward(sum(x) * 1.0);
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(x.grad()(i) == 1.0);
}

BOOST_AUTO_TEST_CASE(constants_receive_no_gradient) {
    Param<double, 1> x(Tensor<double, 1>{1.0, 2.0});
    Param<double, 1> frozen(Tensor<double, 1>{5.0, 7.0});
    backward(sum(x * constant(frozen)));
    BOOST_TEST(frozen.grad()(0) == 0.0);
    BOOST_TEST(x.grad()(0) == 5.0);
    BOOST_TEST(x.grad()(1) == 7.0);
}

BOOST_AUTO_TEST_CASE(float_gradients_agree_with_double) {
    Tensor<double, 2> xd = random_tensor<double, 2>({33, 17});
    Param<double, 2> pd(xd);
    Param<float, 2> pf(Tensor<float, 2>(xt::cast<float>(xd)));
    backward(mean(relu(pd * 2 + 1) * tanh(pd)));
    backward(mean(relu(pf * 2 + 1) * tanh(pf)));
    for (std::size_t i = 0; i < xd.size(); ++i)
        BOOST_TEST(double(pf.grad().data()[i]) == pd.grad().data()[i], boost::test_tools::tolerance(1e-4));
}

BOOST_AUTO_TEST_SUITE_END()
