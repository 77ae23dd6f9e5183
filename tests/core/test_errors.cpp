// Run-time shape errors throw std::invalid_argument naming both shapes.
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "expect_message.hpp"

using namespace ctgrad;

namespace {
/// Passes when f throws std::invalid_argument whose message contains every fragment.
template <class F>
void expect_invalid_argument(F&& f, std::initializer_list<std::string> fragments) {
    expect_message<std::invalid_argument>(std::forward<F>(f), fragments);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(incompatible_broadcast) {
    Param<float, 2> a(Tensor<float, 2>(xt::zeros<float>({2, 3})));
    Tensor<float, 1> b = xt::zeros<float>({4});
    expect_invalid_argument([&] { eval(a + b); }, {"operator+", "(2, 3)", "(4,)"});
    expect_invalid_argument([&] { backward(sum(a * b)); }, {"operator*", "(2, 3)", "(4,)"});
}

BOOST_AUTO_TEST_CASE(matmul_inner_dimensions) {
    Param<double, 2> a(Tensor<double, 2>(xt::zeros<double>({2, 3})));
    Param<double, 2> b(Tensor<double, 2>(xt::zeros<double>({4, 5})));
    expect_invalid_argument([&] { eval(matmul(a, b)); }, {"matmul", "(2, 3)", "(4, 5)"});
}

BOOST_AUTO_TEST_CASE(backward_needs_a_single_element) {
    Param<double, 2> a(Tensor<double, 2>(xt::zeros<double>({2, 3})));
    expect_invalid_argument([&] { backward(a * 2); }, {"backward", "(2, 3)"});
    expect_invalid_argument([&] { backward(sum(a, 0)); }, {"backward", "(3,)"});
    Param<double, 2> one(Tensor<double, 2>(xt::ones<double>({1, 1})));
    BOOST_TEST(backward(one * 3) == 3.0);  // a (1, 1) expression holds a single element: fine
}

BOOST_AUTO_TEST_CASE(axis_out_of_range) {
    Param<double, 2> a(Tensor<double, 2>(xt::zeros<double>({2, 3})));
    expect_invalid_argument([&] { eval(sum(a, 2)); }, {"sum", "axis 2", "(2, 3)"});
    expect_invalid_argument([&] { eval(mean(a, -3)); }, {"mean", "axis -3", "(2, 3)"});
}

BOOST_AUTO_TEST_SUITE_END()
