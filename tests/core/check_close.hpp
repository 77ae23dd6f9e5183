#pragma once
// check_close: element-by-element comparison of two tensors (same shape) within a tolerance.
#include <boost/test/unit_test.hpp>

namespace ctgrad::test {

/// Requires equal shapes, then checks every element of `got` against `want` within `tol` (relative).
template <class A, class B>
void check_close(const A& got, const B& want, double tol) {
    BOOST_TEST_REQUIRE(got.dimension() == want.dimension());
    for (std::size_t d = 0; d < got.dimension(); ++d) BOOST_TEST_REQUIRE(got.shape()[d] == want.shape()[d]);
    auto w = want.cbegin();
    for (auto g = got.cbegin(); g != got.cend(); ++g, ++w) BOOST_TEST(double(*g) == double(*w), boost::test_tools::tolerance(tol));
}

}  // namespace ctgrad::test
