#pragma once
/// \file nn::Dropout: inverted dropout, fused into the surrounding elementwise region.
#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/elementwise.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/nn/layer.hpp>
#include <ctgrad/parallel/thread_pool.hpp>

namespace ctgrad::nn {

class Dropout;

/// Node of Dropout: x * mask, where the mask (0 or 1/(1-p) per element) is drawn when the
/// graph is evaluated, from the layer's generator; an identity when the layer is not training.
template <class E>
class DropoutNode : public ctgrad::detail::ElementwiseBase<DropoutNode<E>, typename E::value_type, E::rank> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// Node protocol: true if a Param is below this node, so the reverse pass visits it.
    static constexpr bool needs_grad = E::needs_grad;
    /// Node protocol: one cursor of its own, over the mask.
    static constexpr std::size_t own_cursors = 1;  // the mask
    /// Node protocol: the std::tuple of its fused operand node types (the region's cursor count is derived from these).
    using operands = std::tuple<E>;

    /// Dropout of `e` with the masks of `layer` (referenced: the layer must outlive the expression).
    DropoutNode(E e, Dropout& layer) : e_(std::move(e)), layer_(&layer) {}
    /// Node protocol: draws this evaluation's mask (in training mode) and prepares the operand.
    void prepare();
    /// The result's shape (valid after prepare()).
    auto shape() const { return e_.shape(); }
    /// Node protocol: collects the operand's cursors, then binds the mask cursor and pushes it into sink.
    void collect(CursorSink<T>& sink) {
        e_.collect(sink);
        if (mask_.size()) mask_cur_.bind(mask_.data(), e_.shape());
        else mask_cur_.bind(&one_, Shape<0>{});  // identity: a broadcast 1
        sink.push(mask_cur_);
    }
    /// Node protocol: the value at flat index j as a scalar or SIMD batch V, with what bwd() needs (the tape).
    template <class V>
    CTGRAD_INLINE auto fwd(std::size_t j) const {
        auto c = e_.template fwd<V>(j);
        const V m = mask_cur_.template load<V>(j);
        return Tape<V, decltype(c)>{c.v * m, c, m};
    }
    /// Node protocol: pushes the adjoint g of element j to the operands' gradients (t: what fwd() returned).
    template <class V, class Tp>
    CTGRAD_INLINE void bwd(const Tp& t, const V& g, std::size_t j) {
        if constexpr (E::needs_grad) e_.template bwd<V>(t.c, operand_adjoint(t, g), j);
    }
    /// The adjoint bwd() passes to the operand: g times the mask.
    template <class V, class Tp>
    static CTGRAD_INLINE V operand_adjoint(const Tp& t, const V& g) { return g * t.m; }
    /// Node protocol: calls f on each boundary node of this region (the reverse pass continues from them).
    template <class F>
    void for_each_boundary(F&& f) { e_.for_each_boundary(f); }
    /// The operand node.
    const E& operand() const { return e_; }
    /// The node as text: "dropout(x)".
    std::string describe() const { return ctgrad::detail::describe_call("nn::Dropout", e_); }

private:
    /// What fwd() keeps for bwd(): the value, the operand's tape and the mask.
    template <class V, class CT>
    struct Tape {
        V v;
        CT c;
        V m;
    };
    E e_;
    Dropout* layer_;
    Scratch<T> mask_;
    Cursor<T> mask_cur_;
    T one_ = T(1);
};

/// Inverted dropout: in training, each element is zeroed with probability p and the survivors
/// are scaled by 1/(1-p); p = 0 is the identity, p = 1 gives zeros. In evaluation mode (after
/// eval()) it is the identity. A new mask is drawn at every evaluation of the graph, from a
/// generator seeded by seed() (deterministic: same seed, same masks).
class Dropout {
public:
    /// Drops each element with probability `p`; `seed` starts the mask generator.
    explicit Dropout(double p = 0.5, std::uint64_t seed = 0x5eed) {
        set_p(p);
        this->seed(seed);
    }
    /// The layer applied to an expression: a fused elementwise dropout node.
    template <TensorLike E>
    auto operator()(E&& x) & {
        auto n = to_node<operand_value_t<E>>(std::forward<E>(x));
        return DropoutNode<decltype(n)>(std::move(n), *this);
    }
    /// No trainable parameters: an empty tuple.
    auto parameters() & { return boost::hana::make_tuple(); }
    CTGRAD_LVALUE_LAYER_ONLY(Dropout)
    /// Shape inference for Sequential: the output dims for input dims D, which are D (Dropout keeps the shape).
    template <class D>
    static constexpr D infer(D) { return {}; }

    /// Training mode (masks drawn) or evaluation mode (identity); Sequential's train()/eval() call it.
    void set_training(bool on) { training_ = on; }
    /// True in training mode.
    bool training() const { return training_; }
    /// The drop probability.
    double p() const { return p_; }
    /// Sets the drop probability; throws std::invalid_argument unless 0 <= p <= 1.
    void set_p(double p) {
        if (!(p >= 0.0 && p <= 1.0))
            throw std::invalid_argument("nn::Dropout: the probability must lie in [0, 1], got " + std::to_string(p));
        p_ = p;
    }
    /// Restarts the mask generator from `s` (same seed, same masks).
    void seed(std::uint64_t s) { state_ = s; }
    /// The generator's current state (for checkpoints): seed(state()) later continues the same masks.
    std::uint64_t state() const noexcept { return state_; }

    /// Fills `mask` with 0 or 1/(1-p); false (mask untouched) when dropout is inactive.
    template <class T>
    bool draw(T* mask, std::size_t n) {
        if (!training_ || p_ == 0.0) return false;
        if (p_ == 1.0) {
            std::fill(mask, mask + n, T(0));
            return true;
        }
        // splitmix64: fast, and 32 bits per draw are plenty for a keep/drop decision. Its state
        // after i draws is state_ + i * gamma, so draw i needs no earlier one: the loop vectorizes,
        // and chunks of it run on the thread pool with the same masks for any thread count (the
        // draws were a quarter of what ran serially in a 2-thread MLP step).
        constexpr std::uint64_t gamma = 0x9e3779b97f4a7c15ull;
        constexpr std::size_t chunk = std::size_t(1) << 14;
        const std::uint64_t threshold = std::uint64_t(p_ * 4294967296.0);
        const T keep = T(1.0 / (1.0 - p_));
        const std::uint64_t s0 = state_;
        parallel::for_each_chunk((n + chunk - 1) / chunk, [&](std::size_t c) {
            const std::size_t end = std::min(n, (c + 1) * chunk);
            for (std::size_t i = c * chunk; i < end; ++i) {
                std::uint64_t z = s0 + std::uint64_t(i + 1) * gamma;
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                z ^= z >> 31;
                mask[i] = keep * T((z >> 32) >= threshold);  // no branch: the outcome is a coin flip
            }
        });
        state_ = s0 + std::uint64_t(n) * gamma;
        return true;
    }

private:
    double p_ = 0.5;
    std::uint64_t state_ = 0;
    bool training_ = true;
};

template <class E>
void DropoutNode<E>::prepare() {
    e_.prepare();
    const std::size_t n = shape_size(e_.shape());
    mask_.resize(n);
    if (!layer_->draw(mask_.data(), n)) mask_ = Scratch<T>();  // inactive: no mask
}

/// The from-scratch form (d2l's dropout_layer): x * mask with a given mask, as a plain expression.
template <TensorLike E, TensorLike M>
auto dropout(E&& x, M&& mask) {
    return std::forward<E>(x) * std::forward<M>(mask);
}

}  // namespace ctgrad::nn
