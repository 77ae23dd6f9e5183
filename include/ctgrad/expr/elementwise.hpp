#pragma once
/// \file Elementwise nodes. An op policy supplies the value (f) and the derivative rules (df, or
/// da/db for binary ops) on scalars and SIMD batches alike; the nodes compose them into one
/// per-element forward (the tape) and one per-element reverse step, so a whole elementwise
/// region, forward and backward, runs as a single loop.
#include <string>
#include <tuple>

#include <ctgrad/expr/leaf.hpp>

namespace ctgrad {

/// What a unary node's fwd() keeps for bwd(): its value and its operand's tape.
template <class V, class CT>
struct UnaryTape {
    /// The value.
    V v;
    /// The operand's tape.
    CT c;
};
/// What a binary node's fwd() keeps for bwd(): its value and both operands' tapes.
template <class V, class LT, class RT>
struct BinaryTape {
    /// The value.
    V v;
    /// The left operand's tape.
    LT l;
    /// The right operand's tape.
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
    /// The scalar type.
    using T = typename E::value_type;
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = E::needs_grad;
    /// Node protocol: the std::tuple of its fused operand node types (the region's cursor count is derived from these).
    using operands = std::tuple<E>;

    // By reference: a node argument is moved once, straight into place (whole subtrees move at
    // every level while an expression is built, so each saved move is a copy of the subtree).
    /// Takes the operand by value (moved in).
    explicit Unary(E&& e) : e_(std::move(e)) {}
    /// Copies the operand.
    explicit Unary(const E& e) : e_(e) {}
    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() { e_.prepare(); }
    /// The result's shape (valid after prepare()).
    Shape<E::rank> shape() const { return e_.shape(); }
    /// Node protocol: collects the operand's cursors (this node has none of its own).
    void collect(CursorSink<T>& sink) { e_.collect(sink); }
    /// Node protocol: the value at flat index j as a scalar or SIMD batch V, with what bwd() needs (the tape).
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto c = e_.template fwd<V>(j);
        return UnaryTape<V, decltype(c)>{Op::f(c.v), c};
    }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (E::needs_grad) e_.template bwd<V>(t.c, operand_adjoint(t, g), j);
    }
    /// The adjoint bwd() passes to the operand, given this node's adjoint g (t: what fwd() returned).
    template <class V, class Tp>
    static CTGRAD_INLINE V operand_adjoint(const Tp& t, const V& g) { return Op::df(t.c.v, t.v, g); }
    /// Node protocol: calls f on each boundary node of this region (the reverse pass continues from them).
    template <class F>
    void for_each_boundary(F&& f) { e_.for_each_boundary(f); }
    /// The operand node.
    const E& operand() const { return e_; }
    /// The node as text: "exp(x)", or "-x" for an op named "operator-" (see describe.hpp).
    std::string describe() const {
        const std::string name = op_name<Op>();
        if (name.rfind("operator", 0) == 0) return name.substr(8) + detail::infix_operand(e_, precedence(), false);
        return name + "(" + ctgrad::describe(e_) + ")";
    }
    /// How tightly the node binds as an infix operand: a prefix operator more than * and /.
    int precedence() const { return op_name<Op>().rfind("operator", 0) == 0 ? 3 : 100; }

private:
    E e_;
};

/// op(l, r), elementwise with NumPy broadcasting.
template <class Op, class L, class R>
class Binary : public detail::ElementwiseBase<Binary<Op, L, R>, typename L::value_type,
                                              (L::rank > R::rank ? L::rank : R::rank)> {
public:
    /// The scalar type.
    using T = typename L::value_type;
    /// The number of dimensions of the result (the operands broadcast together).
    static constexpr std::size_t N = L::rank > R::rank ? L::rank : R::rank;
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = L::needs_grad || R::needs_grad;
    /// Node protocol: the std::tuple of its fused operand node types (the region's cursor count is derived from these).
    using operands = std::tuple<L, R>;

    /// Takes the operands by value (moved in).
    Binary(L&& l, R&& r) : l_(std::move(l)), r_(std::move(r)) {}  // see Unary
    /// Copies the operands.
    Binary(const L& l, const R& r) : l_(l), r_(r) {}
    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        l_.prepare();
        r_.prepare();
        shape_ = broadcast_shapes(l_.shape(), r_.shape(), Op::name);
    }
    /// The result's shape (valid after prepare()).
    const Shape<N>& shape() const { return shape_; }
    /// Node protocol: collects the operands' cursors, left then right (this node has none of its own).
    void collect(CursorSink<T>& sink) {
        l_.collect(sink);
        r_.collect(sink);
    }
    /// Node protocol: the value at flat index j as a scalar or SIMD batch V, with what bwd() needs (the tape).
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto a = l_.template fwd<V>(j);
        auto b = r_.template fwd<V>(j);
        return BinaryTape<V, decltype(a), decltype(b)>{Op::f(a.v, b.v), a, b};
    }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (L::needs_grad) l_.template bwd<V>(t.l, lhs_adjoint(t, g), j);
        if constexpr (R::needs_grad) r_.template bwd<V>(t.r, rhs_adjoint(t, g), j);
    }
    /// The adjoint bwd() passes to the left operand, given this node's adjoint g (t: what fwd() returned).
    template <class V, class Tp>
    static CTGRAD_INLINE V lhs_adjoint(const Tp& t, const V& g) { return Op::da(t.l.v, t.r.v, t.v, g); }
    /// The adjoint bwd() passes to the right operand.
    template <class V, class Tp>
    static CTGRAD_INLINE V rhs_adjoint(const Tp& t, const V& g) { return Op::db(t.l.v, t.r.v, t.v, g); }
    /// Node protocol: calls f on each boundary node of this region (the reverse pass continues from them).
    template <class F>
    void for_each_boundary(F&& f) {
        l_.for_each_boundary(f);
        r_.for_each_boundary(f);
    }
    /// The left operand node.
    const L& lhs() const { return l_; }
    /// The right operand node.
    const R& rhs() const { return r_; }
    /// The node as text: "a + b" for an op named "operator+", else "name(a, b)" (see describe.hpp).
    std::string describe() const {
        const std::string name = op_name<Op>();
        if (name.rfind("operator", 0) != 0) return detail::describe_call(name, l_, r_);
        const std::string sym = name.substr(8);
        const int p = precedence();
        return detail::infix_operand(l_, p, false) + " " + sym + " " +
               detail::infix_operand(r_, p, sym == "-" || sym == "/");
    }
    /// How tightly the node binds as an infix operand: 1 for + and -, 2 for * and / (and other operators).
    int precedence() const {
        const std::string name = op_name<Op>();
        if (name.rfind("operator", 0) != 0) return 100;
        return name == "operator+" || name == "operator-" ? 1 : 2;
    }

