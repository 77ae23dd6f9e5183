#pragma once
// Seeded uniform random vectors in [-1, 1] for the kernel tests.
#include <random>
#include <vector>

namespace ctgrad::test {

/// n values uniform in [-1, 1] drawn from `rng`.
template <class T>
std::vector<T> rand_vec(std::size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<T> d(T(-1), T(1));
    std::vector<T> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

}  // namespace ctgrad::test
