#pragma once
/// \file Leaves of the graph: trainable parameters, constants, numbers, and the upstream
/// gradients fed into a reverse pass.
#include <ctgrad/expr/region.hpp>
#include <ctgrad/expr/scratch.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad {

namespace detail {
/// Operations shared by the leaves backed by a contiguous tensor.
template <class Derived, class T, std::size_t N>
struct TensorLeafBase : expr_tag {
    using value_type = T;
    static constexpr std::size_t rank = N;
    static constexpr std::size_t own_cursors = 1;
    static constexpr bool is_boundary = false;

    template <class V>
    CTGRAD_INLINE LeafTape<V> fwd(std::size_t j) const { return {cur_.template load<V>(j)}; }
    template <class F>
    void for_each_boundary(F&&) {}
    const T* materialize(Scratch<T>&) {
        if (anomaly_detection_enabled()) [[unlikely]] detail::check_values(self(), self().tensor().data(), shape());
        return self().tensor().data();
    }
    Shape<N> shape() const { return self().tensor().shape(); }

protected:
    const Derived& self() const { return static_cast<const Derived&>(*this); }
    Cursor<T> cur_;
};
}  // namespace detail

/// A Param in an expression: its gradient receives adjoints. Refers to the Param by address.
template <class T, std::size_t N>
class ParamLeaf : public detail::TensorLeafBase<ParamLeaf<T, N>, T, N> {
public:
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = true;
    /// Refers to `p`, which must outlive the expression.
    explicit ParamLeaf(Param<T, N>& p) : p_(&p) {}

    /// The tensor this leaf reads.
    const Tensor<T, N>& tensor() const { return p_->value(); }
    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        if (!same_shape(p_->grad().shape(), p_->value().shape())) p_->zero_grad();
    }
    /// Node protocol: binds the cursor over the value and gradient and pushes it into sink.
    void collect(CursorSink<T>& sink) {
        this->cur_.bind(p_->value().data(), p_->value().shape());
        this->cur_.grad = p_->grad().data();
        this->cur_.owned_grad = false;
        sink.push(this->cur_);
    }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp&, const V& g, std::size_t j) { this->cur_.accumulate(j, g); }
    /// Where a full-shape gradient may be added directly (matmul writes dW here with beta = 1).
    T* grad_target() { return p_->grad().data(); }
    /// Ends the reverse pass here: adds the upstream gradient into the Param's grad().
    template <class Up>
    void backward(Up& up) {
        region_backward(*this, up);
    }
    /// The Param this leaf refers to.
    Param<T, N>& param() const { return *p_; }
    /// The leaf as text: "Param[3x4]" (its shape).
    std::string describe() const { return "Param[" + detail::dims_string(p_->value().shape()) + "]"; }

private:
    Param<T, N>* p_;
};

/// A tensor that is not differentiated: by reference when built from an lvalue, by value
/// (moved in) from an rvalue, so an expression never refers to a destroyed temporary.
template <class T, std::size_t N, bool Owned>
class ConstLeaf : public detail::TensorLeafBase<ConstLeaf<T, N, Owned>, T, N> {
public:
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = false;
    /// Refers to `t` (an lvalue, which must outlive the expression).
    explicit ConstLeaf(const Tensor<T, N>& t) requires(!Owned) : t_(&t) {}
    /// Owns `t` (an rvalue, moved in).
    explicit ConstLeaf(Tensor<T, N>&& t) requires(Owned) : t_(std::move(t)) {}

    /// The tensor this leaf reads.
    const Tensor<T, N>& tensor() const {
        if constexpr (Owned) return t_; else return *t_;
    }
    /// Node protocol: nothing to evaluate before the loop.
    void prepare() {}
    /// Node protocol: binds the cursor over the tensor (no gradient) and pushes it into sink.
    void collect(CursorSink<T>& sink) {
        this->cur_.bind(tensor().data(), tensor().shape());
        this->cur_.grad = nullptr;
        sink.push(this->cur_);
    }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    void bwd(const Tp&, const V&, std::size_t) {}
    /// Node protocol: where an enclosing reduction may write this node's gradient directly (nullptr: nowhere).
    T* grad_target() { return nullptr; }
    /// Nothing below this node takes a gradient.
    template <class Up>
    void backward(Up&) {}
    /// The leaf as text: "Tensor[3x4]" (its shape).
    std::string describe() const { return "Tensor[" + detail::dims_string(tensor().shape()) + "]"; }

private:
    std::conditional_t<Owned, Tensor<T, N>, const Tensor<T, N>*> t_;
};

