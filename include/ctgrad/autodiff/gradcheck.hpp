#pragma once
/// \file check_gradients: compares backward() against central finite differences.
#include <algorithm>
#include <cmath>
#include <string>

#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <ctgrad/autodiff/backward.hpp>

namespace ctgrad {

/// Step and acceptance threshold of check_gradients.
struct GradCheckOptions {
    double eps = 1e-6;        ///< finite-difference step
    double tolerance = 1e-6;  ///< largest accepted error (see GradCheckResult::max_error)
};

/// Outcome of check_gradients.
struct GradCheckResult {
    /// Largest |analytic - numeric| / max(1, |analytic|, |numeric|) over all checked elements:
    /// a relative error for gradients above 1, an absolute one below.
    double max_error = 0;
    std::string worst;  ///< where max_error occurred: "param 1, element 7: analytic ..., numeric ..."
    /// True if max_error is at most the tolerance.
    bool passed = true;
    /// `if (check_gradients(...))`: passed.
    explicit operator bool() const { return passed; }
};

/// Checks d f() / d p for each Param p (double precision) against central differences
/// (f(p + eps) - f(p - eps)) / (2 eps), element by element. `f` must build and return a
/// single-element expression of the params each time it is called. Gradients are zero afterwards.
template <class F, class... Ps>
    requires(std::is_same_v<typename Ps::value_type, double> && ...)
GradCheckResult check_gradients(GradCheckOptions opt, F&& f, Ps&... params) {
    GradCheckResult res;
    (params.zero_grad(), ...);
    backward(f());
    std::size_t index = 0;
    auto check_one = [&](auto& p) {
        const auto analytic = eval(constant(p.grad()));  // copy before the probes below
        for (std::size_t i = 0; i < p.size(); ++i) {
            double& v = p.value().data()[i];
            const double saved = v;
            v = saved + opt.eps;
            const double fp = eval(f()).data()[0];
            v = saved - opt.eps;
            const double fm = eval(f()).data()[0];
            v = saved;
            const double numeric = (fp - fm) / (2 * opt.eps);
            const double a = analytic.data()[i];
            const double err = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
            if (!(err <= res.max_error) || res.worst.empty()) {  // NaN counts as worst
                if (!(err <= res.max_error)) res.max_error = std::isnan(err) ? INFINITY : err;
                res.worst = "param " + std::to_string(index) + ", element " + std::to_string(i) + ": analytic " +
                            std::to_string(a) + ", numeric " + std::to_string(numeric);
            }
        }
        ++index;
    };
    (check_one(params), ...);
    (params.zero_grad(), ...);
    res.passed = res.max_error <= opt.tolerance;
    return res;
}

/// check_gradients with the default step and tolerance.
template <class F, class... Ps>
    requires(sizeof...(Ps) > 0 && (detail::is_param<Ps>::value && ...))
GradCheckResult check_gradients(F&& f, Ps&... params) {
    return check_gradients(GradCheckOptions{}, std::forward<F>(f), params...);
}

/// check_gradients over a parameter list, as a model's parameters() or optim::params() returns it:
/// `check_gradients(f, model.parameters())` checks every parameter of the model.
template <class F, class... T, std::size_t... N>
    requires(sizeof...(T) > 0)
GradCheckResult check_gradients(GradCheckOptions opt, F&& f, const boost::hana::tuple<Param<T, N>*...>& params) {
    return boost::hana::unpack(params, [&](auto*... p) { return check_gradients(opt, f, *p...); });
}
/// check_gradients over a parameter list with the default step and tolerance.
template <class F, class... T, std::size_t... N>
    requires(sizeof...(T) > 0)
GradCheckResult check_gradients(F&& f, const boost::hana::tuple<Param<T, N>*...>& params) {
    return check_gradients(GradCheckOptions{}, std::forward<F>(f), params);
}

}  // namespace ctgrad
