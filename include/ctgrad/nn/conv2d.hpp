#pragma once
/// \file nn::Conv2d: 2-D convolution (cross-correlation) on NCHW images, with bias.
#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/init.hpp>

namespace ctgrad::nn {

/// Node of a Conv2d layer applied to E: writes the weight and bias gradients directly into the
/// layer's Params and passes d x on to E. A ReLU and a max pooling (window PoolK, stride PoolS)
/// applied to the node fold into it (relu() and nn::MaxPool2d call fuse_relu() / fuse_max_pool()):
/// they then run inside the convolution's per-image pass, and the convolution's own output and its
/// gradient are never stored for the whole batch.
template <class E, std::size_t InC, std::size_t OutC, std::size_t K, std::size_t S, std::size_t P, bool Relu = false,
          std::size_t PoolK = 0, std::size_t PoolS = 0>
class Conv2dNode
    : public Boundary<Conv2dNode<E, InC, OutC, K, S, P, Relu, PoolK, PoolS>, typename E::value_type, 4, true> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    /// The convolution of `e` with the layer's weight and bias (referenced: the layer must outlive the expression).
    Conv2dNode(E e, Param<T, 4>& w, Param<T, 1>& b) : e_(std::move(e)), w_(&w), b_(&b) {}

    /// This node followed by a ReLU (max(0, y); relu'(0) = 0). ReLU commutes with max pooling.
    auto fuse_relu() && { return Conv2dNode<E, InC, OutC, K, S, P, true, PoolK, PoolS>(std::move(e_), *w_, *b_); }
    /// This node followed by max pooling over Kp x Kp windows moved by Sp.
    template <std::size_t Kp, std::size_t Sp>
        requires(PoolK == 0)
    auto fuse_max_pool() && {
        return Conv2dNode<E, InC, OutC, K, S, P, Relu, Kp, Sp>(std::move(e_), *w_, *b_);
    }

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        if (w_->grad().shape() != w_->value().shape()) w_->zero_grad();
        if (b_->grad().shape() != b_->value().shape()) b_->zero_grad();
        const auto in = e_.shape();
        if (in[1] != InC || in[2] + 2 * P < K || in[3] + 2 * P < K)
            throw std::invalid_argument(name() + ": the input shape " + shape_string(in) + " does not fit: expected " +
                                        std::to_string(InC) + " channels and images of at least " +
                                        std::to_string(K > 2 * P ? K - 2 * P : 1) + " pixels a side");
        geo_ = {in[0], InC, in[2], in[3], OutC, K, S, P};
        if (geo_.out_h() < PoolK || geo_.out_w() < PoolK)
            throw std::invalid_argument("nn::MaxPool2d<" + std::to_string(PoolK) + ", " + std::to_string(PoolS) +
                                        ">: the input shape " +
                                        shape_string(Shape<4>{in[0], OutC, geo_.out_h(), geo_.out_w()}) +
                                        " is smaller than the window");
        in_ = in;
        this->set_shape({in[0], OutC, epilogue.out_h(geo_.out_h()), epilogue.out_w(geo_.out_w())});
        if constexpr (PoolK != 0) argmax_.resize(shape_size(this->shape_));
        x_ = e_.materialize(xbuf_);
        kernels::conv2d_forward(geo_, x_, w_->value().data(), b_->value().data(), this->out_.data(), epilogue,
                                argmax_.data());
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        const T* y = this->out_.data();
        kernels::conv2d_backward_weights(geo_, x_, g, w_->grad().data(), b_->grad().data(), epilogue, y,
                                         argmax_.data());
        if constexpr (E::needs_grad) {
            dx_.resize(shape_size(in_));
            kernels::conv2d_backward_input(geo_, g, w_->value().data(), dx_.data(), epilogue, y, argmax_.data());
            GradView<T, 4> up(dx_.data(), in_);
            e_.backward(up);
        }
    }
    /// The node's name in error messages.
    static std::string name() {
        return "nn::Conv2d<" + std::to_string(InC) + ", " + std::to_string(OutC) + ", " + std::to_string(K) + ", " +
               std::to_string(S) + ", " + std::to_string(P) + ">";
    }

private:
    static constexpr kernels::Conv2dEpilogue epilogue{.relu = Relu, .pool = PoolK, .pool_stride = PoolS};
    E e_;
    Param<T, 4>* w_;
    Param<T, 1>* b_;
    kernels::Conv2dShape geo_{};
    Shape<4> in_{};
    const T* x_ = nullptr;
    Scratch<T> xbuf_, dx_;
    Scratch<std::uint32_t> argmax_;
};

/// 2-D convolution layer: InChannels -> OutChannels with a Kernel x Kernel window, Stride and
/// zero Padding; weight (OutC, InC, K, K) Xavier-uniform (as d2l initialises LeNet), bias zero.
template <std::size_t InChannels, std::size_t OutChannels, std::size_t Kernel, std::size_t Stride = 1,
          std::size_t Padding = 0, class T = float>
class Conv2d {
    static_assert(InChannels > 0 && OutChannels > 0 && Kernel > 0 && Stride > 0,
                  "nn::Conv2d: channels, kernel and stride must be positive");

public:
    /// Input channels.
    static constexpr std::size_t in_channels = InChannels;
    /// Output channels.
    static constexpr std::size_t out_channels = OutChannels;

    Conv2d()
        : weight(Tensor<T, 4>::from_shape({OutChannels, InChannels, Kernel, Kernel})),
          bias(Tensor<T, 1>(xt::zeros<T>({OutChannels}))) {
        init::xavier_uniform(weight.value(), InChannels * Kernel * Kernel, OutChannels * Kernel * Kernel);
    }

    /// Convolution of an NCHW expression, Param or Tensor.
    template <TensorLike E>
    auto operator()(E&& x) {
        static_assert(std::is_same_v<operand_value_t<E>, T>, "nn::Conv2d: the input's scalar type differs from the layer's");
        auto n = to_node<T>(std::forward<E>(x));
        static_assert(decltype(n)::rank == 4, "nn::Conv2d needs a rank-4 NCHW input");
        return Conv2dNode<decltype(n), InChannels, OutChannels, Kernel, Stride, Padding>(std::move(n), weight, bias);
    }
    /// The trainable parameters: pointers to weight and bias.
    auto parameters() { return boost::hana::make_tuple(&weight, &bias); }

    /// Shape inference for Sequential: the output dims for input dims D (a mismatch fails to compile, naming the numbers).
    template <class D>
    static constexpr auto infer(D) {
        if constexpr (std::is_same_v<D, AnyDims>) {
            return Dims<OutChannels, 0, 0>{};
        } else {
            static_assert(detail::NeedsImages<D::rank>::ok);
            return infer_images(D{});
        }
    }

    Param<T, 4> weight;  ///< (OutC, InC, K, K)
    Param<T, 1> bias;    ///< (OutC)

private:
    static constexpr std::size_t out_size(std::size_t n) { return n == 0 ? 0 : (n + 2 * Padding - Kernel) / Stride + 1; }
    template <std::size_t C, std::size_t H, std::size_t W>
    static constexpr auto infer_images(Dims<C, H, W>) {
        if constexpr (C != 0) static_assert(detail::Conv2dInChannels<InChannels, C>::ok);
        static_assert(detail::KernelFits<(H == 0 ? 0 : H + 2 * Padding), Kernel>::ok &&
                      detail::KernelFits<(W == 0 ? 0 : W + 2 * Padding), Kernel>::ok);
        return Dims<OutChannels, out_size(H), out_size(W)>{};
    }
};

}  // namespace ctgrad::nn
