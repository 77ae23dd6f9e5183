#pragma once
// CHECK_GRADS(f, params...): check_gradients() of f against central differences, reporting the
// worst element on failure. Shared by the core and layer gradient tests.
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/gradcheck.hpp>

#define CHECK_GRADS(f, ...)                                                     \
    do {                                                                        \
        const auto r = ::ctgrad::check_gradients(f, __VA_ARGS__);              \
        BOOST_TEST(r.passed, "max error " << r.max_error << " at " << r.worst); \
    } while (0)
