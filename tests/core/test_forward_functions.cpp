// Forward values of the elementwise functions against xtensor, float and double. (Split from
// test_forward.cpp to keep each translation unit small.)
#include <boost/test/unit_test.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/expr/matmul.hpp>
#include <ctgrad/expr/reduce.hpp>

#include "check_close.hpp"
#include "random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::check_close;
using ctgrad::test::random_tensor;

using Scalars = std::tuple<float, double>;

BOOST_AUTO_TEST_SUITE(forward)

BOOST_AUTO_TEST_CASE_TEMPLATE(elementwise_functions, T, Scalars) {
    const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-12;
    Param<T, 3> x(random_tensor<T, 3>({3, 4, 37}));
    Param<T, 3> p(random_tensor<T, 3>({3, 4, 37}, 0.1, 3));
    const auto& xv = x.value();
    const auto& pv = p.value();
    check_close(eval(exp(x)), Tensor<T, 3>(xt::exp(xv)), tol);
    check_close(eval(log(p)), Tensor<T, 3>(xt::log(pv)), tol);
    check_close(eval(sqrt(p)), Tensor<T, 3>(xt::sqrt(pv)), tol);
    check_close(eval(square(x)), Tensor<T, 3>(xv * xv), tol);
    check_close(eval(relu(x)), Tensor<T, 3>(xt::maximum(xv, T(0))), tol);
    check_close(eval(sigmoid(x)), Tensor<T, 3>(T(1) / (T(1) + xt::exp(-xv))), tol);
    check_close(eval(tanh(x)), Tensor<T, 3>(xt::tanh(xv)), tol);
    // a composite region evaluated in one loop
    check_close(eval(relu(x * p + 1) * sigmoid(x) / (T(1) - T(0.25))),
                Tensor<T, 3>(xt::maximum(xv * pv + T(1), T(0)) * (T(1) / (T(1) + xt::exp(-xv))) / T(0.75)), tol);
}

BOOST_AUTO_TEST_SUITE_END()