private:
    L l_;
    R r_;
    Shape<N> shape_{};
};

/// Op policies: value and derivative rules. (x: operand, y: result, g: adjoint of the result.)
namespace ops {
/// Op policy of a + b: the value f and the adjoints da, db pushed to each operand.
struct Add {
    /// The operator's name in error messages.
    static constexpr const char* name = "operator+";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a + b; }
    /// The adjoint pushed to a, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V da(const V&, const V&, const V&, const V& g) { return g; }
    /// The adjoint pushed to b, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V db(const V&, const V&, const V&, const V& g) { return g; }
};
/// Op policy of a - b.
struct Sub {
    /// The operator's name in error messages.
    static constexpr const char* name = "operator-";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a - b; }
    /// The adjoint pushed to a, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V da(const V&, const V&, const V&, const V& g) { return g; }
    /// The adjoint pushed to b, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V db(const V&, const V&, const V&, const V& g) { return -g; }
};
/// Op policy of a * b.
struct Mul {
    /// The operator's name in error messages.
    static constexpr const char* name = "operator*";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a * b; }
    /// The adjoint pushed to a, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V da(const V&, const V& b, const V&, const V& g) { return g * b; }
    /// The adjoint pushed to b, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V db(const V& a, const V&, const V&, const V& g) { return g * a; }
};
/// Op policy of a / b.
struct Div {
    /// The operator's name in error messages.
    static constexpr const char* name = "operator/";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& a, const V& b) { return a / b; }
    /// The adjoint pushed to a, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V da(const V&, const V& b, const V&, const V& g) { return g / b; }
    /// The adjoint pushed to b, from a, b, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V db(const V&, const V& b, const V& y, const V& g) { return -g * y / b; }
};
/// Op policy of -x: the value f and the adjoint df pushed to the operand.
struct Neg {
    /// The name in messages (describe()).
    static constexpr const char* name = "operator-";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return -x; }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V&, const V&, const V& g) { return -g; }
};
/// Op policy of exp(x).
struct Exp {
    /// The name in messages (describe()).
    static constexpr const char* name = "exp";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::exp(x); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * y; }
};
/// Op policy of log(x).
struct Log {
    /// The name in messages (describe()).
    static constexpr const char* name = "log";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::log(x); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return g / x; }
};
/// Op policy of sqrt(x).
struct Sqrt {
    /// The name in messages (describe()).
    static constexpr const char* name = "sqrt";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::sqrt(x); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g / (V(2) * y); }
};
/// Op policy of x².
struct Square {
    /// The name in messages (describe()).
    static constexpr const char* name = "square";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return x * x; }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return V(2) * x * g; }
};
/// relu'(0) is taken as 0 (as PyTorch does).
struct Relu {
    /// The name in messages (describe()).
    static constexpr const char* name = "relu";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::max(x, V(0)); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return vm::where_positive(x, g); }
};
/// log(1 + e^x), computed as log1p(e^-|x|) + max(x, 0): no overflow for large x, and no loss of
/// the (tiny) result for very negative x. Its derivative is sigmoid(x).
struct Softplus {
    /// The name in messages (describe()).
    static constexpr const char* name = "softplus";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::log1p(vm::exp(-vm::abs(x))) + vm::max(x, V(0)); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V& x, const V&, const V& g) { return g / (V(1) + vm::exp(-x)); }
};
/// 1 / (1 + e^-x), the logistic function.
struct Sigmoid {
    /// The name in messages (describe()).
    static constexpr const char* name = "sigmoid";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return V(1) / (V(1) + vm::exp(-x)); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * y * (V(1) - y); }
};
/// Op policy of tanh(x).
struct Tanh {
    /// The name in messages (describe()).
    static constexpr const char* name = "tanh";
    /// The value.
    template <class V> static CTGRAD_INLINE V f(const V& x) { return vm::tanh(x); }
    /// The adjoint pushed to the operand, from x, the value y and the upstream adjoint g.
    template <class V> static CTGRAD_INLINE V df(const V&, const V& y, const V& g) { return g * (V(1) - y * y); }
};
}  // namespace ops

}  // namespace ctgrad
