#pragma once
/// \file nn::Conv2d: 2-D convolution (cross-correlation) on NCHW images, with bias; and
/// nn::conv2d(x, w, b), the same on any operands (a constant(w) freezes the weights).
#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/boundary.hpp>
#include <ctgrad/expr/elementwise.hpp>
#include <ctgrad/expr/fuse.hpp>
#include <ctgrad/expr/operand.hpp>
#include <ctgrad/kernels/conv2d.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/init.hpp>
#include <ctgrad/nn/layer.hpp>

namespace ctgrad::nn {

namespace detail {
template <class C>
inline constexpr bool is_pool_v = false;
template <class Kind, std::size_t K, std::size_t S>
inline constexpr bool is_pool_v<ops::Pool<Kind, K, S>> = true;
template <class C>
inline constexpr bool is_avg_pool_v = false;
template <std::size_t K, std::size_t S>
inline constexpr bool is_avg_pool_v<ops::Pool<ops::Avg, K, S>> = true;
}  // namespace detail

/// Node of a convolution of E with weights W (OutC, InC, K, K) and bias B (OutC): three operands
/// like any other node's, so a Param weight receives its gradient as a graph leaf and a constant
/// one receives none. Epi... are fuse() consumers folded into the convolution's per-image pass
/// (ops::Relu, ops::Pool<Max|Avg, K, S>, as the kernel's Conv2dEpilogue supports them): the
/// convolution's own output and its gradient are then never stored for the whole batch.
template <class E, class W, class B, std::size_t S, std::size_t P, class... Epi>
class Conv2dNode : public Boundary<Conv2dNode<E, W, B, S, P, Epi...>, typename E::value_type, 4,
                                   E::needs_grad || W::needs_grad || B::needs_grad> {
public:
    /// The scalar type.
    using T = typename E::value_type;
    static_assert(E::rank == 4 && W::rank == 4 && B::rank == 1,
                  "nn::conv2d: the input must be rank 4 (NCHW), the weight rank 4 (OutC, InC, K, K), the bias rank 1");
    static_assert(std::is_same_v<typename W::value_type, T> && std::is_same_v<typename B::value_type, T>,
                  "nn::conv2d: the input, weight and bias scalar types differ");

    /// Convolves `e` with weight `w` and bias `b` (moved in).
    Conv2dNode(E&& e, W&& w, B&& b) : e_(std::move(e)), w_(std::move(w)), b_(std::move(b)) {}

    /// Whether the kernel can apply consumer C after the epilogue so far (fuse() asks).
    template <class C>
    static constexpr bool can_fuse() {
        constexpr bool relu = (std::is_same_v<Epi, ops::Relu> || ...);
        constexpr bool pool = (detail::is_pool_v<Epi> || ...);
        constexpr bool avg = (detail::is_avg_pool_v<Epi> || ...);
        // The kernel applies ReLU before pooling. That is the order asked for, or ReLU after max
        // pooling (they commute); ReLU and average pooling together are not supported.
        if constexpr (std::is_same_v<C, ops::Relu>) return !relu && !avg;
        else if constexpr (detail::is_avg_pool_v<C>) return !pool && !relu;
        else if constexpr (detail::is_pool_v<C>) return !pool;
        else return false;
    }
    /// This node followed by consumer C, in the convolution's own pass (see fuse()). The list is
    /// kept in the kernel's order, ReLU first, so relu(pool(c)) and pool(relu(c)) (equal for max
    /// pooling) are one type.
    template <class C>
        requires(can_fuse<C>())
    auto fuse(C) && {
        if constexpr (std::is_same_v<C, ops::Relu>)
            return Conv2dNode<E, W, B, S, P, C, Epi...>(std::move(e_), std::move(w_), std::move(b_));
        else
            return Conv2dNode<E, W, B, S, P, Epi..., C>(std::move(e_), std::move(w_), std::move(b_));
    }

    /// Node protocol: evaluates what must exist before the fused loop (boundary operands, shapes; a boundary node fills its result).
    void prepare() {
        e_.prepare();
        w_.prepare();
        b_.prepare();
        const auto in = e_.shape();
        const auto ws = w_.shape();
        const auto bs = b_.shape();
        const std::size_t k = ws[2];
        if (ws[3] != k || bs[0] != ws[0] || k == 0)
            throw std::invalid_argument(name() + ": the weight " + shape_string(ws) + " and bias " + shape_string(bs) +
                                        " must be (OutC, InC, K, K) and (OutC)");
        if (in[1] != ws[1] || in[2] + 2 * P < k || in[3] + 2 * P < k)
            throw std::invalid_argument(name() + ": the input shape " + shape_string(in) + " does not fit: expected " +
                                        std::to_string(ws[1]) + " channels and images of at least " +
                                        std::to_string(k > 2 * P ? k - 2 * P : 1) + " pixels a side");
        geo_ = {in[0], ws[1], in[2], in[3], ws[0], k, S, P};
        if (epilogue.pool && (geo_.out_h() < epilogue.pool || geo_.out_w() < epilogue.pool))
            throw std::invalid_argument(std::string(epilogue.avg_pool ? "nn::AvgPool2d<" : "nn::MaxPool2d<") +
                                        std::to_string(epilogue.pool) + ", " + std::to_string(epilogue.pool_stride) +
                                        ">: the input shape " +
                                        shape_string(Shape<4>{in[0], ws[0], geo_.out_h(), geo_.out_w()}) +
                                        " is smaller than the window");
        in_ = in;
        wshape_ = ws;
        this->set_shape({in[0], ws[0], epilogue.out_h(geo_.out_h()), epilogue.out_w(geo_.out_w())});
        if constexpr (epilogue.pool != 0 && !epilogue.avg_pool) argmax_.resize(shape_size(this->shape_));
        x_ = e_.materialize(xbuf_);
        w_ptr_ = w_.materialize(wbuf_);
        b_ptr_ = b_.materialize(bbuf_);
        kernels::conv2d_forward(geo_, x_, w_ptr_, b_ptr_, this->out_.data(), epilogue, argmax_.data());
    }
    /// Boundary protocol: the reverse pass from g = d loss / d output (contiguous, of shape()) into the operands.
    void backward_kernel(const T* g) {
        const T* y = this->out_.data();
        if constexpr (W::needs_grad || B::needs_grad) {
            // A Param leaf takes the kernel's accumulation directly (grad_target); any other operand
            // gets the gradient through its own backward().
            T* dw = nullptr;
            if constexpr (W::needs_grad) dw = w_.grad_target();
            const bool dw_direct = dw != nullptr;
            if (!dw_direct) dw = zeroed(dwbuf_, shape_size(wshape_));
            T* db = nullptr;
            if constexpr (B::needs_grad) {
                db = b_.grad_target();
                if (!db) db = zeroed(dbbuf_, geo_.out_channels);
            }
            kernels::conv2d_backward_weights(geo_, x_, g, dw, db, epilogue, y, argmax_.data());
            if (anomaly_detection_enabled()) [[unlikely]] {
                if constexpr (W::needs_grad)
                    if (dw_direct) ctgrad::detail::check_written_gradient(*this, w_, dw, wshape_);
                if constexpr (B::needs_grad)
                    if (db != dbbuf_.data()) ctgrad::detail::check_written_gradient(*this, b_, db, Shape<1>{geo_.out_channels});
            }
            if constexpr (W::needs_grad) {
                if (!dw_direct) {
                    GradView<T, 4> up(dw, wshape_);
                    w_.backward(up);
                }
            }
            if constexpr (B::needs_grad) {
                if (db == dbbuf_.data()) {
                    GradView<T, 1> up(db, Shape<1>{geo_.out_channels});
                    b_.backward(up);
                }
            }
        }
        if constexpr (E::needs_grad) {
            dx_.resize(shape_size(in_));
            kernels::conv2d_backward_input(geo_, g, w_ptr_, dx_.data(), epilogue, y, argmax_.data());
            GradView<T, 4> up(dx_.data(), in_);
            e_.backward(up);
        }
    }
    /// "nn::Conv2d<InC, OutC, K, S, P>", from the weight's shape (after prepare()).
    std::string name() const {
        const auto ws = w_.shape();
        return "nn::Conv2d<" + std::to_string(ws[1]) + ", " + std::to_string(ws[0]) + ", " + std::to_string(ws[2]) +
               ", " + std::to_string(S) + ", " + std::to_string(P) + ">";
    }

    /// The node as text: "nn::conv2d(x, w, b)", inside its fused epilogues ("max_pool2d<2, 2>(relu(...))").
    std::string describe() const {
        std::string s = ctgrad::detail::describe_call("nn::conv2d<" + std::to_string(S) + ", " + std::to_string(P) + ">", e_, w_, b_);
        if constexpr (epilogue.relu) s = "relu(" + s + ")";
        if constexpr (epilogue.pool != 0)
            s = std::string(epilogue.avg_pool ? "nn::AvgPool2d<" : "nn::MaxPool2d<") + std::to_string(epilogue.pool) + ", " +
                std::to_string(epilogue.pool_stride) + ">(" + s + ")";
        return s;
    }

private:
    static constexpr kernels::Conv2dEpilogue make_epilogue() {
        kernels::Conv2dEpilogue ep{};
        [[maybe_unused]] auto add = [&]<class C>(C*) {
            if constexpr (std::is_same_v<C, ops::Relu>) {
                ep.relu = true;
            } else {
                ep.pool = C::kernel;
                ep.pool_stride = C::stride;
                ep.avg_pool = detail::is_avg_pool_v<C>;
            }
        };
        (add(static_cast<Epi*>(nullptr)), ...);
        return ep;
    }
    static constexpr kernels::Conv2dEpilogue epilogue = make_epilogue();
    static T* zeroed(Scratch<T>& buf, std::size_t n) {
        buf.resize(n);
        std::fill(buf.data(), buf.data() + n, T(0));
        return buf.data();
    }

    E e_;
    W w_;
    B b_;
    kernels::Conv2dShape geo_{};
    Shape<4> in_{}, wshape_{};
    const T* x_ = nullptr;
    const T* w_ptr_ = nullptr;
    const T* b_ptr_ = nullptr;
    Scratch<T> xbuf_, wbuf_, bbuf_, dx_, dwbuf_, dbbuf_;
    Scratch<std::uint32_t> argmax_;
};

/// Convolution of an NCHW operand x with weights w (OutC, InC, K, K) and bias b (OutC), stride
/// Stride and zero padding Padding. Operands are expressions, Params or Tensors: a Param receives
/// its gradient, constant(p) or a Tensor none.
template <std::size_t Stride = 1, std::size_t Padding = 0, TensorLike X, TensorLike Wt, TensorLike Bs>
auto conv2d(X&& x, Wt&& w, Bs&& b) {
    static_assert(Stride > 0, "nn::conv2d: the stride must be positive");
    using T = operand_value_t<X>;
    static_assert(std::is_same_v<operand_value_t<Wt>, T> && std::is_same_v<operand_value_t<Bs>, T>,
                  "nn::conv2d: the input, weight and bias scalar types differ");
    return Conv2dNode<node_t<X>, node_t<Wt>, node_t<Bs>, Stride, Padding>(
        to_node<T>(std::forward<X>(x)), to_node<T>(std::forward<Wt>(w)), to_node<T>(std::forward<Bs>(b)));
}

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
    auto operator()(E&& x) & {
        static_assert(std::is_same_v<operand_value_t<E>, T>, "nn::Conv2d: the input's scalar type differs from the layer's");
        static_assert(node_t<E>::rank == 4, "nn::Conv2d needs a rank-4 NCHW input");
        return conv2d<Stride, Padding>(std::forward<E>(x), weight, bias);
    }
    /// The trainable parameters: a Hana tuple of pointers to weight and bias.
    auto parameters() & { return boost::hana::make_tuple(&weight, &bias); }
    CTGRAD_LVALUE_LAYER_ONLY(Conv2d)

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
