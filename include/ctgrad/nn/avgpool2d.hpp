#pragma once
/// \file nn::AvgPool2d: average pooling over Kernel x Kernel windows of NCHW images, written on
/// the public boundary-op protocol (ctgrad/expr/op.hpp): a shape rule, forward and backward.
#include <stdexcept>
#include <string>

#include <boost/hana/tuple.hpp>

#include <ctgrad/expr/fuse.hpp>
#include <ctgrad/expr/op.hpp>
#include <ctgrad/nn/dims.hpp>
#include <ctgrad/nn/layer.hpp>

namespace ctgrad::nn {

/// The average-pooling op (no padding; every window lies inside the image, as PyTorch's
/// AvgPool2d with padding 0): y = mean of the window, d x = d y / K² spread over the window.
template <std::size_t K, std::size_t S>
struct AvgPool2dOp {
    /// The op's name for error messages, e.g. `nn::AvgPool2d<2, 2>`.
    static std::string name() { return "nn::AvgPool2d<" + std::to_string(K) + ", " + std::to_string(S) + ">"; }

    /// The output shape for an NCHW input shape; throws std::invalid_argument if the image is smaller than the window.
    Shape<4> shape(const Shape<4>& x) const {
        if (x[2] < K || x[3] < K)
            throw std::invalid_argument(name() + ": the input shape " + shape_string(x) + " is smaller than the window");
        return {x[0], x[1], (x[2] - K) / S + 1, (x[3] - K) / S + 1};
    }
    /// Writes y, the mean of each window of x.
    template <class T>
    void forward(TensorView<T, 4> y, TensorView<const T, 4> x) const {
        const std::size_t planes = y.shape(0) * y.shape(1), oh = y.shape(2), ow = y.shape(3);
        const std::size_t h = x.shape(2), w = x.shape(3);
        const T scale = T(1) / T(K * K);
        for (std::size_t p = 0; p < planes; ++p) {
            const T* in = x.data() + p * h * w;
            T* out = y.data() + p * oh * ow;
            for (std::size_t i = 0; i < oh; ++i)
                for (std::size_t j = 0; j < ow; ++j) {
                    T s = 0;
                    for (std::size_t a = 0; a < K; ++a)
                        for (std::size_t b = 0; b < K; ++b) s += in[(i * S + a) * w + j * S + b];
                    out[i * ow + j] = s * scale;
                }
        }
    }
    /// Writes gx: each window's gy / K² spread over its pixels (nothing if gx is not wanted).
    template <class T>
    void backward(TensorView<const T, 4> gy, TensorView<const T, 4>, TensorView<T, 4> gx, TensorView<const T, 4>) const {
        if (!gx.data()) return;
        const std::size_t planes = gy.shape(0) * gy.shape(1), oh = gy.shape(2), ow = gy.shape(3);
        const std::size_t h = gx.shape(2), w = gx.shape(3);
        const T scale = T(1) / T(K * K);
        std::fill(gx.data(), gx.data() + gx.size(), T(0));  // pixels outside every window get 0
        for (std::size_t p = 0; p < planes; ++p) {
            const T* g = gy.data() + p * oh * ow;
            T* d = gx.data() + p * h * w;
            for (std::size_t i = 0; i < oh; ++i)
                for (std::size_t j = 0; j < ow; ++j) {
                    const T v = g[i * ow + j] * scale;
                    for (std::size_t a = 0; a < K; ++a)
                        for (std::size_t b = 0; b < K; ++b) d[(i * S + a) * w + j * S + b] += v;
                }
        }
    }
};

/// Average pooling layer (no padding); Stride defaults to the window size.
template <std::size_t Kernel, std::size_t Stride = Kernel>
class AvgPool2d {
    static_assert(Kernel > 0 && Stride > 0, "nn::AvgPool2d: kernel and stride must be positive");

public:
    /// The layer applied to an NCHW expression (fused into a producer that can pool in its own pass).
    template <TensorLike E>
    auto operator()(E&& x) {
        static_assert(node_t<E>::rank == 4, "nn::AvgPool2d needs a rank-4 NCHW input");
        // A producer that can pool in its own pass (nn::Conv2d without ReLU) takes it over.
        return fuse(to_node<operand_value_t<E>>(std::forward<E>(x)), ops::Pool<ops::Avg, Kernel, Stride>{});
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
/// Average pooling that its producer does not fuse: the boundary op nn::AvgPool2dOp.
template <std::size_t K, std::size_t S>
struct Unfused<ops::Pool<ops::Avg, K, S>> {
    /// Average pooling of `producer`, as an nn::AvgPool2dOp node.
    template <class P>
    static auto apply(P&& producer) {
        return apply_op(nn::AvgPool2dOp<K, S>{}, std::forward<P>(producer));
    }
};
}  // namespace ctgrad