/// A number in an expression (rank 0, broadcast everywhere).
template <class T>
class ScalarLeaf : public expr_tag {
public:
    /// The scalar type.
    using value_type = T;
    /// A single element: rank 0.
    static constexpr std::size_t rank = 0;
    /// Node protocol: false: a constant receives no gradient.
    static constexpr bool needs_grad = false;
    /// Node protocol: true for a node that materialises its result instead of fusing into its consumer's loop.
    static constexpr bool is_boundary = false;
    /// Holds the number by value.
    explicit ScalarLeaf(T v) : v_(v) {}

    /// Node protocol: nothing to evaluate before the loop.
    void prepare() {}
    /// The result's shape (valid after prepare()).
    Shape<0> shape() const { return {}; }
    /// Node protocol: nothing to collect (the number is held by value, no cursor).
    void collect(CursorSink<T>&) {}
    /// Node protocol: the number as a scalar or SIMD batch V, at every index.
    template <class V>
    CTGRAD_INLINE LeafTape<V> fwd(std::size_t) const { return {V(v_)}; }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    void bwd(const Tp&, const V&, std::size_t) {}
    /// Node protocol: calls f on each boundary node of this region (the reverse pass continues from them).
    template <class F>
    void for_each_boundary(F&&) {}
    /// Node protocol: a pointer to the evaluated result (the scratch buffer is used only by nodes that hold none).
    const T* materialize(Scratch<T>&) { return &v_; }
    /// Node protocol: where an enclosing reduction may write this node's gradient directly (nullptr: nowhere).
    T* grad_target() { return nullptr; }
    /// Nothing below this node takes a gradient.
    template <class Up>
    void backward(Up&) {}
    /// The number.
    T value() const { return v_; }
    /// The number as text ("1", "0.5").
    std::string describe() const { return detail::number_string(double(v_)); }

private:
    T v_;
};

/// Upstream gradient of a reverse pass: `scale * data`, with a shape that broadcasts to the
/// shape of the node receiving it (a 1 where a reduction removed an axis).
template <class T, std::size_t N>
class GradView {
public:
    /// The scalar type.
    using value_type = T;
    /// The number of dimensions of the result.
    static constexpr std::size_t rank = N;
    /// Node protocol: one cursor, over the gradient data.
    static constexpr std::size_t own_cursors = 1;
    /// Views `data` of shape `shape` (not owned), scaled by `scale`.
    GradView(const T* data, const Shape<N>& shape, T scale = T(1)) : data_(data), shape_(shape), scale_(scale) {}
    /// Node protocol: binds the cursor over the data and pushes it into sink.
    void collect(CursorSink<T>& sink) {
        cur_.bind(data_, shape_);
        sink.push(cur_);
    }
    /// Node protocol: the value at flat index j as a scalar or SIMD batch V, with what bwd() needs (the tape).
    template <class V>
    CTGRAD_INLINE LeafTape<V> fwd(std::size_t j) const { return {V(scale_) * cur_.template load<V>(j)}; }
    /// The data, when it already is a contiguous gradient of exactly `shape` (no copy needed).
    template <std::size_t M>
    const T* exact(const Shape<M>& shape) const {
        if constexpr (M != N) return nullptr;
        else return shape == shape_ && scale_ == T(1) ? data_ : nullptr;
    }
    /// The result's shape (valid after prepare()).
    const Shape<N>& shape() const { return shape_; }

private:
    const T* data_;
    Shape<N> shape_;
    T scale_;
    Cursor<T> cur_;
};

/// Upstream gradient that is one number broadcast everywhere (d loss / d loss = 1, or a mean's 1/n).
template <class T>
class ScalarGrad {
public:
    /// The scalar type.
    using value_type = T;
    /// A single element: rank 0.
    static constexpr std::size_t rank = 0;
    /// The gradient `g` at every element.
    explicit ScalarGrad(T g) : g_(g) {}
    /// Node protocol: nothing to collect (the number is held by value, no cursor).
    void collect(CursorSink<T>&) {}
    /// Node protocol: the gradient as a scalar or SIMD batch V, at every index.
    template <class V>
    CTGRAD_INLINE LeafTape<V> fwd(std::size_t) const { return {V(g_)}; }
    /// The gradient's elements if they have exactly shape `s` and need no scaling, else nullptr.
    template <std::size_t N>
    const T* exact(const Shape<N>&) const { return nullptr; }
    /// The result's shape (valid after prepare()).
    Shape<0> shape() const { return {}; }

private:
    T g_;
};

}  // namespace ctgrad
