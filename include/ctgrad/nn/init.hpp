#pragma once
/// \file Parameter initialisers and the generator they draw from.
#include <cmath>
#include <cstdint>
#include <random>

#include <ctgrad/tensor.hpp>

namespace ctgrad::nn {

/// The generator layers draw their initial weights from (seed 0 until manual_seed()).
inline std::mt19937_64& generator() {
    static std::mt19937_64 g(0);
    return g;
}
/// Reseeds the initialisation generator, for reproducible models.
inline void manual_seed(std::uint64_t seed) { generator().seed(seed); }

namespace init {
/// Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (d2l's LeNet initialisation).
template <class T, std::size_t N>
void xavier_uniform(Tensor<T, N>& w, std::size_t fan_in, std::size_t fan_out, std::mt19937_64& g = generator()) {
    const double a = std::sqrt(6.0 / double(fan_in + fan_out));
    std::uniform_real_distribution<double> u(-a, a);
    for (auto& v : w) v = T(u(g));
}
/// U(-bound, bound). With bound = 1 / sqrt(fan_in) for both weight and bias it is PyTorch's default
/// nn.Linear initialisation, which d2l 1.0's MLPs keep (nn.LazyLinear without an explicit init).
template <class T, std::size_t N>
void uniform(Tensor<T, N>& w, double bound, std::mt19937_64& g = generator()) {
    std::uniform_real_distribution<double> u(-bound, bound);
    for (auto& v : w) v = T(u(g));
}
/// N(0, sigma²) (d2l's linear models and MLPs use sigma = 0.01).
template <class T, std::size_t N>
void normal(Tensor<T, N>& w, double sigma, std::mt19937_64& g = generator()) {
    std::normal_distribution<double> d(0.0, sigma);
    for (auto& v : w) v = T(d(g));
}
/// All zeros.
template <class T, std::size_t N>
void zeros(Tensor<T, N>& w) {
    std::fill(w.begin(), w.end(), T(0));
}
}  // namespace init

}  // namespace ctgrad::nn
