#pragma once
/// \file Elementwise nodes. An op policy supplies the value (f) and the derivative rules (df, or
/// da/db for binary ops) on scalars and SIMD batches alike; the nodes compose them into one
/// per-element forward (the tape) and one per-element reverse step, so a whole elementwise
/// region, forward and backward, runs as a single loop.
#include <tuple>

#include <ctgrad/expr/leaf.hpp>

namespace ctgrad {

template <class V, class CT>
struct UnaryTape {
    V v;
    CT c;
};
template <class V, class LT, class RT>
struct BinaryTape {
    V v;
    LT l;
    RT r;
};

namespace detail {
/// Members shared by the elementwise nodes (D is the node, T its scalar type).
template <class D, class T, std::size_t N>
struct ElementwiseBase : expr_tag {
    using value_type = T;
    static constexpr std::size_t rank = N;
    static constexpr bool is_boundary = false;

    /// Evaluates the region into `buf` (used when a boundary op needs the value in memory).
    const T* materialize(Scratch<T>& buf) {
        D& d = static_cast<D&>(*this);
        buf.resize(shape_size(d.shape()));
        region_assign(d, d.shape(), buf.data());
        return buf.data();
    }
    T* grad_target() { return nullptr; }
    template <class Up>
    void backward(Up& up) { region_backward(static_cast<D&>(*this), up); }
};
}  // namespace detail

/// op(e), elementwise.
template <class Op, class E>
class Unary : public detail::ElementwiseBase<Unary<Op, E>, typename E::value_type, E::rank> {
public:
    using T = typename E::value_type;
    static constexpr bool needs_grad = E::needs_grad;
    using operands = std::tuple<E>;

    // By reference: a node argument is moved once, straight into place (whole subtrees move at
    // every level while an expression is built, so each saved move is a copy of the subtree).
    explicit Unary(E&& e) : e_(std::move(e)) {}
    explicit Unary(const E& e) : e_(e) {}
    void prepare() { e_.prepare(); }
    Shape<E::rank> shape() const { return e_.shape(); }
    void collect(CursorSink<T>& sink) { e_.collect(sink); }
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto c = e_.template fwd<V>(j);
        return UnaryTape<V, decltype(c)>{Op::f(c.v), c};
    }
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (E::needs_grad) e_.template bwd<V>(t.c, Op::df(t.c.v, t.v, g), j);
    }
    template <class F>
    void for_each_boundary(F&& f) { e_.for_each_boundary(f); }
    const E& operand() const { return e_; }

private:
    E e_;
};

/// op(l, r), elementwise with NumPy broadcasting.
template <class Op, class L, class R>
class Binary : public detail::ElementwiseBase<Binary<Op, L, R>, typename L::value_type,
                                              (L::rank > R::rank ? L::rank : R::rank)> {
public:
    using T = typename L::value_type;
    static constexpr std::size_t N = L::rank > R::rank ? L::rank : R::rank;
    static constexpr bool needs_grad = L::needs_grad || R::needs_grad;
    using operands = std::tuple<L, R>;

    Binary(L&& l, R&& r) : l_(std::move(l)), r_(std::move(r)) {}  // see Unary
    Binary(const L& l, const R& r) : l_(l), r_(r) {}
    void prepare() {
        l_.prepare();
        r_.prepare();
        shape_ = broadcast_shapes(l_.shape(), r_.shape(), Op::name);
    }
    const Shape<N>& shape() const { return shape_; }
    void collect(CursorSink<T>& sink) {
        l_.collect(sink);
        r_.collect(sink);
    }
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto a = l_.template fwd<V>(j);
        auto b = r_.template fwd<V>(j);
        return BinaryTape<V, decltype(a), decltype(b)>{Op::f(a.v, b.v), a, b};
    }
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (L::needs_grad) l_.template bwd<V>(t.l, Op::da(t.l.v, t.r.v, t.v, g), j);
        if constexpr (R::needs_grad) r_.template bwd<V>(t.r, Op::db(t.l.v, t.r.v, t.v, g), j);
    }
    template <class F>
    void for_each_boundary(F&& f) {
        l_.for_each_boundary(f);
        r_.for_each_boundary(f);
    }

private:
    L l_;
    R r_;
    Shape<N> shape_{};
};

/// Op policies: value and derivative rules. (x: operand, y: result, g: adjoint of the result.)
namespace ops {
struct Add {
    static constexpr const char* name = "operator+";
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a + b; }
    template <class V> static CTGRAD_INLINE V da(const V&, const V&, const V&, const V& g) { return g; }
    template <class V> static CTGRAD_INLINE V db(const V&, const V&, const V&, const V& g) { return g; }
};
struct Sub {
    static constexpr const char* name = "operator-";
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a - b; }
    template <class V> static CTGRAD_INLINE V da(const V&, const V&, const V&, const V& g) { return g; }
    template <class V> static CTGRAD_INLINE V db(const V&, const V&, const V&, const V& g) { return -g; }
};
struct Mul {
    static constexpr const char* name = "operator*";
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a * b; }
    template <class V> static CTGRAD_INLINE V da(const V&, const V& b, const V&, const V& g) { return g * b; }
    template <class V> static CTGRAD_INLINE V db(const V& a, const V&, const V&, const V& g) { return g * a; }
};
struct Div {
    static constexpr const char* name = "operator/";
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a / b; }
    template <class V> static CTGRAD_INLINE V da(const V&, const V& b, const V&, const V& g) { return g / b; }
    template <class V> static CTGRAD_INLINE V db(const V&, const V& b, const V& y, const V& g) { return -g * y / b; }
};
struct Neg {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return -x; }
    template <class V> static CTGRAD_INLINE V df(const V&, const V&, const V& g) { return -g; }
};
struct Exp {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::exp(x); }
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * y; }
};
struct Log {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::log(x); }
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return g / x; }
};
struct Sqrt {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::sqrt(x); }
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g / (V(2) * y); }
};
struct Square {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return x * x; }
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return V(2) * x * g; }
};
/// relu'(0) is taken as 0 (as PyTorch does).
struct Relu {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::max(x, V(0)); }
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return vm::where_positive(x, g); }
};
/// log(1 + e^x), computed as log1p(e^-|x|) + max(x, 0): no overflow for large x, and no loss of
/// the (tiny) result for very negative x. Its derivative is sigmoid(x).
struct Softplus {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::log1p(vm::exp(-vm::abs(x))) + vm::max(x, V(0)); }
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return g / (V(1) + vm::exp(-x)); }
};
struct Sigmoid {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return V(1) / (V(1) + vm::exp(-x)); }
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * y * (V(1) - y); }
};
struct Tanh {
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::tanh(x); }
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * (V(1) - y * y); }
};
}  // namespace ops

}  // namespace ctgrad
