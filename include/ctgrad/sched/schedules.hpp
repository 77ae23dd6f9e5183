#pragma once
/// \file Learning-rate schedules (d2l 12.11 "Learning Rate Scheduling" and the decay laws of
/// d2l 12.4 "Stochastic Gradient Descent"), as policies for optim::Optimizer.
///
/// Each is an aggregate with a pure `operator()(std::size_t t) const -> double`: the rate at
/// position t = 0, 1, 2, ... Whether t counts updates or epochs is the optimizer's pace
/// (optim::Pace), not the schedule's business. d2l's FactorScheduler and CosineScheduler are
/// stateful Python objects called once per position starting at 0; the closed forms below
/// reproduce the sequences they return.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include <ctgrad/sched/concepts.hpp>

namespace ctgrad::sched {

/// η_t = lr.
struct Constant {
    /// The rate.
    double lr = 0.1;
    /// lr at every t.
    double operator()(std::size_t) const { return lr; }
};

/// η_t = lr · (t + 1)^(−1/2)  (d2l's SquareRootScheduler, default lr = 0.1).
struct SquareRoot {
    /// The rate at t = 0.
    double lr = 0.1;
    /// lr (t + 1)^(-1/2).
    double operator()(std::size_t t) const { return lr * std::pow(static_cast<double>(t) + 1.0, -0.5); }
};

/// Multiplicative decay with a floor (d2l's FactorScheduler, defaults factor = 1,
/// stop_factor_lr = 1e-7, base_lr = 0.1). d2l's object updates `base_lr ← max(stop, base_lr·factor)`
/// on every call and returns it, so the value at call t (from 0) is
///     η_t = max(stop_factor_lr, base_lr · factor^(t+1))
/// (note the t + 1: the very first call already applies one factor; for factor ≤ 1 the floor is
/// absorbing). For t < 4096 the value is computed by d2l's own recurrence, so it is bit-identical
/// to d2l's; beyond that by the closed form with std::pow (equal up to rounding).
struct Factor {
    /// Multiplier per step.
    double factor = 1;
    /// The rate never falls below this.
    double stop_factor_lr = 1e-7;
    /// The starting rate (d2l's first call already multiplies it by factor once).
    double base_lr = 0.1;
    /// max(stop_factor_lr, base_lr factor^(t+1)), as d2l's recurrence gives it.
    double operator()(std::size_t t) const {
        if (factor == 1) return std::max(stop_factor_lr, base_lr);
        if (t < 4096) {
            double lr = base_lr;
            for (std::size_t k = 0; k <= t; ++k) {
                lr = std::max(stop_factor_lr, lr * factor);
                if (lr == stop_factor_lr && factor < 1) break;  // the floor is absorbing
            }
            return lr;
        }
        return std::max(stop_factor_lr, base_lr * std::pow(factor, static_cast<double>(t) + 1.0));
    }
};

/// Piecewise constant: η_t = base_lr · factor^(number of steps s with s ≤ t). This is PyTorch's
/// MultiStepLR(milestones = steps, gamma = factor), which d2l (PyTorch edition) uses with
/// steps {15, 30}, factor 0.5, lr 0.5: 0.5 for t < 15, 0.25 for 15 ≤ t < 30, 0.125 from 30.
/// (MXNet's MultiFactorScheduler decays one position later, when t > s.) Steps must be sorted.
/// Defaults: no steps, factor 1, base_lr 0.1.
struct MultiFactor {
    /// The steps at which the rate is multiplied by factor (ascending).
    std::vector<std::size_t> steps{};
    /// Multiplier at each listed step.
    double factor = 1;
    /// The rate before the first listed step.
    double base_lr = 0.1;
    /// base_lr times factor once for every listed step that t has reached.
    double operator()(std::size_t t) const {
        double lr = base_lr;
        for (std::size_t s : steps) {
            if (s > t) break;
            lr *= factor;
        }
        return lr;
    }
};

/// Cosine decay from base_lr to final_lr over max_update positions, then constant (d2l's
/// CosineScheduler without warm-up, defaults base_lr = 0.01, final_lr = 0):
///     η_t = final_lr + (base_lr − final_lr) · (1 + cos(π t / max_update)) / 2   for t ≤ max_update,
///     η_t = final_lr                                                           for t > max_update.
/// Evaluated with d2l's operation order, so the values are d2l's bit for bit. For warm-up wrap
/// it in Warmup (see there for d2l's `warmup_steps`).
struct Cosine {
    /// The step at which the rate reaches final_lr (and stays there).
    std::size_t max_update = 0;
    /// The rate at t = 0.
    double base_lr = 0.01;
    /// The rate from max_update on.
    double final_lr = 0;
    /// final_lr + (base_lr - final_lr) (1 + cos(pi t / max_update)) / 2 for t < max_update.
    double operator()(std::size_t t) const {
        if (t >= max_update) return final_lr;  // d2l's formula gives exactly final_lr at t = max_update
        return final_lr + (base_lr - final_lr) *
                              (1 + std::cos(std::numbers::pi * static_cast<double>(t) / static_cast<double>(max_update))) /
                              2;
    }
};

/// Polynomial decay (d2l 12.4.3):  η_t = base_lr · (beta · t + 1)^(−alpha).
/// Defaults base_lr = 0.1, beta = 0.1, alpha = 0.5 (d2l's example η = 0.1·(1 + 0.1 t)^(−0.5);
/// d2l's trace code increments t before using it, so its first update uses t = 1).
struct Polynomial {
    /// The rate at t = 0.
    double base_lr = 0.1;
    /// Time scale: the rate halves around beta t = 2^(1/alpha) - 1.
    double beta = 0.1;
    /// The decay exponent.
    double alpha = 0.5;
    /// base_lr (beta t + 1)^(-alpha).
    double operator()(std::size_t t) const {
        return base_lr * std::pow(beta * static_cast<double>(t) + 1, -alpha);
    }
};

/// Exponential decay (d2l 12.4.3):  η_t = base_lr · e^(−lambda · t).
/// Defaults base_lr = 0.1, lambda = 0.1 (d2l's example 0.1·e^(−0.1 t); same t + 1 remark as Polynomial).
struct Exponential {
    /// The rate at t = 0.
    double base_lr = 0.1;
    /// The decay rate per step.
    double lambda = 0.1;
    /// base_lr e^(-lambda t).
    double operator()(std::size_t t) const { return base_lr * std::exp(-lambda * static_cast<double>(t)); }
};

namespace detail {
/// The rate a warm-up climbs to: the wrapped schedule's `base_lr` or `lr` member if it has one
/// (d2l's `base_lr_orig`), else its value at position 0.
template <class S>
double base_rate(const S& s) {
    if constexpr (requires { { s.base_lr } -> std::convertible_to<double>; }) return s.base_lr;
    else if constexpr (requires { { s.lr } -> std::convertible_to<double>; }) return s.lr;
    else return static_cast<double>(s(0));
}
}  // namespace detail

/// A linear warm-up put in front of any schedule S (d2l's `warmup_steps` / `warmup_begin_lr`,
/// linear mode):
///     η_t = warmup_begin_lr + (base − warmup_begin_lr) · t / warmup_steps   for t < warmup_steps,
///     η_t = schedule(t − warmup_steps)                                      for t ≥ warmup_steps,
/// where base is S's base rate (its `base_lr` or `lr` member, else schedule(0)). The wrapped
/// schedule starts when the warm-up ends, so its own length excludes the warm-up: d2l's
/// `CosineScheduler(max_update = 20, warmup_steps = 5, base_lr = 0.3, final_lr = 0.01)`, whose
/// cosine runs over (t − 5) / (20 − 5), is
///     Warmup{.schedule = Cosine{.max_update = 15, .base_lr = 0.3, .final_lr = 0.01}, .warmup_steps = 5}
/// (cosine_with_warmup() below does this mapping), and its values are d2l's bit for bit.
template <Schedule S>
struct Warmup {
    /// The schedule that follows the warm-up (its position 0 is step warmup_steps).
    S schedule{};
    /// Length of the linear warm-up.
    std::size_t warmup_steps = 0;
    /// The rate at t = 0, rising linearly to the schedule's base rate.
    double warmup_begin_lr = 0;
    /// The warm-up rate for t < warmup_steps, then schedule(t - warmup_steps).
    double operator()(std::size_t t) const {
        if (t < warmup_steps)
            return warmup_begin_lr + (detail::base_rate(schedule) - warmup_begin_lr) * static_cast<double>(t) /
                                         static_cast<double>(warmup_steps);
        return static_cast<double>(schedule(t - warmup_steps));
    }
};
/// `Warmup{schedule, steps, begin_lr}` deduces S.
template <class S>
Warmup(S, std::size_t, double) -> Warmup<S>;
/// `Warmup{schedule, steps}` deduces S.
template <class S>
Warmup(S, std::size_t) -> Warmup<S>;
/// `Warmup{schedule}` deduces S.
template <class S>
Warmup(S) -> Warmup<S>;

/// d2l's `CosineScheduler(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr)` with its
/// arguments: a Cosine of length max_update − warmup_steps behind a linear warm-up.
inline Warmup<Cosine> cosine_with_warmup(std::size_t max_update, double base_lr, double final_lr,
                                         std::size_t warmup_steps, double warmup_begin_lr = 0) {
    return {Cosine{max_update > warmup_steps ? max_update - warmup_steps : 0, base_lr, final_lr}, warmup_steps,
            warmup_begin_lr};
}

}  // namespace ctgrad::sched
