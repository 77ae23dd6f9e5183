#pragma once
/// \file Boundary ops written by their author as three functions: a shape rule, forward and
/// backward. apply_op(op, x...) turns such an op into a graph node; the library supplies the
/// rest (evaluating the operands into memory, the result and gradient buffers, the cursors by
/// which the node is read by the elementwise region around it, routing the gradients back to
/// the operands, and skipping operands that need none).
///
/// Contract of an op (concept BoundaryOp; see nn::AvgPool2d for a complete one):
///
///   auto shape(const Shape<R1>& x1, ..., const Shape<Rk>& xk) const -> Shape<M>;
///       The output shape for the operand shapes; throws std::invalid_argument (naming the op and
///       the shapes) for operands it cannot take. Called once per evaluation, before forward.
///
///   template <class T> void forward(TensorView<T, M> y, TensorView<const T, R1> x1, ...);
///       Writes every element of y (contiguous, row-major, of the shape above) from the operands'
///       values. May keep state in the op (e.g. arg-max indices) for backward: the op object is
///       owned by its node, one per node.
///
///   template <class T> void backward(TensorView<const T, M> gy, TensorView<const T, M> y,
///                                    TensorView<T, R1> gx1, ..., TensorView<const T, R1> x1, ...);
///       Given gy = d loss / d y, writes every element of each gx_i = d loss / d x_i (overwrite,
///       do not accumulate). A gx_i whose data() is null is not wanted (that operand is a
///       constant): skip it. Called at most once per evaluation, after forward.
///
/// T is float or double; write forward and backward once for both.
#include <array>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/operand.hpp>

