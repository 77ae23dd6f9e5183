#pragma once
/// \file The update rules of d2l chapter 11 ("Optimization Algorithms"), as policies for
/// optim::Optimizer. Each is an aggregate of hyper-parameters named and defaulted as in d2l's
/// from-scratch implementations (d2l 1.0.3, PyTorch edition). Notation: w parameter, g gradient,
/// η the schedule's current rate, t the 1-based number of the update; state starts at zero.
///
/// Every rule also has `weight_decay` (default 0): the optimizer uses g + weight_decay * w in
/// place of g (an L2 penalty added to the gradient, as d2l's weight-decay chapter does).
///
/// Defaults are d2l's, which differ from PyTorch's torch.optim defaults in places (PyTorch:
/// Adam eps 1e-8, Adagrad eps 1e-10, RMSprop alpha 0.99 / eps 1e-8, Adadelta eps 1e-6); set the
/// members explicitly to match PyTorch.
#include <array>
#include <cmath>
#include <cstddef>

#include <ctgrad/simd/vm.hpp>

namespace ctgrad::optim {

/// Plain (minibatch) stochastic gradient descent:  w ← w − η g.  No state.
struct SGD {
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 0;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        T lr;
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 0>&, const C& c) const {
        w -= c.lr * g;
    }
};

/// SGD with momentum (d2l 12.6):  v ← β v + g;  w ← w − η v.  State: v.  Default β = 0.9.
/// (d2l's leaky average without the (1 − β) factor, like torch.optim.SGD(momentum=β).)
struct Momentum {
    /// β: the momentum (leaky average) factor.
    double beta = 0.9;
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 1;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        ///@{
        T lr, beta;
        ///@}
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr), T(beta)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 1>& s, const C& c) const {
        V& v = s[0];
        v = c.beta * v + g;
        w -= c.lr * v;
    }
};

/// Adagrad (d2l 12.7):  s ← s + g²;  w ← w − η g / √(s + ε).  State: s.  Default ε = 1e-6.
struct Adagrad {
    /// ε: added under the square root for stability.
    double eps = 1e-6;
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 1;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        ///@{
        T lr, eps;
        ///@}
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr), T(eps)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 1>& st, const C& c) const {
        V& s = st[0];
        s += g * g;
        w -= c.lr * g / vm::sqrt(s + c.eps);
    }
};

/// RMSProp (d2l 12.8):  s ← γ s + (1 − γ) g²;  w ← w − η g / √(s + ε).  State: s.
/// Defaults γ = 0.9, ε = 1e-6.
struct RMSProp {
    /// γ: the decay of the squared-gradient average.
    double gamma = 0.9;
    /// ε: added under the square root for stability.
    double eps = 1e-6;
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 1;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        ///@{
        T lr, gamma, one_minus_gamma, eps;
        ///@}
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr), T(gamma), T(1 - gamma), T(eps)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 1>& st, const C& c) const {
        V& s = st[0];
        s = c.gamma * s + c.one_minus_gamma * (g * g);
        w -= c.lr * g / vm::sqrt(s + c.eps);
    }
};

/// Adadelta (d2l 12.9):  s ← ρ s + (1 − ρ) g²;  g' ← √(Δx + ε) / √(s + ε) · g;
/// w ← w − η g';  Δx ← ρ Δx + (1 − ρ) g'².  State: s, Δx.  Defaults ρ = 0.9, ε = 1e-5.
///
/// d2l's Adadelta has no learning rate. Here the rate multiplies g' in the weight update only
/// (Δx accumulates the unscaled g'), as torch.optim.Adadelta(lr=...) does: use a rate of 1
/// (sched::Constant{.lr = 1}) for d2l's algorithm, or any schedule to scale its steps.
struct Adadelta {
    /// ρ: the decay of both running averages.
    double rho = 0.9;
    /// ε: added under the square roots for stability.
    double eps = 1e-5;
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 2;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        ///@{
        T lr, rho, one_minus_rho, eps;
        ///@}
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t) const {
        return {T(lr), T(rho), T(1 - rho), T(eps)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 2>& st, const C& c) const {
        V& s = st[0];
        V& delta = st[1];
        s = c.rho * s + c.one_minus_rho * (g * g);
        V gp = vm::sqrt(delta + c.eps) / vm::sqrt(s + c.eps) * g;
        w -= c.lr * gp;
        delta = c.rho * delta + c.one_minus_rho * (gp * gp);
    }
};

/// Adam (d2l 12.10):  v ← β₁ v + (1 − β₁) g;  s ← β₂ s + (1 − β₂) g²;
/// v̂ = v / (1 − β₁ᵗ);  ŝ = s / (1 − β₂ᵗ);  w ← w − η v̂ / (√ŝ + ε).  State: v, s.
/// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-6 (d2l's; PyTorch uses ε = 1e-8).
/// The bias corrections are folded into two per-step scalars (η / (1 − β₁ᵗ) and 1 / (1 − β₂ᵗ)),
/// which equals the formula up to rounding.
struct Adam {
    /// β1: the decay of the first-moment (gradient) average.
    double beta1 = 0.9;
    /// β2: the decay of the second-moment (squared gradient) average.
    double beta2 = 0.999;
    /// ε: added to the denominator for stability.
    double eps = 1e-6;
    /// L2 penalty: the update uses g + weight_decay * w in place of g.
    double weight_decay = 0;

    /// Number of state tensors per parameter (UpdateRule protocol).
    static constexpr std::size_t state_slots = 2;
    /// The step's coefficients in the parameter's scalar type, computed once per step by prepare().
    template <class T>
    struct Coeffs {
        /// Coefficients: the rate and the hyper-parameters (and their complements) that apply() uses.
        ///@{
        T step, beta1, one_minus_beta1, beta2, one_minus_beta2, inv_bias2, eps;
        ///@}
    };
    /// Computes the coefficients of update t (1-based) at rate lr (UpdateRule protocol).
    template <class T>
    Coeffs<T> prepare(double lr, std::size_t t) const {
        const double td = static_cast<double>(t);
        return {T(lr / (1 - std::pow(beta1, td))), T(beta1), T(1 - beta1), T(beta2), T(1 - beta2),
                T(1 / (1 - std::pow(beta2, td))), T(eps)};
    }
    /// Updates one element or SIMD batch: weight w, gradient g, state; w and state in place.
    template <class V, class C>
    CTGRAD_INLINE void apply(V& w, V g, std::array<V, 2>& st, const C& c) const {
        V& v = st[0];
        V& s = st[1];
        v = c.beta1 * v + c.one_minus_beta1 * g;
        s = c.beta2 * s + c.one_minus_beta2 * (g * g);
        w -= c.step * v / (vm::sqrt(s * c.inv_bias2) + c.eps);
    }
};

}  // namespace ctgrad::optim
