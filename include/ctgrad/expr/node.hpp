#pragma once
/// \file What every expression node is: the tag, the concepts, per-element "tapes", and the
/// scalar/SIMD math the fused loops are written in.
#include <cmath>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include <ctgrad/expr/shape.hpp>

/// Forces inlining of the per-element functions of the fused loops.
#define CTGRAD_INLINE __attribute__((always_inline)) inline

namespace ctgrad {

/// a == b for two shapes of the same static rank, inline (std::array's operator== calls memcmp,
/// which costs more than the comparison on the per-step paths of tiny models).
template <class A, class B>
CTGRAD_INLINE bool same_shape(const A& a, const B& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

/// Base of every node type; `decltype(expr)` of a ctgrad expression derives from it.
struct expr_tag {};

/// A ctgrad expression node (not a Param, Tensor or number: see `Operand`).
template <class E>
concept Expr = std::is_base_of_v<expr_tag, std::remove_cvref_t<E>>;

/// Value computed for one element (or one SIMD batch) of a leaf during a fused loop.
template <class V>
struct LeafTape {
    /// The value.
    V v;
};

namespace vm {
// One spelling for scalars and xsimd batches, so each derivative rule is written once.
template <class V>
inline constexpr bool is_scalar_v = std::is_floating_point_v<V>;

template <class V>
CTGRAD_INLINE V exp(const V& x) {
    if constexpr (is_scalar_v<V>) return std::exp(x); else return xsimd::exp(x);
}
template <class V>
CTGRAD_INLINE V log(const V& x) {
    if constexpr (is_scalar_v<V>) return std::log(x); else return xsimd::log(x);
}
template <class V>
CTGRAD_INLINE V sqrt(const V& x) {
    if constexpr (is_scalar_v<V>) return std::sqrt(x); else return xsimd::sqrt(x);
}
template <class V>
CTGRAD_INLINE V tanh(const V& x) {
    if constexpr (is_scalar_v<V>) return std::tanh(x); else return xsimd::tanh(x);
}
template <class V>
CTGRAD_INLINE V max(const V& a, const V& b) {
    if constexpr (is_scalar_v<V>) return a > b ? a : b; else return xsimd::max(a, b);
}
/// where(x > 0, a, 0)
template <class V>
CTGRAD_INLINE V where_positive(const V& x, const V& a) {
    if constexpr (is_scalar_v<V>) return x > V(0) ? a : V(0); else return xsimd::select(x > V(0), a, V(0));
}
template <class V>
CTGRAD_INLINE auto hsum(const V& x) {
    if constexpr (is_scalar_v<V>) return x; else return xsimd::hadd(x);
}
}  // namespace vm

}  // namespace ctgrad
