#pragma once
/// \file optim::Optimizer<Rule, Schedule>: applies an update rule to a model's parameters at the
/// rate a schedule gives, in one fused elementwise pass per parameter.
///
/// Usage (PyTorch's optimizer + scheduler in one object):
///
///     optim::Optimizer opt(model.parameters(), optim::Adam{}, sched::Constant{.lr = 0.01});
///     for (...) { backward(loss); opt.step(); }             // step() also zeroes the gradients
///
/// **What the schedule is indexed by.** The optimizer keeps two counters:
///   - `update_count()`: the number of step() calls so far (Adam's bias correction uses it);
///   - `schedule_step()`: the position t at which the schedule is evaluated: `lr() == schedule(t)`.
/// With the default `Pace::per_update` the schedule position advances with every step(), so the
/// schedule is indexed by the update count (d2l's and MXNet's `num_update`). For a per-epoch
/// schedule (PyTorch's `scheduler.step()` once per epoch, d2l's LeNet experiments), construct with
/// `Pace::per_epoch` and call `advance_schedule()` at the end of each epoch:
///
///     optim::Optimizer opt(model.parameters(), optim::SGD{}, sched::Cosine{.max_update = 30, .base_lr = 0.3},
///                          optim::Pace::per_epoch);
///     for (epoch ...) { for (batch ...) { backward(loss); opt.step(); }  opt.advance_schedule(); }
///
/// `set_schedule_step(t)` jumps to a position (e.g. to an epoch number, or when resuming).
/// The rate used by a step() is lr() *before* that step: the first update uses schedule(0).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/transform.hpp>
#include <boost/hana/tuple.hpp>
#include <ctgrad/simd/xsimd.hpp>

#include <ctgrad/expr/shape.hpp>
#include <ctgrad/parallel/thread_pool.hpp>
#include <ctgrad/simd/vm.hpp>
#include <ctgrad/optim/concepts.hpp>
#include <ctgrad/optim/params.hpp>
#include <ctgrad/optim/rules.hpp>
#include <ctgrad/sched/concepts.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::optim {

/// When the schedule position advances: with every step() (default), or only on advance_schedule().
enum class Pace { per_update, per_epoch };

namespace detail {
template <class P>
struct param_list : std::false_type {};
template <class... T, std::size_t... N>
struct param_list<boost::hana::tuple<Param<T, N>*...>> : std::true_type {};

/// The rule works for the scalar type of every parameter.
template <class R, class P>
struct rule_ok_for : std::false_type {};
template <class R, class... T, std::size_t... N>
struct rule_ok_for<R, boost::hana::tuple<Param<T, N>*...>> : std::bool_constant<(rule_for<R, T> && ...)> {};

template <class R>
constexpr std::size_t slots_of() {
    if constexpr (has_state_slots<R>) return R::state_slots; else return 0;
}

/// Per-parameter rule state: `state_slots` zero tensors shaped like the parameter.
template <std::size_t K>
struct MakeState {
    template <class T, std::size_t N>
    std::array<Tensor<T, N>, K> operator()(Param<T, N>* p) const {
        std::array<Tensor<T, N>, K> a;
        for (auto& x : a) x = xt::zeros<T>(p->shape());
        return a;
    }
};

// Qualified names (not load/store): ADL would otherwise pick xsimd::store, which is the aligned one.
template <class V, class T>
CTGRAD_INLINE V load_v(const T* p) {
    if constexpr (vm::is_scalar_v<V>) return *p; else return V::load_unaligned(p);
}
template <class V, class T>
CTGRAD_INLINE void store_v(T* p, const V& v) {
    if constexpr (vm::is_scalar_v<V>) *p = v; else v.store_unaligned(p);
}

/// One element (V = T) or one batch of the fused pass: load w, g and the state once, apply the
/// rule, store w and the state once, and zero g.
template <class V, bool Decay, class Rule, class T, std::size_t K, class C>
CTGRAD_INLINE void fused_element(const Rule& rule, T* w, T* g, const std::array<T*, K>& s, std::size_t i, const C& c,
                                 T wd) {
    V wv = detail::load_v<V>(w + i);
    V gv = detail::load_v<V>(g + i);
    if constexpr (Decay) gv = gv + V(wd) * wv;
    std::array<V, K> sv;
    for (std::size_t k = 0; k < K; ++k) sv[k] = detail::load_v<V>(s[k] + i);
    rule.apply(wv, gv, sv, c);
    detail::store_v(w + i, wv);
    detail::store_v(g + i, V(T(0)));
    for (std::size_t k = 0; k < K; ++k) detail::store_v(s[k] + i, sv[k]);
}

/// The whole pass over n elements: SIMD batches, then a scalar tail. Which elements take the scalar
/// path depends only on n, never on where the tensors sit in memory: the scalar and SIMD forms of a
/// rule may round differently (the compiler contracts a * b + c into an FMA in one and not the
/// other), and an address-dependent split made two identical models, trained identically at
/// different addresses, drift apart in the last bit.
template <bool Decay, class Rule, class T, std::size_t K, class C>
void fused_range(const Rule& rule, T* w, T* g, const std::array<T*, K>& s, std::size_t n, const C& c, T wd) {
    using B = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + B::size <= n; i += B::size) fused_element<B, Decay>(rule, w, g, s, i, c, wd);
    for (; i < n; ++i) fused_element<T, Decay>(rule, w, g, s, i, c, wd);
}
/// The pass over a whole parameter. A large one (the MLP's 784 x 256 weight) is split over the
/// threads (parallel::for_each_chunk) in chunks of 2^14 elements: the pass is bandwidth-bound, and on
/// one thread it was ~10% of a 2-thread MLP training step. Elementwise, and every chunk starts at a
/// multiple of 64 elements, so each element takes the same (SIMD or scalar) path whatever the
/// thread count.
template <bool Decay, class Rule, class T, std::size_t K, class C>
void fused_pass(const Rule& rule, T* w, T* g, const std::array<T*, K>& s, std::size_t n, const C& c, T wd) {
    constexpr std::size_t chunk = std::size_t(1) << 14;
    if (n < 2 * chunk) return fused_range<Decay>(rule, w, g, s, n, c, wd);
    parallel::for_each_chunk((n + chunk - 1) / chunk, [&](std::size_t i) {
        const std::size_t lo = i * chunk, len = std::min(n - lo, chunk);
        std::array<T*, K> st;
        for (std::size_t k = 0; k < K; ++k) st[k] = s[k] + lo;
        fused_range<Decay>(rule, w + lo, g + lo, st, len, c, wd);
    });
}
}  // namespace detail

