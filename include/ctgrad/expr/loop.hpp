#pragma once
/// \file The fused loop: one pass over a broadcast iteration space, reading and writing every
/// tensor operand of an elementwise region through a Cursor.
///
/// Adjacent dimensions are merged whenever every operand is contiguous (or broadcast) across
/// them, so the common same-shape case becomes a single flat SIMD loop, and a row-vector bias
/// becomes rows of contiguous loads. After merging, each operand's innermost stride is 0 or 1.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include <ctgrad/simd/xsimd.hpp>

#include <ctgrad/expr/node.hpp>

namespace ctgrad {

/// A tensor operand of a fused loop: its storage, its own shape, and its position in the loop.
///
/// A cursor is per-evaluation state, bound by the owning node's collect() right before each loop.
/// Copying a cursor therefore yields an unbound one: nodes are moved at every level while an
/// expression is built, and copying the (never yet bound) cursors made up most of those moves.
template <class T>
struct Cursor {
    Cursor() = default;
    /// A copy is unbound: binding is per-evaluation state, done by collect().
    Cursor(const Cursor&) noexcept {}
    /// Assignment leaves the cursor unbound (see the copy constructor).
    Cursor& operator=(const Cursor&) noexcept { return *this; }

    // Only grad and owned_grad have defaults (collect() may leave them); the rest is set by
    // bind() and run_loop() before use, and is left uninitialised to keep copies cheap.
    /// The bound operand's elements.
    const T* data;
    T* grad = nullptr;           ///< gradient storage receiving adjoints (backward passes)
    /// The bound shape's number of dimensions.
    std::size_t rank;
    std::array<std::size_t, kMaxRank> shape;  ///< first `rank` entries valid
    bool owned_grad = false;     ///< grad is a node's scratch: overwrite when unbroadcast, else zero first

    // Set by run_loop.
    /// The current row of the operand's elements.
    const T* row;
    /// The current row of the gradient (nullptr: no gradient).
    T* grow;
    bool contiguous;             ///< innermost stride 1 (else 0: the value repeats along the row)
    bool overwrite;              ///< first write of an unbroadcast owned gradient

    /// Binds the cursor to elements `d` of shape `s`.
    template <class S>
    void bind(const T* d, const S& s) {
        data = d;
        rank = s.size();
        std::copy(s.begin(), s.end(), shape.begin());
    }
    /// The number of elements of the bound shape.
    std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= shape[i];
        return n;
    }

    /// The element (or SIMD batch) at index j of the current row.
    template <class V>
    CTGRAD_INLINE V load(std::size_t j) const {
        if constexpr (vm::is_scalar_v<V>) return row[contiguous ? j : 0];
        else return contiguous ? V::load_unaligned(row + j) : V(row[0]);
    }
    /// Adds g into the gradient at index j of the current row.
    template <class V>
    CTGRAD_INLINE void accumulate(std::size_t j, const V& g) {
        if constexpr (vm::is_scalar_v<V>) {
            if (!contiguous) *grow += g;
            else if (overwrite) grow[j] = g;
            else grow[j] += g;
        } else {
            if (!contiguous) *grow += vm::hsum(g);
            else if (overwrite) g.store_unaligned(grow + j);
            else (V::load_unaligned(grow + j) + g).store_unaligned(grow + j);
        }
    }
};

/// Where a node's collect() hands over its cursors: a list as long as the region's type says
/// (cursor_count), checked on every push, so a node collecting more cursors than its type
/// declares is an error, never an overrun (and one collecting fewer is caught by check_full()).
template <class T>
class CursorSink {
public:
    /// A sink filling the cursor pointers [first, last).
    CursorSink(Cursor<T>** first, Cursor<T>** last) noexcept : pos_(first), end_(last) {}
    /// Appends a cursor; throws std::logic_error past the bound.
    CTGRAD_INLINE void push(Cursor<T>& c) {
        if (pos_ == end_) [[unlikely]] mismatch("more");
        *pos_++ = &c;
    }
    /// Throws std::logic_error unless every slot was filled.
    void check_full() const {
        if (pos_ != end_) [[unlikely]] mismatch("fewer");
    }

private:
    [[noreturn, gnu::cold, gnu::noinline]] static void mismatch(const char* what) {
        throw std::logic_error(std::string("ctgrad: an expression node's collect() handed over ") + what +
                               " cursors than its type declares (own_cursors plus those of its operands)");
    }
    Cursor<T>** pos_;
    Cursor<T>** end_;
};

namespace detail {
template <class Tuple>
struct operands_cursor_count;
}  // namespace detail

/// Number of cursors a fused region of type E uses, derived from its type: the node's own
/// (`own_cursors`, 0 if absent: e.g. a leaf's or a boundary's single one) plus those of each
/// type in `operands` (a std::tuple of its fused operands, absent for leaves).
template <class E>
constexpr std::size_t cursor_count() {
    std::size_t n = 0;
    if constexpr (requires { E::own_cursors; }) n += E::own_cursors;
    if constexpr (requires { typename E::operands; }) n += detail::operands_cursor_count<typename E::operands>::value;
    return n;
}
namespace detail {
template <class... Es>
struct operands_cursor_count<std::tuple<Es...>> {
    static constexpr std::size_t value = (cursor_count<Es>() + ... + 0);
};
}  // namespace detail

namespace detail {
/// The cursors of the regions `roots`: as many as their types say (cursor_count), each collect()
/// checked against that bound, and the total checked after (see CursorSink).
template <class... R>
auto gather_cursors(R&... roots) {
    using T = typename std::common_type_t<typename R::value_type...>;
    std::array<Cursor<T>*, (cursor_count<R>() + ... + 0)> cs{};
    CursorSink<T> sink(cs.data(), cs.data() + cs.size());
    (roots.collect(sink), ...);
    sink.check_full();
    return cs;
}
}  // namespace detail

