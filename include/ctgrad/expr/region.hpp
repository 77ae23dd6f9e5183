#pragma once
/// \file Fused evaluation of an elementwise region: forward into a buffer, forward into a
/// reduction, and the fused reverse pass that recomputes the region per element in registers
/// and pushes every operand's adjoint in the same loop.
///
/// A region root R provides (see leaf.hpp / elementwise.hpp):
///   value_type, rank, needs_grad, shape(), collect(CursorSink&), [own_cursors], [operands],
///   fwd<V>(j) -> tape with .v, bwd<V>(tape, adjoint, j), for_each_boundary(f).
#include <array>
#include <cstddef>
#include <cstring>

#include <ctgrad/expr/anomaly.hpp>
#include <ctgrad/expr/loop.hpp>

namespace ctgrad {

namespace detail {
/// Cursors of a forward pass, plus a sink: operands' gradient storage is not touched.
template <class R>
auto forward_cursors(R& root, Cursor<typename R::value_type>& sink) {
    auto roots = gather_cursors(root);
    std::array<Cursor<typename R::value_type>*, roots.size() + 1> cs{};
    for (std::size_t i = 0; i < roots.size(); ++i) {
        roots[i]->grad = nullptr;
        cs[i] = roots[i];
    }
    cs.back() = &sink;
    sink.owned_grad = true;
    return cs;
}
/// Stores a SIMD batch at p (unaligned) as T elements. The intrinsics' store types are may_alias,
/// so the compiler must assume such a store may change the loop's cursors and reload them (and
/// test their contiguity) on every batch; a store typed as T elements aliases only T objects.
template <class T, class V>
CTGRAD_INLINE void store_typed(T* p, const V& v) {
    typedef T Raw __attribute__((vector_size(sizeof(V)), aligned(alignof(T))));
    static_assert(sizeof(Raw) == sizeof(V));
    Raw r;
    std::memcpy(&r, &v, sizeof r);  // a register move
    *reinterpret_cast<Raw*>(p) = r;
}
}  // namespace detail

/// out[i] = root[i] over `shape` (root broadcast to it); out is contiguous row-major.
template <class R, std::size_t N>
void region_assign(R& root, const Shape<N>& shape, typename R::value_type* out) {
    using T = typename R::value_type;
    Cursor<T> sink;
    sink.bind(nullptr, shape);
    sink.grad = out;
    if constexpr (requires { R::needs_grad; })  // a node, not an upstream gradient being spread out
        if (anomaly_detection_enabled()) [[unlikely]] detail::check_region_values(root, shape);
    auto cs = detail::forward_cursors(root, sink);  // the sink is overwritten, never read
    run_loop(shape, cs, true, [&](std::size_t n) {
        T* o = sink.grow;
        simd_row<T>(n, [&]<class V>(std::size_t j) {
            const V v = root.template fwd<V>(j).v;
            if constexpr (vm::is_scalar_v<V>) o[j] = v; else detail::store_typed(o + j, v);
        });
    });
}

/// sink += scale * root, where the sink cursor's shape broadcasts to root's shape: this is the
/// fused reduction (sum over the sink's broadcast axes) and needs no temporary for the region.
/// The sink is zeroed first unless it has root's full shape.
template <class R>
void region_reduce(R& root, Cursor<typename R::value_type>& sink, typename R::value_type scale) {
    using T = typename R::value_type;
    using B = xsimd::batch<T>;
    constexpr std::size_t W = B::size;
    if (anomaly_detection_enabled()) [[unlikely]] detail::check_region_values(root, root.shape());
    auto cs = detail::forward_cursors(root, sink);
    run_loop(root.shape(), cs, true, [&](std::size_t n) {
        if (sink.contiguous) {
            simd_row<T>(n, [&]<class V>(std::size_t j) { sink.accumulate(j, V(scale) * root.template fwd<V>(j).v); });
            return;
        }
        // The whole row folds into one output element: partial sums in a register, blocked so that
        // float accuracy does not degrade with the row length.
        double total = 0;
        std::size_t j = 0;
        while (j + W <= n) {
            B acc(T(0));
            const std::size_t end = std::min(n - (n - j) % W, j + 1024);
            for (; j < end; j += W) acc += root.template fwd<B>(j).v;
            total += double(xsimd::hadd(acc));
        }
        for (; j < n; ++j) total += double(root.template fwd<T>(j).v);
        if (sink.overwrite) *sink.grow = T(total) * scale;
        else *sink.grow += T(total) * scale;
    });
}

/// Reverse pass of a region: for each element, recompute the region (the tape) and propagate the
/// adjoint given by `up` to every operand; then let boundary operands continue their own
/// backward pass from the adjoints they received. With `SumValues`, the same loop also returns
/// the sum of the region's values (used to fuse `backward(sum(region))` into a single pass).
template <bool SumValues = false, class R, class Up>
double region_backward(R& root, Up& up) {
    using T = typename R::value_type;
    using B = xsimd::batch<T>;
    double total = 0;
    if constexpr (R::needs_grad || SumValues) {
        if (anomaly_detection_enabled()) [[unlikely]] detail::check_region(root, root.shape(), up, R::needs_grad);
        auto cs = detail::gather_cursors(root, up);
        run_loop(root.shape(), cs, R::needs_grad, [&](std::size_t n) {
            B acc(T(0));
            T tail = 0;
            std::size_t batches = 0;
            simd_row<T>(n, [&]<class V>(std::size_t j) {
                const auto tape = root.template fwd<V>(j);
                if constexpr (R::needs_grad) root.template bwd<V>(tape, up.template fwd<V>(j).v, j);
                if constexpr (SumValues) {
                    if constexpr (vm::is_scalar_v<V>) {
                        tail += tape.v;
                    } else if constexpr (!std::is_same_v<V, B>) {  // a narrower step of simd_row
                        tail += vm::hsum(tape.v);
                    } else {
                        acc += tape.v;
                        if (++batches % 64 == 0) {  // bounded partial sums keep float accuracy
                            total += double(xsimd::hadd(acc));
                            acc = B(T(0));
                        }
                    }
                }
            });
            if constexpr (SumValues) total += double(xsimd::hadd(acc)) + double(tail);
        });
        if constexpr (R::needs_grad) {
            root.for_each_boundary([](auto& b) {
                if constexpr (std::remove_reference_t<decltype(b)>::needs_grad) b.backward_from_own_grad();
            });
        }
    }
    return total;
}

}  // namespace ctgrad
