#pragma once
/// \file nn::Residual{f}: y = x + f(x), for any layer or Sequential f whose output shape is its
/// input's.
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/functions.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/layer.hpp>

namespace ctgrad::nn {

namespace detail {
template <class In, class Out>
struct ResidualShapes {
    static_assert(std::is_same_v<In, Out> || std::is_same_v<Out, AnyDims>,
                  "nn::Residual: f must keep the shape of its input (y = x + f(x)); see <In, Out> in "
                  "'ResidualShapes' above");
    static constexpr bool ok = true;
};
}  // namespace detail

/// Node of Residual: x is computed once into a buffer that f's expression reads as a leaf, so
/// x's subtree (a convolution, say) runs once although it is used twice; its gradient is the sum
/// of the identity path and f's path.
template <class E, class F>
class ResidualNode : public Boundary<ResidualNode<E, F>, typename E::value_type, E::rank, true> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// The number of dimensions of the input and the result.
    static constexpr std::size_t N = E::rank;

    /// x + f(x) for the input node `e` (moved in) and the layer `f` (referenced: it must outlive the expression).
    ResidualNode(E e, F& f) : e_(std::move(e)), x_(std::make_shared<Param<T, N>>()), sum_(make_sum(*x_, f)) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        in_ = e_.shape();
        Scratch<T> tmp;
        const T* x = e_.materialize(tmp);
        Tensor<T, N>& xv = x_->value();
        if (!same_shape(xv.shape(), in_)) xv.resize(in_);
        std::copy(x, x + shape_size(in_), xv.data());
        sum_.prepare();
        if (!same_shape(sum_.shape(), in_))
            throw std::invalid_argument("nn::Residual: f maps the input shape " + shape_string(in_) + " to " +
                                        shape_string(sum_.shape()) + "; y = x + f(x) needs the same shape");
        this->set_shape(in_);
        write_sum(this->out_.data());
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        x_->zero_grad();
        GradView<T, N> up(g, in_);
        sum_.backward(up);  // d x += g (identity) + f's input gradient; f's Params get theirs
        if constexpr (E::needs_grad) {
            GradView<T, N> dx(x_->grad().data(), in_);
            e_.backward(dx);
        }
    }

    /// The node as text: "residual(x)".
    std::string describe() const { return ctgrad::detail::describe_call("nn::Residual", e_); }

private:
    static auto make_sum(Param<T, N>& x, F& f) { return x + f(x); }
    void write_sum(T* out) {
        if constexpr (decltype(sum_)::is_boundary) std::copy(sum_.data(), sum_.data() + shape_size(in_), out);
        else region_assign(sum_, in_, out);
    }

    E e_;
    // Stable address (the node is moved while the graph is built). Shared by copies of the node:
    // each copy refills it in prepare() and uses its gradient only within its own backward_kernel().
    std::shared_ptr<Param<T, N>> x_;
    decltype(make_sum(std::declval<Param<T, N>&>(), std::declval<F&>())) sum_;
    Shape<N> in_{};
};

/// y = x + f(x). f is any layer (or nn::Sequential) whose output has its input's shape; with a
/// static input shape (nn::Sequential::output_dims) a shape change is a compile error.
template <class F>
class Residual {
public:
    /// Wraps the layer `f` (moved in).
    explicit Residual(F f) : f_(std::move(f)) {}

    /// The layer applied to an expression: a ResidualNode computing x + f(x).
    template <TensorLike E>
    auto operator()(E&& x) & {
        auto n = to_node<operand_value_t<E>>(std::forward<E>(x));
        return ResidualNode<decltype(n), F>(std::move(n), f_);
    }
    /// The wrapped layer's parameters.
    auto parameters() & { return f_.parameters(); }
    CTGRAD_LVALUE_LAYER_ONLY(Residual)

    /// Shape inference for Sequential: D itself (f must keep the shape, else a compile error).
    template <class D>
    static constexpr D infer(D) {
        using Out = decltype(F::infer(D{}));
        static_assert(detail::ResidualShapes<D, Out>::ok);
        return {};
    }
    /// Training or evaluation mode, passed on to the wrapped layer (if it has modes).
    void set_training(bool on) {
        if constexpr (requires { f_.set_training(on); }) f_.set_training(on);
        else if constexpr (requires { f_.train(); }) on ? f_.train() : f_.eval();
    }
    /// The wrapped layer.
    F& inner() { return f_; }

private:
    F f_;
};

/// Deduces the layer type from the constructor's argument.
template <class F>
Residual(F) -> Residual<F>;

}  // namespace ctgrad::nn
