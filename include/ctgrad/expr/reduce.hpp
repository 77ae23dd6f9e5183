#pragma once
/// \file sum and mean, over everything or along one axis. The forward pass reduces the operand's
/// elementwise region directly (no temporary); the backward pass broadcasts the upstream
/// gradient back into the region's fused reverse loop.
#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/operand.hpp>

namespace ctgrad {

/// sum(e) or mean(e): a rank-0 result.
template <class E>
class SumAll : public Boundary<SumAll<E>, typename E::value_type, 0, E::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// Sum (mean if `mean`) of all elements; takes the operand by value.
    SumAll(E&& e, bool mean) : e_(std::move(e)), mean_(mean) {}  // see Unary
    /// Sum (mean if `mean`) of all elements; copies the operand.
    SumAll(const E& e, bool mean) : e_(e), mean_(mean) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        this->set_shape({});
        const std::size_t n = shape_size(e_.shape());
        scale_ = mean_ ? T(1) / T(n) : T(1);
        this->out_.data()[0] = n == 0 && mean_ ? std::numeric_limits<T>::quiet_NaN() : T(0);
        Shape<E::rank> ones;
        ones.fill(1);
        Cursor<T> sink;
        sink.bind(nullptr, ones);
        sink.grad = this->out_.data();
        region_reduce(e_, sink, scale_);
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        ScalarGrad<T> up(g[0] * scale_);
        e_.backward(up);
    }

    /// backward() of this node as the loss: the value and every adjoint in ONE pass over the
    /// operand's region (the adjoint of a sum does not depend on its value). Returns the value.
    T value_and_backward() {
        e_.prepare();
        this->set_shape({});
        const std::size_t n = shape_size(e_.shape());
        scale_ = mean_ ? T(1) / T(n) : T(1);
        if (n == 0) return mean_ ? std::numeric_limits<T>::quiet_NaN() : T(0);
        ScalarGrad<T> up(scale_);
        const double total = region_backward<true>(e_, up);
        this->out_.data()[0] = T(total) * scale_;
        if (anomaly_detection_enabled()) [[unlikely]] detail::check_values(*this, this->out_.data(), this->shape_);
        return this->out_.data()[0];
    }
    /// The node as text: "sum(x)" or "mean(x)".
    std::string describe() const { return detail::describe_call(mean_ ? "mean" : "sum", e_); }

private:
    E e_;
    bool mean_;
    T scale_ = 1;
};

/// sum(e, axis) or mean(e, axis): the axis is removed from the shape.
template <class E>
class SumAxis : public Boundary<SumAxis<E>, typename E::value_type, E::rank - 1, E::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// The operand's number of dimensions.
    static constexpr std::size_t N = E::rank;
    /// Sum (mean if `mean`) along `axis` (negative: from the end); takes the operand by value.
    SumAxis(E&& e, std::ptrdiff_t axis, bool mean) : e_(std::move(e)), axis_arg_(axis), mean_(mean) {}  // see Unary
    /// Sum (mean if `mean`) along `axis` (negative: from the end); copies the operand.
    SumAxis(const E& e, std::ptrdiff_t axis, bool mean) : e_(e), axis_arg_(axis), mean_(mean) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        const auto in = e_.shape();
        const std::ptrdiff_t a = axis_arg_ < 0 ? axis_arg_ + std::ptrdiff_t(N) : axis_arg_;
        if (a < 0 || a >= std::ptrdiff_t(N))
            throw std::invalid_argument(std::string(mean_ ? "mean" : "sum") + ": axis " + std::to_string(axis_arg_) +
                                        " is out of range for shape " + shape_string(in));
        axis_ = std::size_t(a);
        kept_ = in;
        kept_[axis_] = 1;
        Shape<N - 1> out{};
        for (std::size_t i = 0, o = 0; i < N; ++i)
            if (i != axis_) out[o++] = in[i];
        this->set_shape(out);
        scale_ = mean_ ? T(1) / T(in[axis_]) : T(1);
        Cursor<T> sink;
        sink.bind(nullptr, kept_);
        sink.grad = this->out_.data();
        if (in[axis_] == 0)  // nothing to reduce: sum 0, mean NaN
            std::fill(this->out_.data(), this->out_.data() + this->out_.size(),
                      mean_ ? std::numeric_limits<T>::quiet_NaN() : T(0));
        else
            region_reduce(e_, sink, scale_);
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        GradView<T, N> up(g, kept_, scale_);
        e_.backward(up);
    }
    /// The node as text: "sum(x, axis=1)" or "mean(x, axis=1)".
    std::string describe() const {
        return std::string(mean_ ? "mean(" : "sum(") + ctgrad::describe(e_) + ", axis=" + std::to_string(axis_arg_) + ")";
    }

private:
    E e_;
    std::ptrdiff_t axis_arg_;
    bool mean_;
    std::size_t axis_ = 0;
    Shape<N> kept_{};
    T scale_ = 1;
};

namespace detail {
template <class E>
auto make_sum_all(E&& e, bool mean) {
    return SumAll<node_t<E>>(node_arg<operand_value_t<E>>(std::forward<E>(e)), mean);
}
template <class E>
auto make_sum_axis(E&& e, std::ptrdiff_t axis, bool mean) {
    static_assert(std::remove_cvref_t<E>::rank >= 1, "ctgrad: sum/mean along an axis needs an operand of rank >= 1");
    return SumAxis<node_t<E>>(node_arg<operand_value_t<E>>(std::forward<E>(e)), axis, mean);
}
}  // namespace detail

/// Sum of all elements (rank 0).
template <TensorLike E>
auto sum(E&& e) { return detail::make_sum_all(std::forward<E>(e), false); }
/// Mean of all elements (rank 0).
template <TensorLike E>
auto mean(E&& e) { return detail::make_sum_all(std::forward<E>(e), true); }
/// Sum along `axis` (negative counts from the end), which is removed from the shape.
template <TensorLike E, std::integral I>
auto sum(E&& e, I axis) { return detail::make_sum_axis(std::forward<E>(e), std::ptrdiff_t(axis), false); }
/// Mean along `axis` (negative counts from the end), which is removed from the shape.
template <TensorLike E, std::integral I>
auto mean(E&& e, I axis) { return detail::make_sum_axis(std::forward<E>(e), std::ptrdiff_t(axis), true); }

}  // namespace ctgrad
