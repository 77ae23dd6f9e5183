#pragma once
/// \file ctgrad::vm: one spelling of the math functions for scalars and xsimd batches, so that a
/// derivative rule or an update rule is written once for both (V = T or V = xsimd::batch<T>).
#include <cmath>
#include <type_traits>

#include <ctgrad/simd/xsimd.hpp>

#include <ctgrad/simd/inline.hpp>

namespace ctgrad::vm {

/// True for a plain floating-point scalar, false for an xsimd batch.
template <class V>
inline constexpr bool is_scalar_v = std::is_floating_point_v<V>;

/// e^x
template <class V>
CTGRAD_INLINE V exp(const V& x) {
    if constexpr (is_scalar_v<V>) return std::exp(x); else return xsimd::exp(x);
}
/// Natural logarithm.
template <class V>
CTGRAD_INLINE V log(const V& x) {
    if constexpr (is_scalar_v<V>) return std::log(x); else return xsimd::log(x);
}
/// log(1 + x), accurate for small x.
template <class V>
CTGRAD_INLINE V log1p(const V& x) {
    if constexpr (is_scalar_v<V>) return std::log1p(x); else return xsimd::log1p(x);
}
/// |x|
template <class V>
CTGRAD_INLINE V abs(const V& x) {
    if constexpr (is_scalar_v<V>) return std::abs(x); else return xsimd::abs(x);
}
/// Square root.
template <class V>
CTGRAD_INLINE V sqrt(const V& x) {
    if constexpr (is_scalar_v<V>) return std::sqrt(x); else return xsimd::sqrt(x);
}
/// Hyperbolic tangent.
template <class V>
CTGRAD_INLINE V tanh(const V& x) {
    if constexpr (is_scalar_v<V>) return std::tanh(x); else return xsimd::tanh(x);
}
/// The larger of a and b, elementwise.
template <class V>
CTGRAD_INLINE V max(const V& a, const V& b) {
    if constexpr (is_scalar_v<V>) return a > b ? a : b; else return xsimd::max(a, b);
}
/// where(x > 0, a, 0)
template <class V>
CTGRAD_INLINE V where_positive(const V& x, const V& a) {
    if constexpr (is_scalar_v<V>) return x > V(0) ? a : V(0); else return xsimd::select(x > V(0), a, V(0));
}
/// Sum of the lanes (the value itself for a scalar).
template <class V>
CTGRAD_INLINE auto hsum(const V& x) {
    if constexpr (is_scalar_v<V>) return x; else return xsimd::hadd(x);
}

}  // namespace ctgrad::vm
