#pragma once
/// \file Static-rank shapes, NumPy broadcasting and shape error messages.
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <ctgrad/simd/inline.hpp>

namespace ctgrad {

/// Shape of a rank-N tensor.
template <std::size_t N>
using Shape = std::array<std::size_t, N>;

/// a == b for two shapes of the same static rank, inline (std::array's operator== calls memcmp,
/// which costs more than the comparison on the per-step paths of tiny models).
template <class A, class B>
CTGRAD_INLINE bool same_shape(const A& a, const B& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

/// Largest rank a fused elementwise loop handles.
inline constexpr std::size_t kMaxRank = 8;

/// "(2, 3)" — the form used in every shape error message.
template <class S>
std::string shape_string(const S& s) {
    std::string r = "(";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) r += ", ";
        r += std::to_string(s[i]);
    }
    if (s.size() == 1) r += ",";
    return r + ")";
}

/// The number of elements of a shape: the product of its extents.
template <class S>
constexpr std::size_t shape_size(const S& s) {
    std::size_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

/// NumPy broadcasting of two shapes (right-aligned; a dimension of 1 stretches).
/// Throws std::invalid_argument naming both shapes when they are incompatible.
template <std::size_t A, std::size_t B>
Shape<(A > B ? A : B)> broadcast_shapes(const Shape<A>& a, const Shape<B>& b, const char* where) {
    constexpr std::size_t R = A > B ? A : B;
    Shape<R> out{};
    for (std::size_t i = 0; i < R; ++i) {
        const std::size_t da = i < R - A ? 1 : a[i - (R - A)];
        const std::size_t db = i < R - B ? 1 : b[i - (R - B)];
        if (da != db && da != 1 && db != 1)
            throw std::invalid_argument(std::string(where) + ": cannot broadcast shapes " + shape_string(a) +
                                        " and " + shape_string(b));
        out[i] = da == 1 ? db : da;
    }
    return out;
}

}  // namespace ctgrad
