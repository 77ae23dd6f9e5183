// Gradients of the elementwise functions, a Param used twice, and matmul with operands of every kind,
// against central finite differences in double. (Split from test_gradients.cpp to keep each
// translation unit small.)
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

BOOST_AUTO_TEST_SUITE_END()
