#pragma once
/// \file A pass-through node that validates its operand's run-time shape, so a layer can report
/// a mismatch in its own terms ("nn::Linear<400, 120>: ...") rather than as a matmul error.
#include <ctgrad/expr/elementwise.hpp>

namespace ctgrad::nn::detail {

/// Check is a callable `void(const Shape<rank>&)` that throws on a bad shape.
template <class E, class Check>
class Checked : public ctgrad::detail::ElementwiseBase<Checked<E, Check>, typename E::value_type, E::rank> {
public:
    using T = typename E::value_type;
    static constexpr bool needs_grad = E::needs_grad;
    using operands = std::tuple<E>;
    static constexpr bool is_boundary = false;

    Checked(E e, Check check) : e_(std::move(e)), check_(std::move(check)) {}
    void prepare() {
        e_.prepare();
        check_(e_.shape());
    }
    auto shape() const { return e_.shape(); }
    void collect(CursorSink<T>& sink) { e_.collect(sink); }
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto c = e_.template fwd<V>(j);
        return UnaryTape<V, decltype(c)>{c.v, c};
    }
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (E::needs_grad) e_.template bwd<V>(t.c, g, j);
    }
    // Transparent to anomaly detection and describe(): the operand is what is checked and named.
    template <class V, class Tp>
    static CTGRAD_INLINE V operand_adjoint(const Tp&, const V& g) { return g; }
    const E& operand() const { return e_; }
    std::string describe() const { return ctgrad::describe(e_); }
    template <class F>
    void for_each_boundary(F&& f) { e_.for_each_boundary(f); }
    // Memory-backed operands stay zero-copy through the check.
    const T* materialize(Scratch<T>& buf) { return e_.materialize(buf); }
    T* grad_target() { return e_.grad_target(); }
    template <class Up>
    void backward(Up& up) { e_.backward(up); }

private:
    E e_;
    Check check_;
};

template <class E, class Check>
auto checked(E e, Check check) {
    return Checked<E, Check>(std::move(e), std::move(check));
}

}  // namespace ctgrad::nn::detail
