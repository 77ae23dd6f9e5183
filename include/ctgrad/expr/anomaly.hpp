#pragma once
/// \file Anomaly detection: after `ctgrad::detect_anomaly(true)`, every evaluation checks each
/// node's value and each adjoint for NaN and infinity, and stops at the first with an
/// AnomalyError naming the node as readable text (see describe.hpp), the element, and the
/// operand values there. Checks run in evaluation order, operands before the nodes that read
/// them, so the node named is the one where the non-finite number first appeared.
///
/// Checked, forward: every value a fused region reads (Params, tensors, boundary results) and
/// every fused node's value; every value a boundary node reads into memory. Backward: the
/// adjoint arriving at every region and boundary node (naming the boundary node whose backward
/// pass computed it), every adjoint a fused node's derivative rule hands to its operands, and the
/// gradients matmul and conv2d write straight into a Param.
///
/// Off (the default) it costs one relaxed atomic load per region or boundary evaluation. On, the
/// checks run element by element in scalar code: a debugging mode, several times slower.
///
/// A fused node lets the checks look inside it by providing, beside the node protocol
/// (node_concepts.hpp), either `operand()` with a tape member `c` and
/// `V operand_adjoint(const Tape&, V g) const` (the adjoint its bwd() passes on), or `lhs()`,
/// `rhs()` with tape members `l`, `r` and `lhs_adjoint` / `rhs_adjoint`. Without them the node
/// is checked as a whole (its value), not inside.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <ctgrad/expr/anomaly_mode.hpp>
#include <ctgrad/expr/describe.hpp>
#include <ctgrad/expr/loop.hpp>

namespace ctgrad {

template <class T>
class ScalarGrad;  // leaf.hpp

namespace detail {

/// The boundary node whose backward_kernel() is running on this thread (anomaly detection only):
/// an adjoint found non-finite on arrival was computed by it.
struct BackwardContext {
    const void* node;
    std::string (*describe)(const void*);
    BackwardContext* outer;
};
inline thread_local BackwardContext* current_backward = nullptr;

/// Makes node n the current backward context for the lifetime of the object.
template <class N>
class BackwardScope {
public:
    explicit BackwardScope(const N& n) noexcept
        : ctx_{&n, [](const void* p) { return ctgrad::describe(*static_cast<const N*>(p)); }, current_backward} {
        current_backward = &ctx_;
    }
    ~BackwardScope() { current_backward = ctx_.outer; }
    BackwardScope(const BackwardScope&) = delete;
    BackwardScope& operator=(const BackwardScope&) = delete;

private:
    BackwardContext ctx_;
};

/// A node named in a message, type-erased: its address and a function that prints it with
/// describe(). The messages are built by the functions below, compiled once in the library
/// (src/expr/anomaly.cpp); a node type adds only its describe() and one small wrapper per check.
struct NamedNode {
    const void* node;
    std::string (*text)(const void*);
};
/// Node n as a NamedNode (it must outlive the message being built).
template <class N>
NamedNode named(const N& n) noexcept {
    return {&n, [](const void* p) { return ctgrad::describe(*static_cast<const N*>(p)); }};
}

/// "[1, 2] of (3, 4)": flat index `flat` of a row-major space of `rank` dimensions `dims`.
std::string element_string(std::size_t flat, const std::size_t* dims, std::size_t rank);
/// element_string of a shape (an array of extents).
template <class S>
std::string element_string(std::size_t flat, const S& s) {
    return element_string(flat, s.data(), s.size());
}

/// The message builders. `where` is an element_string, `operands` an operand_values text;
/// `param_leaf`: n is a Param's leaf (the message then says where to look).
[[noreturn, gnu::cold]] void throw_value_anomaly(NamedNode n, double v, const std::string& where,
                                                 const std::string& operands, bool param_leaf);
[[noreturn, gnu::cold]] void throw_arriving_anomaly(NamedNode n, double g, const std::string& where);
[[noreturn, gnu::cold]] void throw_adjoint_anomaly(NamedNode n, NamedNode operand, double adjoint, double value,
                                                   double g, const std::string& where);
[[noreturn, gnu::cold]] void throw_written_gradient_anomaly(NamedNode by, NamedNode leaf, double g,
                                                            const std::string& where);
/// " (its operand is 1 there)" / " (its operands are 1 and 0 there)".
std::string operand_values_text(double operand);
std::string operand_values_text(double lhs, double rhs);

template <class N>
[[noreturn, gnu::cold, gnu::noinline]] void throw_value_anomaly(const N& n, double v, const std::string& where,
                                                                 const std::string& operands) {
    throw_value_anomaly(named(n), v, where, operands, requires { n.param(); });
}

/// Checks the n-element array p holding node n's value of shape s.
template <class N, class T, class S>
[[gnu::cold, gnu::noinline]] void check_values(const N& n, const T* p, const S& s) {
    const std::size_t size = shape_size(s);
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isfinite(p[i])) [[unlikely]] throw_value_anomaly(n, double(p[i]), element_string(i, s), "");
}

/// Checks the adjoint g (of shape s) arriving at node n before n's own reverse pass uses it.
template <class N, class T, class S>
[[gnu::cold, gnu::noinline]] void check_arriving_adjoint(const N& n, const T* g, const S& s) {
    const std::size_t size = shape_size(s);
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isfinite(g[i])) [[unlikely]] throw_arriving_anomaly(named(n), double(g[i]), element_string(i, s));
}

/// Checks a gradient that node `by` wrote straight into leaf's Param (g, of shape s).
template <class By, class Leaf, class T, class S>
[[gnu::cold, gnu::noinline]] void check_written_gradient(const By& by, const Leaf& leaf, const T* g, const S& s) {
    const std::size_t size = shape_size(s);
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isfinite(g[i])) [[unlikely]]
            throw_written_gradient_anomaly(named(by), named(leaf), double(g[i]), element_string(i, s));
}

