#pragma once
/// \file Losses: nn::cross_entropy (softmax cross-entropy from integer labels) and nn::mse.
#include <algorithm>
#include <cmath>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/functions.hpp>
#include <ctgrad/expr/reduce.hpp>

namespace ctgrad::nn {

/// Node of cross_entropy: mean over the batch of log-sum-exp(logits) - logits[label], computed
/// with the row maximum subtracted so that extreme logits stay finite. Its backward writes
/// (softmax - one_hot) / batch in one pass over the logits.
template <class E, class I, bool OwnLabels>
class CrossEntropyNode : public Boundary<CrossEntropyNode<E, I, OwnLabels>, typename E::value_type, 0, E::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// The labels' tensor type.
    using Labels = Tensor<I, 1>;
    /// The loss of logits `e` against `labels` (owned if OwnLabels, else referenced).
    CrossEntropyNode(E e, std::conditional_t<OwnLabels, Labels, const Labels*> labels)
        : e_(std::move(e)), labels_(std::move(labels)) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        s_ = e_.shape();
        const Labels& y = labels();
        if (y.size() != s_[0])
            throw std::invalid_argument("nn::cross_entropy: " + std::to_string(y.size()) + " labels for logits of shape " +
                                        shape_string(s_));
        const std::size_t n = s_[0], c = s_[1];
        x_ = e_.materialize(xbuf_);
        lse_.resize(n);
        double total = 0;
        correct_ = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto label = y(i);
            if (label < 0 || std::size_t(label) >= c)
                throw std::invalid_argument("nn::cross_entropy: label " + std::to_string(label) + " at index " +
                                            std::to_string(i) + " is not a class index in [0, " + std::to_string(c) + ")");
            const T* row = x_ + i * c;
            const T* top = std::max_element(row, row + c);  // the first maximum, as d2l's argmax
            const T m = *top;
            correct_ += std::size_t(top - row) == std::size_t(label);
            T s = 0;
            for (std::size_t j = 0; j < c; ++j) s += std::exp(row[j] - m);
            lse_.data()[i] = m + std::log(s);
            total += double(lse_.data()[i] - row[label]);
        }
        this->set_shape({});
        this->out_.data()[0] = n ? T(total / double(n)) : std::numeric_limits<T>::quiet_NaN();
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        if constexpr (E::needs_grad) {
            const std::size_t n = s_[0], c = s_[1];
            dx_.resize(n * c);
            const T scale = g[0] / T(n);
            const Labels& y = labels();
            for (std::size_t i = 0; i < n; ++i) {
                const T* row = x_ + i * c;
                T* d = dx_.data() + i * c;
                for (std::size_t j = 0; j < c; ++j) d[j] = std::exp(row[j] - lse_.data()[i]) * scale;
                d[std::size_t(y(i))] -= scale;
            }
            GradView<T, 2> up(dx_.data(), s_);
            e_.backward(up);
        }
    }

    /// After evaluation: how many rows have their largest logit at the label (d2l's accuracy
    /// numerator), found in the same pass as the loss.
    std::size_t correct() const { return correct_; }
    /// The node as text: "cross_entropy(logits, labels)".
    std::string describe() const { return "cross_entropy(" + ctgrad::describe(e_) + ", labels)"; }

private:
    const Labels& labels() const {
        if constexpr (OwnLabels) return labels_; else return *labels_;
    }
    E e_;
    std::conditional_t<OwnLabels, Labels, const Labels*> labels_;
    Shape<2> s_{};
    const T* x_ = nullptr;
    Scratch<T> xbuf_, lse_, dx_;
    std::size_t correct_ = 0;
};

/// Mean softmax cross-entropy of (batch, classes) logits against integer class labels
/// (a Tensor<I, 1> of any integer type; held by reference if an lvalue, moved in otherwise).
template <TensorLike E, class L>
    requires std::is_integral_v<typename std::remove_cvref_t<L>::value_type>
auto cross_entropy(E&& logits, L&& labels) {
    using I = typename std::remove_cvref_t<L>::value_type;
    auto n = to_node<operand_value_t<E>>(std::forward<E>(logits));
    static_assert(decltype(n)::rank == 2, "nn::cross_entropy needs (batch, classes) logits");
    if constexpr (std::is_lvalue_reference_v<L>)
        return CrossEntropyNode<decltype(n), I, false>(std::move(n), &labels);
    else
        return CrossEntropyNode<decltype(n), I, true>(std::move(n), Tensor<I, 1>(std::move(labels)));
}

/// Mean squared error, mean((pred - target)²) (as PyTorch's MSELoss; d2l's squared_loss is half of it).
template <class P, class Q>
    requires BinaryOperands<P, Q> || (TensorLike<P> && TensorLike<Q>)
auto mse(P&& pred, Q&& target) {
    using T = typename ctgrad::detail::common_value<P, Q>::type;
    return mean(square(to_node<T>(std::forward<P>(pred)) - to_node<T>(std::forward<Q>(target))));
}

}  // namespace ctgrad::nn
