// Forward values of matmul and reductions against xtensor, rank 0 and empty tensors, assign() and
// rvalue tensors. (Split from test_forward.cpp to keep each translation unit small.)
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

BOOST_AUTO_TEST_CASE_TEMPLATE(matmul_and_reductions, T, Scalars) {
    const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
    Param<T, 2> a(random_tensor<T, 2>({6, 9}));
    Tensor<T, 2> b = random_tensor<T, 2>({9, 4});
    Tensor<T, 2> want({6, 4}, T(0));
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 4; ++j)
            for (std::size_t k = 0; k < 9; ++k) want(i, j) += a.value()(i, k) * b(k, j);
    check_close(eval(matmul(a, b)), want, tol);
    check_close(eval(relu(matmul(a, b) + T(1))), Tensor<T, 2>(xt::maximum(want + T(1), T(0))), tol);

    const auto& av = a.value();
    check_close(eval(sum(a)), Tensor<T, 0>(xt::sum(av)), tol);
    check_close(eval(mean(a * 2)), Tensor<T, 0>(xt::mean(av * T(2))), tol);
    check_close(eval(sum(a, 0)), Tensor<T, 1>(xt::sum(av, {0})), tol);
    check_close(eval(sum(a, 1)), Tensor<T, 1>(xt::sum(av, {1})), tol);
    check_close(eval(mean(a, -1)), Tensor<T, 1>(xt::mean(av, {1})), tol);
    check_close(eval(sum(exp(a), 0) + 1), Tensor<T, 1>(xt::sum(xt::exp(av), {0}) + T(1)), tol);
    // reduction whose rows are long enough for the blocked partial sums
    Param<T, 1> big(Tensor<T, 1>(xt::ones<T>({100003})));
    BOOST_TEST(eval(sum(big))() == T(100003));
}

BOOST_AUTO_TEST_CASE(rank0_and_empty) {
    Param<double, 0> s(Tensor<double, 0>(3.0));
    BOOST_TEST(eval(s * s + 1)() == 10.0);
    auto empty = Tensor<double, 2>::from_shape({0, 3});
    BOOST_TEST(eval(constant(empty) * 2).size() == 0u);
    BOOST_TEST(eval(sum(constant(empty)))() == 0.0);
    BOOST_TEST(std::isnan(eval(mean(constant(empty)))()));
}

BOOST_AUTO_TEST_CASE(assign_reuses_storage) {
    Param<float, 1> x(Tensor<float, 1>{1.f, -2.f, 3.f});
    auto out = Tensor<float, 1>::from_shape({3});
    const float* storage = out.data();
    assign(out, relu(x) * 2);
    BOOST_TEST(out.data() == storage);
    BOOST_TEST(out(0) == 2.f);
    BOOST_TEST(out(1) == 0.f);
    BOOST_TEST(out(2) == 6.f);
}

BOOST_AUTO_TEST_CASE(rvalue_tensors_are_owned) {
    // A temporary Tensor operand is moved into the node: no dangling reference after the
    // full-expression that built it (checked under ASan in the sanitizer run).
    Param<double, 1> x(Tensor<double, 1>{1.0, 2.0});
    auto make = [&] { return x * Tensor<double, 1>{10.0, 20.0}; };
    auto e = make();
    auto v = eval(e);
    BOOST_TEST(v(0) == 10.0);
    BOOST_TEST(v(1) == 40.0);
}

BOOST_AUTO_TEST_SUITE_END()