/// The operand values at the element, for a message: " (operand values there: 1, 0)".
template <class N, class Tp>
std::string operand_values(const N& n, const Tp& t) {
    if constexpr (requires { n.operand(); t.c; }) {
        return operand_values_text(double(t.c.v));
    } else if constexpr (requires { n.lhs(); n.rhs(); t.l; t.r; }) {
        return operand_values_text(double(t.l.v), double(t.r.v));
    } else {
        return "";
    }
}

template <class N, class Tp, class Where>
[[noreturn, gnu::cold, gnu::noinline]] void throw_tape_anomaly(const N& n, const Tp& t, const Where& where) {
    throw_value_anomaly(n, double(t.v), where(), operand_values(n, t));
}

/// Checks the values of a fused region's tape at one element, operands first.
template <class N, class Tp, class Where>
void check_tape_values(const N& n, const Tp& t, const Where& where) {
    if constexpr (requires { n.operand(); t.c; }) {
        check_tape_values(n.operand(), t.c, where);
    } else if constexpr (requires { n.lhs(); n.rhs(); t.l; t.r; }) {
        check_tape_values(n.lhs(), t.l, where);
        check_tape_values(n.rhs(), t.r, where);
    }
    if (!std::isfinite(t.v)) [[unlikely]] throw_tape_anomaly(n, t, where);
}

template <class N, class E, class T, class Where>
[[noreturn, gnu::cold, gnu::noinline]] void throw_adjoint_anomaly(const N& n, const E& operand, T adjoint, T value, T g,
                                                                   const Where& where) {
    throw_adjoint_anomaly(named(n), named(operand), double(adjoint), double(value), double(g), where());
}

template <class N, class T, class Where>
[[noreturn, gnu::cold, gnu::noinline]] void throw_arriving_anomaly(const N& n, T g, const Where& where) {
    throw_arriving_anomaly(named(n), double(g), where());
}

/// Checks the adjoints a fused region's nodes pass to their operands at one element, given the
/// adjoint g arriving at node n (whose tape is t).
template <class N, class Tp, class T, class Where>
void check_tape_adjoints(const N& n, const Tp& t, T g, const Where& where) {
    using Node = std::remove_cvref_t<N>;
    if constexpr (!Node::needs_grad) {
        return;
    } else if constexpr (requires { n.operand(); t.c; n.operand_adjoint(t, g); }) {
        const T a = n.operand_adjoint(t, g);
        if (!std::isfinite(a)) [[unlikely]] throw_adjoint_anomaly(n, n.operand(), a, T(t.c.v), g, where);
        check_tape_adjoints(n.operand(), t.c, a, where);
    } else if constexpr (requires { n.lhs(); n.rhs(); t.l; t.r; n.lhs_adjoint(t, g); n.rhs_adjoint(t, g); }) {
        if constexpr (std::remove_cvref_t<decltype(n.lhs())>::needs_grad) {
            const T a = n.lhs_adjoint(t, g);
            if (!std::isfinite(a)) [[unlikely]] throw_adjoint_anomaly(n, n.lhs(), a, T(t.l.v), g, where);
            check_tape_adjoints(n.lhs(), t.l, a, where);
        }
        if constexpr (std::remove_cvref_t<decltype(n.rhs())>::needs_grad) {
            const T a = n.rhs_adjoint(t, g);
            if (!std::isfinite(a)) [[unlikely]] throw_adjoint_anomaly(n, n.rhs(), a, T(t.r.v), g, where);
            check_tape_adjoints(n.rhs(), t.r, a, where);
        }
    }
}

/// The row function of the check loops, type-erased: run_loop is then instantiated once per
/// cursor count and rank rather than once per region type (it is most of the checks' compile cost).
struct CheckRow {
    void* ctx;
    void (*fn)(void*, std::size_t);
    void operator()(std::size_t n) const { fn(ctx, n); }
};
template <class F>
CheckRow check_row(F& f) {
    return {&f, [](void* p, std::size_t n) { (*static_cast<F*>(p))(n); }};
}

/// Checks of the region `root` evaluated over `shape` (anomaly detection on), before its loop
/// runs: the values, and with `adjoints` also the adjoints from the upstream gradient `up` (a
/// reverse pass; shape is then root's). Forward and reverse checks of a region share this one
/// function, so a region type costs one more instantiation of its scalar step, not two.
template <class R, std::size_t N, class Up>
[[gnu::cold, gnu::noinline]] void check_region(R& root, const Shape<N>& shape, Up& up, bool adjoints) {
    using T = typename R::value_type;
    auto cs = gather_cursors(root, up);
    std::size_t base = 0;
    auto row = [&](std::size_t n) {
        for (std::size_t j = 0; j < n; ++j) {
            const auto where = [&] { return element_string(base + j, shape); };
            const auto tape = root.template fwd<T>(j);
            check_tape_values(root, tape, where);
            if constexpr (R::needs_grad) {
                if (adjoints) {
                    const T g = up.template fwd<T>(j).v;
                    if (!std::isfinite(g)) [[unlikely]] throw_arriving_anomaly(root, g, where);
                    check_tape_adjoints(root, tape, g, where);
                }
            }
        }
        base += n;
    };
    run_loop(shape, cs, false, check_row(row));
}

/// Forward checks of the region `root` evaluated over `shape`.
template <class R, std::size_t N>
void check_region_values(R& root, const Shape<N>& shape) {
    ScalarGrad<typename R::value_type> none(0);
    check_region(root, shape, none, false);
}

}  // namespace detail

}  // namespace ctgrad
