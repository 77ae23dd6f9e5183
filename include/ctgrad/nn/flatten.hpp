#pragma once
/// \file nn::Flatten: (N, d1, d2, ...) -> (N, d1*d2*...), a view without a copy when the operand
/// is already in memory.
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/nn/dims.hpp>

namespace ctgrad::nn {

/// Node of Flatten: presents its operand's memory under a rank-2 shape.
template <class E>
class FlattenNode : public Boundary<FlattenNode<E>, typename E::value_type, 2, E::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// Flattens every dimension of `e` after the first.
    explicit FlattenNode(E e) : e_(std::move(e)) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        in_ = e_.shape();
        std::size_t rest = 1;
        for (std::size_t i = 1; i < E::rank; ++i) rest *= in_[i];
        this->set_shape({in_[0], rest}, /*allocate=*/false);
        p_ = e_.materialize(buf_);
    }
    /// The result is the operand's buffer, reshaped (a view: nothing is copied).
    const T* value_ptr() const { return p_; }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        if constexpr (E::needs_grad) {
            GradView<T, E::rank> up(g, in_);  // same memory order, the operand's shape
            e_.backward(up);
        }
    }

    /// The node as text: "flatten(x)".
    std::string describe() const { return ctgrad::detail::describe_call("flatten", e_); }

private:
    E e_;
    Shape<E::rank> in_{};
    const T* p_ = nullptr;
    Scratch<T> buf_;
};

/// Flattens every dimension after the first (the batch).
struct Flatten {
    /// The layer applied to an expression.
    template <TensorLike E>
    auto operator()(E&& x) {
        auto n = to_node<operand_value_t<E>>(std::forward<E>(x));
        static_assert(decltype(n)::rank >= 1, "nn::Flatten needs an input with a batch dimension");
        return FlattenNode<decltype(n)>(std::move(n));
    }
    /// No trainable parameters: an empty tuple.
    auto parameters() { return boost::hana::make_tuple(); }

    /// Shape inference for Sequential: the output dims for input dims D (a mismatch fails to compile, naming the numbers).
    template <class D>
    static constexpr auto infer(D) {
        if constexpr (std::is_same_v<D, AnyDims>) return AnyDims{};
        else return flat(D{});
    }

private:
    template <std::size_t... D>
    static constexpr auto flat(Dims<D...>) {
        if constexpr (((D == 0) || ...)) return AnyDims{};
        else return Dims<(D * ... * 1)>{};
    }
};

}  // namespace ctgrad::nn