/// Calls `step.template operator()<V>(j)` over a row of n elements: SIMD batches, then a scalar tail.
template <class T, class Step>
CTGRAD_INLINE void simd_row(std::size_t n, Step&& step) {
    using B = xsimd::batch<T>;
    constexpr std::size_t W = B::size;
    std::size_t j = 0;
    for (; j + W <= n; j += W) step.template operator()<B>(j);
#if XSIMD_WITH_AVX512F
    // 16 lanes leave up to 15 elements to the scalar tail, which is the whole row for small batches
    // (10 rows of a regression): one 256-bit step halves that.
    using H = xsimd::batch<T, xsimd::avx2>;
    if (j + H::size <= n) {
        step.template operator()<H>(j);
        j += H::size;
    }
#endif
    for (; j < n; ++j) step.template operator()<T>(j);
}

/// Iterates the broadcast space `shape` for the cursors `cs`, calling row_fn(n) once per
/// innermost row with every cursor's row pointers set. With `gradients`, owned gradient
/// buffers are prepared (zeroed when broadcast, overwritten otherwise).
template <class T, std::size_t K, std::size_t N, class RowFn>
void run_loop(const Shape<N>& shape, const std::array<Cursor<T>*, K>& cs, bool gradients, RowFn&& row_fn) {
    static_assert(N <= kMaxRank, "ctgrad: fused loops support tensors of rank <= 8");
    std::size_t total = 1;
    for (auto d : shape) total *= d;
    if (total == 0) return;

    // Common case first: every operand has the full shape or a single element. Then the space is
    // one flat row, and the stride analysis below (a large share of a step on tiny tensors) is moot.
    // (An operand that broadcasts to the shape and has as many elements has exactly that shape.)
    {
        bool flat = true;
        std::array<std::size_t, (K ? K : 1)> sizes{};
        for (std::size_t c = 0; flat && c < K; ++c) {
            sizes[c] = cs[c]->size();
            flat = sizes[c] == total || sizes[c] == 1;
        }
        if (flat) {
            for (std::size_t c = 0; c < K; ++c) {
                Cursor<T>& cur = *cs[c];
                cur.contiguous = sizes[c] == total && total > 1;  // one element: broadcast, as below
                cur.overwrite = false;
                if (gradients && cur.grad && cur.owned_grad) {
                    cur.overwrite = cur.contiguous;
                    if (!cur.overwrite) *cur.grad = T(0);
                }
                cur.row = cur.data;
                cur.grow = cur.grad;
            }
            row_fn(total);
            return;
        }
    }

    std::size_t nd = 0;
    std::array<std::size_t, kMaxRank> dims{};
    std::array<std::array<std::ptrdiff_t, kMaxRank>, (K ? K : 1)> st{};
    for (std::size_t d = 0; d < N; ++d) {
        if (shape[d] == 1) continue;
        std::array<std::ptrdiff_t, (K ? K : 1)> s{};
        for (std::size_t c = 0; c < K; ++c) {
            const Cursor<T>& cur = *cs[c];
            const std::ptrdiff_t cd = std::ptrdiff_t(d) - std::ptrdiff_t(N - cur.rank);
            if (cd < 0 || cur.shape[cd] == 1) { s[c] = 0; continue; }
            std::ptrdiff_t nat = 1;
            for (std::size_t i = std::size_t(cd) + 1; i < cur.rank; ++i) nat *= std::ptrdiff_t(cur.shape[i]);
            s[c] = nat;
        }
        bool merge = nd > 0;
        for (std::size_t c = 0; merge && c < K; ++c)
            merge = st[c][nd - 1] == s[c] * std::ptrdiff_t(shape[d]);
        if (merge) {
            dims[nd - 1] *= shape[d];
            for (std::size_t c = 0; c < K; ++c) st[c][nd - 1] = s[c];
        } else {
            dims[nd] = shape[d];
            for (std::size_t c = 0; c < K; ++c) st[c][nd] = s[c];
            ++nd;
        }
    }
    if (nd == 0) { dims[0] = 1; nd = 1; }
    for (std::size_t c = 0; c < K; ++c) {
        Cursor<T>& cur = *cs[c];
        cur.contiguous = st[c][nd - 1] == 1;
        cur.overwrite = false;
        if (gradients && cur.grad && cur.owned_grad) {
            const std::size_t n = cur.size();
            // Unbroadcast along a contiguous row: every element is written exactly once.
            cur.overwrite = n == total && cur.contiguous;
            if (!cur.overwrite) std::memset(cur.grad, 0, n * sizeof(T));
        }
    }

    const std::size_t inner = dims[nd - 1];
    const std::size_t outer = total / inner;
    std::array<std::size_t, kMaxRank> idx{};
    std::array<std::ptrdiff_t, (K ? K : 1)> off{};
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t c = 0; c < K; ++c) {
            cs[c]->row = cs[c]->data ? cs[c]->data + off[c] : nullptr;
            cs[c]->grow = cs[c]->grad ? cs[c]->grad + off[c] : nullptr;
        }
        row_fn(inner);
        for (std::ptrdiff_t d = std::ptrdiff_t(nd) - 2; d >= 0; --d) {
            for (std::size_t c = 0; c < K; ++c) off[c] += st[c][d];
            if (++idx[d] < dims[d]) break;
            for (std::size_t c = 0; c < K; ++c) off[c] -= st[c][d] * std::ptrdiff_t(dims[d]);
            idx[d] = 0;
        }
    }
}

}  // namespace ctgrad
