#pragma once
/// \file matmul(a, b): the rank-2 matrix product, a boundary op with a hand-written backward
/// (dA = G Bᵀ, dB = Aᵀ G), accumulated straight into a Param's gradient when the operand is one.
#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/kernels/gemm.hpp>

namespace ctgrad {

namespace detail {
/// Instantiated with the operands' ranks; the static_assert names them in the error context.
template <std::size_t LhsRank, std::size_t RhsRank>
struct MatmulRanks {
    static_assert(LhsRank == 2 && RhsRank == 2,
                  "ctgrad::matmul(a, b) needs two rank-2 operands; the ranks given are the <lhs, rhs> "
                  "arguments of 'MatmulRanks' above");
    static constexpr bool ok = true;
};
}  // namespace detail

/// Node of matmul(a, b).
template <class A, class B>
class Matmul : public Boundary<Matmul<A, B>, typename A::value_type, 2, A::needs_grad || B::needs_grad> {
    static_assert(detail::MatmulRanks<A::rank, B::rank>::ok);

public:
    /// The scalar type.
    using T = typename A::value_type;
    /// Takes the operands by value (moved in).
    Matmul(A&& a, B&& b) : a_(std::move(a)), b_(std::move(b)) {}  // see Unary
    /// Copies the operands.
    Matmul(const A& a, const B& b) : a_(a), b_(b) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        a_.prepare();
        b_.prepare();
        const auto sa = a_.shape();
        const auto sb = b_.shape();
        if (sa[1] != sb[0])
            throw std::invalid_argument("matmul: inner dimensions differ: " + shape_string(sa) + " @ " +
                                        shape_string(sb));
        m_ = sa[0];
        k_ = sa[1];
        n_ = sb[1];
        this->set_shape({m_, n_});
        pa_ = a_.materialize(abuf_);
        pb_ = b_.materialize(bbuf_);
        kernels::gemm(false, false, m_, n_, k_, T(1), pa_, k_, pb_, n_, T(0), this->out_.data(), n_);
    }

    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        if constexpr (A::needs_grad) {  // dA = G Bᵀ  (m x k)
            if (T* acc = a_.grad_target()) {
                kernels::gemm(false, true, m_, k_, n_, T(1), g, n_, pb_, n_, T(1), acc, k_);
                if (anomaly_detection_enabled()) [[unlikely]] detail::check_written_gradient(*this, a_, acc, Shape<2>{m_, k_});
            } else {
                dbuf_.resize(m_ * k_);
                kernels::gemm(false, true, m_, k_, n_, T(1), g, n_, pb_, n_, T(0), dbuf_.data(), k_);
                GradView<T, 2> up(dbuf_.data(), {m_, k_});
                a_.backward(up);
            }
        }
        if constexpr (B::needs_grad) {  // dB = Aᵀ G  (k x n)
            if (T* acc = b_.grad_target()) {
                kernels::gemm(true, false, k_, n_, m_, T(1), pa_, k_, g, n_, T(1), acc, n_);
                if (anomaly_detection_enabled()) [[unlikely]] detail::check_written_gradient(*this, b_, acc, Shape<2>{k_, n_});
            } else {
                dbuf_.resize(k_ * n_);
                kernels::gemm(true, false, k_, n_, m_, T(1), pa_, k_, g, n_, T(0), dbuf_.data(), n_);
                GradView<T, 2> up(dbuf_.data(), {k_, n_});
                b_.backward(up);
            }
        }
    }

    /// The node as text: "matmul(a, b)".
    std::string describe() const { return detail::describe_call("matmul", a_, b_); }

private:
    A a_;
    B b_;
    Scratch<T> abuf_, bbuf_, dbuf_;
    const T* pa_ = nullptr;
    const T* pb_ = nullptr;
    std::size_t m_ = 0, k_ = 0, n_ = 0;
};

/// Matrix product of two rank-2 operands (nodes, Params or Tensors).
template <TensorLike A, TensorLike B>
auto matmul(A&& a, B&& b) {
    using T = typename detail::common_value<A, B>::type;
    return Matmul<node_t<A>, node_t<B>>(node_arg<T>(std::forward<A>(a)), node_arg<T>(std::forward<B>(b)));
}

}  // namespace ctgrad
