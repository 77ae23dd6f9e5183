#pragma once
/// \file nn::MaxPool2d: max pooling over Kernel x Kernel windows of NCHW images.
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/fuse.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/kernels/maxpool2d.hpp>
#include <ctgrad/nn/dims.hpp>

namespace ctgrad::nn {

/// Node of max pooling; keeps the arg-max of each window to route the gradient. On ties the
/// first maximum in row-major window order receives the whole gradient (as PyTorch).
template <class E, std::size_t K, std::size_t S>
class MaxPool2dNode : public Boundary<MaxPool2dNode<E, K, S>, typename E::value_type, 4, E::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// Max pooling of `e`.
    explicit MaxPool2dNode(E e) : e_(std::move(e)) {}

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        const auto in = e_.shape();
        if (in[2] < K || in[3] < K)
            throw std::invalid_argument("nn::MaxPool2d<" + std::to_string(K) + ", " + std::to_string(S) +
                                        ">: the input shape " + shape_string(in) + " is smaller than the window");
        in_ = in;
        geo_ = {in[0], in[1], in[2], in[3], K, S};
        this->set_shape({in[0], in[1], geo_.out_h(), geo_.out_w()});
        argmax_.resize(shape_size(this->shape_));
        kernels::maxpool2d_forward(geo_, e_.materialize(xbuf_), this->out_.data(), argmax_.data());
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        if constexpr (E::needs_grad) {
            dx_.resize(shape_size(in_));
            kernels::maxpool2d_backward(geo_, g, argmax_.data(), dx_.data());
            GradView<T, 4> up(dx_.data(), in_);
            e_.backward(up);
        }
    }

    /// The node as text: "nn::MaxPool2d<K, S>(x)".
    std::string describe() const {
        return ctgrad::detail::describe_call("nn::MaxPool2d<" + std::to_string(K) + ", " + std::to_string(S) + ">", e_);
    }

private:
    E e_;
    kernels::Pool2dShape geo_{};
    Shape<4> in_{};
    Scratch<T> xbuf_, dx_;
    Scratch<std::uint32_t> argmax_;
};

/// Max pooling layer (no padding); Stride defaults to the window size.
template <std::size_t Kernel, std::size_t Stride = Kernel>
class MaxPool2d {
    static_assert(Kernel > 0 && Stride > 0, "nn::MaxPool2d: kernel and stride must be positive");

public:
    /// The layer applied to an expression.
    template <TensorLike E>
    auto operator()(E&& x) {
        auto n = to_node<operand_value_t<E>>(std::forward<E>(x));
        static_assert(decltype(n)::rank == 4, "nn::MaxPool2d needs a rank-4 NCHW input");
        // A producer that can pool in its own per-image pass (nn::Conv2d) takes the pooling over.
        return fuse(std::move(n), ops::Pool<ops::Max, Kernel, Stride>{});
    }
    /// No trainable parameters: an empty tuple.
    auto parameters() { return boost::hana::make_tuple(); }

    /// Shape inference for Sequential: the output dims for input dims D (a mismatch fails to compile, naming the numbers).
    template <class D>
    static constexpr auto infer(D) {
        if constexpr (std::is_same_v<D, AnyDims>) {
            return AnyDims{};
        } else {
            static_assert(detail::NeedsImages<D::rank>::ok);
            return infer_images(D{});
        }
    }

private:
    static constexpr std::size_t out_size(std::size_t n) { return n == 0 ? 0 : (n - Kernel) / Stride + 1; }
    template <std::size_t C, std::size_t H, std::size_t W>
    static constexpr auto infer_images(Dims<C, H, W>) {
        static_assert(detail::KernelFits<H, Kernel>::ok && detail::KernelFits<W, Kernel>::ok);
        return Dims<C, out_size(H), out_size(W)>{};
    }
};

}  // namespace ctgrad::nn

namespace ctgrad {
/// Max pooling that its producer does not fuse: an nn::MaxPool2dNode.
template <std::size_t K, std::size_t S>
struct Unfused<ops::Pool<ops::Max, K, S>> {
    /// Max pooling of `producer`, as an nn::MaxPool2dNode.
    template <class P>
    static auto apply(P&& producer) {
        using N = std::remove_cvref_t<P>;
        return nn::MaxPool2dNode<N, K, S>(N(std::forward<P>(producer)));
    }
};
}  // namespace ctgrad
