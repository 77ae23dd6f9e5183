#pragma once
/// \file The UpdateRule concept: what an update rule must provide to plug into optim::Optimizer.
///
/// A rule is a small copyable object (the built-in ones are aggregates of hyper-parameters) with:
///
///   static constexpr std::size_t state_slots;
///       How many state tensors the rule keeps per parameter (momentum, squared-gradient
///       averages, ...). Each has the parameter's shape and starts at zero.
///
///   template <class T> C prepare(double lr, std::size_t t) const;
///       Called once per parameter per step, before the elementwise pass: turns the current rate
///       `lr` and the 1-based number `t` of this update into the per-step scalars of type T the
///       pass needs (e.g. Adam's bias corrections). C is any type the rule likes.
///
///   template <class V, class C> void apply(V& w, V g, std::array<V, state_slots>& s, const C& c) const;
///       The update of one element (V = T) or one SIMD batch (V = xsimd::batch<T>): reads and
///       writes the weight w and the state s, given the gradient g. Write it once for both kinds
///       of V with operators and ctgrad::vm::sqrt/exp/log/max (scalars convert implicitly to
///       batches).
///
/// Optional: a member `weight_decay` (convertible to double). When present and non-zero the
/// optimizer replaces g by g + weight_decay * w before calling apply (d2l's L2 penalty).
#include <array>
#include <concepts>
#include <cstddef>

#include <ctgrad/simd/xsimd.hpp>

namespace ctgrad::optim {

namespace detail {
template <class R>
concept has_state_slots = requires {
    { R::state_slots } -> std::convertible_to<std::size_t>;
    typename std::integral_constant<std::size_t, R::state_slots>;  // a constant expression
};

template <class R, class T>
concept has_prepare = requires(const R& r, double lr, std::size_t t) { r.template prepare<T>(lr, t); };

template <class R, class V, class T>
concept has_apply_for = requires(const R& r, V& w, V g, std::array<V, R::state_slots>& s, double lr, std::size_t t) {
    r.apply(w, g, s, r.template prepare<T>(lr, t));
};

template <class R, class T>
concept rule_for = has_prepare<R, T> && has_apply_for<R, T, T> && has_apply_for<R, xsimd::batch<T>, T>;

template <class R>
concept has_weight_decay = requires(const R& r) {
    { r.weight_decay } -> std::convertible_to<double>;
};
}  // namespace detail

/// An update rule usable by optim::Optimizer for float and double parameters (see the file
/// comment for the three members it needs). Optimizer checks each member separately with a
/// static_assert, so a rule that lacks one gets an error naming it.
template <class R>
concept UpdateRule = std::copy_constructible<R> && detail::has_state_slots<R> && detail::rule_for<R, float> &&
                     detail::rule_for<R, double>;

}  // namespace ctgrad::optim
