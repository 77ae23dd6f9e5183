// Every differentiable op against central finite differences in double (error < 1e-6), on
// random shapes including broadcasting, a Param used twice, and composite expressions.
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

BOOST_AUTO_TEST_SUITE_END()
