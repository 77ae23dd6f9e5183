#pragma once
// Seeded random tensors for the core tests.
#include <random>

#include <ctgrad/tensor.hpp>

namespace ctgrad::test {

inline std::mt19937& rng() {
    static std::mt19937 g(1234);
    return g;
}

/// Uniform values in [lo, hi], kept at least `gap` away from zero (so relu's kink and log/sqrt's
/// domain do not meet a finite-difference probe).
template <class T, std::size_t N>
Tensor<T, N> random_tensor(const Shape<N>& shape, double lo = -2, double hi = 2, double gap = 0.1) {
    Tensor<T, N> t(shape);
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& v : t) {
        double x;
        do x = u(rng()); while (std::abs(x) < gap);
        v = T(x);
    }
    return t;
}

template <class T, std::size_t N>
Param<T, N> random_param(const Shape<N>& shape, double lo = -2, double hi = 2, double gap = 0.1) {
    return Param<T, N>(random_tensor<T, N>(shape, lo, hi, gap));
}

/// A fixed random projection: sum(e * projection(shape)) turns a tensor into a scalar whose gradient is
/// not uniform (so a wrong index in a gradient shows).
template <std::size_t N>
Tensor<double, N> projection(const Shape<N>& s) {
    return random_tensor<double, N>(s);
}

}  // namespace ctgrad::test
