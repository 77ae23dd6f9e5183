#pragma once
/// \file What every expression node is: the tag, the Expr concept and the per-element leaf
/// "tape". (The scalar/SIMD math the fused loops are written in is ctgrad/simd/vm.hpp.)
#include <concepts>
#include <cstddef>
#include <type_traits>

#include <ctgrad/expr/shape.hpp>
#include <ctgrad/simd/vm.hpp>

namespace ctgrad {

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

}  // namespace ctgrad