/// Applies the update rule `Rule` (see optim::UpdateRule, optim/rules.hpp) to every parameter in
/// `Params` at the rate given by `Schedule` (see sched::Schedule, sched/schedules.hpp).
///
/// `Params` is a `boost::hana::tuple<Param<T1, N1>*, ...>` (ranks and scalar types may differ):
/// what a model's `parameters()` or optim::params(p1, p2, ...) returns; it is deduced, so write
/// `optim::Optimizer opt(model.parameters(), rule, schedule)`. The Params must outlive the optimizer.
///
/// State (for checkpoints): `state()` is a hana tuple holding, per parameter, a
/// `std::array<Tensor<T, N>, Rule::state_slots>` (e.g. Adam: {v, s}); `update_count()` and
/// `schedule_step()` are the two counters; all can be read and set.
template <class Rule, class Schedule, class Params>
class Optimizer {
    static_assert(detail::param_list<Params>::value,
                  "optim::Optimizer: the parameter list must be a boost::hana::tuple of Param<T, N>* "
                  "(what model.parameters() and optim::params(p1, p2, ...) return)");
    static_assert(detail::has_state_slots<Rule>,
                  "optim::Optimizer: the update rule lacks the member 'static constexpr std::size_t state_slots' "
                  "(the number of per-parameter state tensors; see optim/concepts.hpp)");
    static_assert(!detail::has_state_slots<Rule> || (detail::has_prepare<Rule, float> && detail::has_prepare<Rule, double>),
                  "optim::Optimizer: the update rule lacks the member "
                  "'template <class T> auto prepare(double lr, std::size_t t) const' (per-step scalars; see "
                  "optim/concepts.hpp)");
    static_assert(!detail::param_list<Params>::value || !detail::has_state_slots<Rule> ||
                      !detail::has_prepare<Rule, double> || detail::rule_ok_for<Rule, Params>::value,
                  "optim::Optimizer: the update rule lacks a usable member "
                  "'template <class V, class C> void apply(V& w, V g, std::array<V, state_slots>& s, const C& c) const' "
                  "(called with V = T and V = xsimd::batch<T>; see optim/concepts.hpp)");
    static_assert(std::copy_constructible<Rule>, "optim::Optimizer: the update rule must be copy-constructible");
    static_assert(sched::Schedule<Schedule>,
                  "optim::Optimizer: the schedule lacks the member 'operator()(std::size_t t) const' returning the "
                  "rate (convertible to double) at position t; see sched/concepts.hpp");

    static constexpr std::size_t K = detail::slots_of<Rule>();

public:
    /// The update rule's type.
    using rule_type = Rule;
    /// The schedule's type.
    using schedule_type = Schedule;
    /// The parameter list's type (a hana tuple of Param pointers).
    using params_type = Params;
    /// hana tuple of std::array<Tensor<T, N>, Rule::state_slots>, one per parameter.
    using state_type = decltype(boost::hana::transform(std::declval<const Params&>(), detail::MakeState<K>{}));

