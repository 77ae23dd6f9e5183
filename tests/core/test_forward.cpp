// Forward values of every op against xtensor's own (eager) evaluation, float and double,
// including broadcasting, scalars on either side, rank 0, and reductions.
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

BOOST_AUTO_TEST_CASE_TEMPLATE(arithmetic_with_broadcasting, T, Scalars) {
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    Param<T, 2> a(random_tensor<T, 2>({5, 7}));
    Tensor<T, 1> row = random_tensor<T, 1>({7});
    Tensor<T, 2> col = random_tensor<T, 2>({5, 1});
    Tensor<T, 0> s0 = random_tensor<T, 0>({});
    const Tensor<T, 2>& av = a.value();

    check_close(eval(a + row), Tensor<T, 2>(av + row), tol);
    check_close(eval(row - a), Tensor<T, 2>(row - av), tol);
    check_close(eval(a * col), Tensor<T, 2>(av * col), tol);
    check_close(eval(col / a), Tensor<T, 2>(col / av), tol);
    check_close(eval(a * s0), Tensor<T, 2>(av * s0()), tol);
    check_close(eval(T(2) * a - 3), Tensor<T, 2>(T(2) * av - T(3)), tol);
    check_close(eval(1 / a), Tensor<T, 2>(T(1) / av), tol);
    check_close(eval(-a), Tensor<T, 2>(-av), tol);
    // outer product by broadcasting (5,1) against (7,)
    check_close(eval(constant(col) * row), Tensor<T, 2>(col * row), tol);
}

BOOST_AUTO_TEST_SUITE_END()
