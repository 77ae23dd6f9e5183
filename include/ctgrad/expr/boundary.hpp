#pragma once
/// \file Base of the boundary ops (matmul, reductions, convolution, pooling, losses): nodes that
/// materialise their result in a scratch buffer instead of fusing into their consumer, and act as
/// an ordinary tensor operand of the elementwise region around them.
#include <ctgrad/expr/leaf.hpp>

namespace ctgrad {

/// D implements prepare() (forward: prepare operands, then set_shape() and fill out_) and
/// backward_kernel(const T* g) (g: d loss / d output, contiguous, of shape()).
template <class D, class T, std::size_t N, bool NeedsGrad>
class Boundary : public expr_tag {
public:
    /// The scalar type.
    using value_type = T;
    /// The number of dimensions of the result.
    static constexpr std::size_t rank = N;
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = NeedsGrad;
    /// Node protocol: a boundary node is read by its consumer's region through one cursor (its result).
    static constexpr std::size_t own_cursors = 1;
    /// Node protocol: true: this node materialises its result instead of fusing into its consumer's loop.
    static constexpr bool is_boundary = true;

    /// The result's shape (valid after prepare()).
    const Shape<N>& shape() const { return shape_; }
    /// The result (valid after prepare()). A node whose result lives elsewhere (a view such as
    /// Flatten) hides value_ptr().
    const T* value_ptr() const { return out_.data(); }
    /// The result's elements, contiguous and row-major (valid after prepare()).
    const T* data() const { return static_cast<const D&>(*this).value_ptr(); }

    /// Node protocol: binds the cursor over the result (and, if needed, the gradient buffer) and pushes it into sink.
    void collect(CursorSink<T>& sink) {
        cur_.bind(data(), shape_);
        cur_.grad = nullptr;
        if constexpr (NeedsGrad) {
            grad_.resize(shape_size(shape_));
            cur_.grad = grad_.data();
            cur_.owned_grad = true;
        }
        sink.push(cur_);
    }
    /// Node protocol: the value at flat index j as a scalar or SIMD batch V, with what bwd() needs (the tape).
    template <class V>
    CTGRAD_INLINE LeafTape<V> fwd(std::size_t j) const { return {cur_.template load<V>(j)}; }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp&, const V& g, std::size_t j) {
        if constexpr (NeedsGrad) cur_.accumulate(j, g);
    }
    /// Node protocol: calls f on each boundary node of this region (the reverse pass continues from them).
    template <class F>
    void for_each_boundary(F&& f) { f(static_cast<D&>(*this)); }
    /// Node protocol: a pointer to the evaluated result (the scratch buffer is used only by nodes that hold none).
    const T* materialize(Scratch<T>&) {
        if (anomaly_detection_enabled()) [[unlikely]] detail::check_values(self(), data(), shape_);
        return data();
    }
    /// Node protocol: where an enclosing reduction may write this node's gradient directly (nullptr: nowhere).
    T* grad_target() { return nullptr; }

    /// Continues the reverse pass from the adjoint gathered in grad_ by the enclosing region.
    void backward_from_own_grad() { run_backward_kernel(grad_.data()); }
    /// Continues the reverse pass from an upstream gradient that broadcasts to shape().
    template <class Up>
    void backward(Up& up) {
        if constexpr (NeedsGrad) {
            if (const T* g = up.exact(shape_)) {
                run_backward_kernel(g);
                return;
            }
            grad_.resize(shape_size(shape_));
            region_assign(up, shape_, grad_.data());
            run_backward_kernel(grad_.data());
        }
    }

protected:
    /// The derived node.
    const D& self() const { return static_cast<const D&>(*this); }
    /// backward_kernel(g), with the anomaly checks around it when they are on.
    void run_backward_kernel(const T* g) {
        if (anomaly_detection_enabled()) [[unlikely]] {
            detail::check_arriving_adjoint(self(), g, shape_);
            detail::BackwardScope<D> scope(self());
            static_cast<D&>(*this).backward_kernel(g);
            return;
        }
        static_cast<D&>(*this).backward_kernel(g);
    }
    /// Sets the result's shape and sizes its buffer (`allocate = false` for views).
    void set_shape(const Shape<N>& s, bool allocate = true) {
        shape_ = s;
        if (allocate) out_.resize(shape_size(s));
    }
    /// The result's shape.
    Shape<N> shape_{};
    /// The result's buffer (from the per-thread pool).
    Scratch<T> out_;
    /// The adjoint gathered by the enclosing region (when needs_grad).
    Scratch<T> grad_;
    /// This node's cursor in the enclosing region's loop.
    Cursor<T> cur_;
};

}  // namespace ctgrad