    /// Takes the parameter list, the rule and the schedule (all by value: the list holds
    /// pointers). The rule's state starts at zero; both counters at 0.
    Optimizer(Params params, Rule rule, Schedule schedule, Pace pace = Pace::per_update)
        : params_(std::move(params)),
          rule_(std::move(rule)),
          schedule_(std::move(schedule)),
          state_(boost::hana::transform(params_, detail::MakeState<K>{})),
          pace_(pace) {}

    /// One update of every parameter at rate lr(), in one fused pass per parameter that also
    /// zeroes its gradient; then advances update_count() (and schedule_step() if per_update).
    void step() {
        const double rate = lr();
        ++t_;
        for_each_index([&](auto& p, auto& st) { update(p, st, rate); });
        if (pace_ == Pace::per_update) ++schedule_step_;
    }

    /// Sets every parameter's gradient to zero (step() already does this).
    void zero_grad() {
        for_each_index([](auto& p, auto&) { p.zero_grad(); });
    }

    /// The current rate: schedule(schedule_step()). The next step() uses it.
    double lr() const { return static_cast<double>(schedule_(schedule_step_)); }

    /// Moves the schedule position on by n (PyTorch's `scheduler.step()`; use with Pace::per_epoch).
    void advance_schedule(std::size_t n = 1) { schedule_step_ += n; }
    /// The schedule's position t (the next step() uses schedule(t)).
    std::size_t schedule_step() const { return schedule_step_; }
    /// Sets the schedule's position (resuming a run).
    void set_schedule_step(std::size_t t) { schedule_step_ = t; }
    /// Whether step() advances the schedule (per_update) or advance_schedule() does (per_epoch).
    Pace pace() const { return pace_; }
    /// Changes the pace.
    void set_pace(Pace p) { pace_ = p; }

    /// Number of step() calls so far (t of the last update; the next one is t + 1).
    std::size_t update_count() const { return t_; }
    /// Sets the update count (resuming a run: Adam's bias correction uses it).
    void set_update_count(std::size_t t) { t_ = t; }

    /// The rule's per-parameter state (e.g. Adam's moments), one array per parameter.
    const state_type& state() const { return state_; }
    /// The rule's per-parameter state, writable (restoring a checkpoint).
    state_type& state() { return state_; }
    /// The update rule.
    const Rule& rule() const { return rule_; }
    /// The update rule, writable (hyper-parameters may change between steps).
    Rule& rule() { return rule_; }
    /// The schedule.
    const Schedule& schedule() const { return schedule_; }
    /// The schedule, writable.
    Schedule& schedule() { return schedule_; }
    /// The parameters this optimizer updates.
    const Params& parameters() const { return params_; }

private:
    static constexpr std::size_t count = decltype(boost::hana::length(std::declval<const Params&>()))::value;

    template <class F>
    void for_each_index(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(*boost::hana::at_c<I>(params_), boost::hana::at_c<I>(state_)), ...);
        }(std::make_index_sequence<count>{});
    }

    template <class T, std::size_t N>
    void update(Param<T, N>& p, std::array<Tensor<T, N>, K>& st, double rate) {
        auto& w = p.value();
        // A gradient never written since the value was (re)shaped counts as zero.
        if (!same_shape(p.grad().shape(), w.shape())) p.zero_grad();
        // Lazily (re)initialise state for a parameter that was sized after construction.
        for (auto& s : st)
            if (!same_shape(s.shape(), w.shape())) s = xt::zeros<T>(w.shape());
        std::array<T*, K> sp{};
        for (std::size_t k = 0; k < K; ++k) sp[k] = st[k].data();
        const auto c = rule_.template prepare<T>(rate, t_);
        T wd = T(0);
        if constexpr (detail::has_weight_decay<Rule>) wd = static_cast<T>(rule_.weight_decay);
        if (wd != T(0)) detail::fused_pass<true>(rule_, w.data(), p.grad().data(), sp, w.size(), c, wd);
        else detail::fused_pass<false>(rule_, w.data(), p.grad().data(), sp, w.size(), c, wd);
    }

    Params params_;
    Rule rule_;
    Schedule schedule_;
    state_type state_;
    std::size_t t_ = 0;
    std::size_t schedule_step_ = 0;
    Pace pace_ = Pace::per_update;
};

/// Deduces the class from (parameters, rule, schedule).
template <class Params, class Rule, class Schedule>
Optimizer(Params, Rule, Schedule) -> Optimizer<Rule, Schedule, Params>;
/// Deduces the class from (parameters, rule, schedule, pace).
template <class Params, class Rule, class Schedule>
Optimizer(Params, Rule, Schedule, Pace) -> Optimizer<Rule, Schedule, Params>;

}  // namespace ctgrad::optim