namespace ctgrad {

/// A contiguous row-major tensor in memory that the view does not own: data() and shape(), and
/// element access by index. T may be const (an input) or not (an output).
template <class T, std::size_t N>
class TensorView {
public:
    /// Views `data` (not owned) as a tensor of shape `shape`.
    TensorView(T* data, const Shape<N>& shape) noexcept : data_(data), shape_(shape) {}
    /// The first element.
    T* data() const noexcept { return data_; }
    /// The shape.
    const Shape<N>& shape() const noexcept { return shape_; }
    /// The extent of dimension `d`.
    std::size_t shape(std::size_t d) const noexcept { return shape_[d]; }
    /// The number of elements.
    std::size_t size() const noexcept { return shape_size(shape_); }
    /// Element (i0, ..., i{N-1}).
    template <std::integral... I>
        requires(sizeof...(I) == N)
    T& operator()(I... i) const noexcept {
        std::size_t off = 0, d = 0;
        ((off = off * shape_[d++] + std::size_t(i)), ...);
        return data_[off];
    }

private:
    T* data_;
    Shape<N> shape_;
};

namespace detail {
template <class Op, class... E>
using op_shape_t = decltype(std::declval<const Op&>().shape(std::declval<const Shape<E::rank>&>()...));
template <class S>
struct shape_rank;
template <std::size_t M>
struct shape_rank<Shape<M>> : std::integral_constant<std::size_t, M> {};
}  // namespace detail

/// Op is a boundary op (see the file comment) for operand nodes E... of scalar type T.
template <class Op, class T, class... E>
concept BoundaryOp =
    std::copy_constructible<Op> && requires { typename detail::shape_rank<detail::op_shape_t<Op, E...>>; } &&
    requires(Op& op, TensorView<T, detail::shape_rank<detail::op_shape_t<Op, E...>>::value> y,
             TensorView<const T, detail::shape_rank<detail::op_shape_t<Op, E...>>::value> cy,
             TensorView<const T, E::rank>... x, TensorView<T, E::rank>... gx) {
        op.forward(y, x...);
        op.backward(cy, cy, gx..., x...);
    };

/// The node of a boundary op applied to operand nodes E... (built by apply_op).
template <class Op, class... E>
class OpNode : public Boundary<OpNode<Op, E...>, std::common_type_t<typename E::value_type...>,
                               detail::shape_rank<detail::op_shape_t<Op, E...>>::value, (E::needs_grad || ...)> {
public:
    /// The scalar type.
    using T = std::common_type_t<typename E::value_type...>;
    /// The number of dimensions of the result (the rank of the op's shape()).
    static constexpr std::size_t M = detail::shape_rank<detail::op_shape_t<Op, E...>>::value;
    static_assert((std::is_same_v<typename E::value_type, T> && ...), "ctgrad::apply_op: the operands' scalar types differ");
    static_assert(BoundaryOp<Op, T, E...>,
                  "ctgrad::apply_op: the op lacks forward(TensorView<T, M> y, TensorView<const T, R>... x) or "
                  "backward(TensorView<const T, M> gy, TensorView<const T, M> y, TensorView<T, R>... gx, "
                  "TensorView<const T, R>... x) (see ctgrad/expr/op.hpp)");

    /// Applies `op` to the operand nodes `e`... (both moved in).
    explicit OpNode(Op op, E&&... e) : op_(std::move(op)), e_(std::move(e)...) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        std::apply([](auto&... e) { (e.prepare(), ...); }, e_);
        in_ = std::apply([](auto&... e) { return std::tuple<Shape<E::rank>...>(e.shape()...); }, e_);
        this->set_shape(std::apply([&](const auto&... s) { return op_.shape(s...); }, in_));
        materialize_all(std::index_sequence_for<E...>{});
        call_forward(std::index_sequence_for<E...>{});
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) { call_backward(g, std::index_sequence_for<E...>{}); }
    /// The op object (its state after forward, e.g. for inspection in tests).
    const Op& op() const { return op_; }
    /// The node as text: "name(x1, ...)", with the op's name (see op_name()).
    std::string describe() const {
        return std::apply([](const auto&... e) { return detail::describe_call(op_name<Op>(), e...); }, e_);
    }

private:
    template <std::size_t... I>
    void materialize_all(std::index_sequence<I...>) {
        ((x_[I] = std::get<I>(e_).materialize(xbuf_[I])), ...);
    }
    template <std::size_t... I>
    void call_forward(std::index_sequence<I...>) {
        op_.forward(TensorView<T, M>(this->out_.data(), this->shape_),
                    TensorView<const T, E::rank>(x_[I], std::get<I>(in_))...);
    }
    template <std::size_t... I>
    void call_backward(const T* g, std::index_sequence<I...>) {
        ((E::needs_grad ? dx_[I].resize(shape_size(std::get<I>(in_))) : void()), ...);
        op_.backward(TensorView<const T, M>(g, this->shape_), TensorView<const T, M>(this->out_.data(), this->shape_),
                     TensorView<T, E::rank>(E::needs_grad ? dx_[I].data() : nullptr, std::get<I>(in_))...,
                     TensorView<const T, E::rank>(x_[I], std::get<I>(in_))...);
        (propagate<I>(), ...);
    }
    template <std::size_t I>
    void propagate() {
        using EI = std::tuple_element_t<I, std::tuple<E...>>;
        if constexpr (EI::needs_grad) {
            GradView<T, EI::rank> up(dx_[I].data(), std::get<I>(in_));
            std::get<I>(e_).backward(up);
        }
    }

    Op op_;
    std::tuple<E...> e_;
    std::tuple<Shape<E::rank>...> in_{};
    std::array<const T*, sizeof...(E)> x_{};
    std::array<Scratch<T>, sizeof...(E)> xbuf_, dx_;
};

/// The node of boundary op `op` (see the file comment) applied to operands x...: expressions,
/// Params or Tensors. Nothing is computed until eval() or backward().
template <class Op, TensorLike... X>
    requires(sizeof...(X) > 0)
auto apply_op(Op op, X&&... x) {
    using T = std::common_type_t<operand_value_t<X>...>;
    return OpNode<Op, node_t<X>...>(std::move(op), to_node<T>(std::forward<X>(x))...);
}

}  // namespace ctgrad
