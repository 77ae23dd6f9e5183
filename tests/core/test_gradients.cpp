// Every differentiable op against central finite differences in double (error < 1e-6), on
// random shapes including broadcasting, a Param used twice, and composite expressions.
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "check_grads.hpp"
#include "random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;


BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(binary_ops_same_shape) {
    auto a = random_param<double, 2>({4, 9});
    auto b = random_param<double, 2>({4, 9});
    CHECK_GRADS([&] { return sum(a + b); }, a, b);
    CHECK_GRADS([&] { return sum((a - b) * a); }, a, b);
    CHECK_GRADS([&] { return sum(a * b); }, a, b);
    CHECK_GRADS([&] { return sum(a / b); }, a, b);
    CHECK_GRADS([&] { return sum(-a * b); }, a, b);
}

BOOST_AUTO_TEST_CASE(binary_ops_broadcasting) {
    auto x = random_param<double, 2>({5, 7});
    auto row = random_param<double, 1>({7});        // a bias
    auto col = random_param<double, 2>({5, 1});     // per-row factor
    auto s = random_param<double, 0>({});           // a scalar Param
    auto cube = random_param<double, 3>({3, 1, 7}); // broadcasts against (5, 7) to (3, 5, 7)
    CHECK_GRADS([&] { return sum(x + row); }, x, row);
    CHECK_GRADS([&] { return sum(square(x * row - col)); }, x, row, col);
    CHECK_GRADS([&] { return sum(x / col); }, x, col);
    CHECK_GRADS([&] { return sum(row / x); }, x, row);
    CHECK_GRADS([&] { return sum(x * s + s / x); }, x, s);
    CHECK_GRADS([&] { return mean(cube * x - row); }, cube, x, row);
    CHECK_GRADS([&] { return sum(col * row); }, col, row);  // outer product, both broadcast
}

BOOST_AUTO_TEST_CASE(numbers_on_either_side) {
    auto x = random_param<double, 1>({13});
    CHECK_GRADS([&] { return sum(2.0 * x + 1); }, x);
    CHECK_GRADS([&] { return sum(3 - x); }, x);
    CHECK_GRADS([&] { return sum(1.5 / x); }, x);
    CHECK_GRADS([&] { return sum(x / 4); }, x);
}

BOOST_AUTO_TEST_CASE(unary_functions) {
    auto x = random_param<double, 3>({2, 3, 19});
    auto p = random_param<double, 3>({2, 3, 19}, 0.2, 3);
    CHECK_GRADS([&] { return sum(exp(x)); }, x);
    CHECK_GRADS([&] { return sum(log(p)); }, p);
    CHECK_GRADS([&] { return sum(sqrt(p)); }, p);
    CHECK_GRADS([&] { return sum(square(x)); }, x);
    CHECK_GRADS([&] { return sum(relu(x)); }, x);
    CHECK_GRADS([&] { return sum(sigmoid(x)); }, x);
    CHECK_GRADS([&] { return sum(tanh(x)); }, x);
    CHECK_GRADS([&] { return sum(-x); }, x);
}

BOOST_AUTO_TEST_CASE(same_param_used_twice) {
    auto x = random_param<double, 2>({3, 17});
    CHECK_GRADS([&] { return sum(x * x); }, x);
    CHECK_GRADS([&] { return sum(tanh(x) * exp(x) + x); }, x);
    auto w = random_param<double, 2>({4, 4});
    CHECK_GRADS([&] { return sum(matmul(w, w)); }, w);
}

BOOST_AUTO_TEST_CASE(matmul_operands_of_every_kind) {
    auto a = random_param<double, 2>({5, 3});
    auto b = random_param<double, 2>({3, 6});
    auto bias = random_param<double, 1>({6});
    Tensor<double, 2> c = random_tensor<double, 2>({6, 2});
    CHECK_GRADS([&] { return sum(matmul(a, b)); }, a, b);
    CHECK_GRADS([&] { return sum(matmul(a * 2, relu(b) + 1)); }, a, b);  // region operands
    CHECK_GRADS([&] { return sum(matmul(matmul(a, b) + bias, c)); }, a, b, bias);  // nested products
    CHECK_GRADS([&] { return mean(square(matmul(a, b))); }, a, b);
}

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
