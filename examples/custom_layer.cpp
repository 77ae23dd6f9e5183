// Extending ctgrad from outside the library (docs/extending.md walks through this file):
//   - SiLU, a user elementwise function: a policy with its value and derivative, which fuses into
//     the surrounding elementwise loop like the built-in functions;
//   - RMSNorm, a user boundary layer with a learnable gain: a shape rule, forward and backward on
//     memory, everything else (buffers, gradient routing) done by ctgrad::apply_op.
// Both are gradient-checked in double, then a small regression network using them is trained.
// Exit status: 0 if the checks pass and the training loss falls at least tenfold, 1 otherwise.
#include <cmath>
#include <cstdio>
#include <random>

#include <ctgrad/ctgrad.hpp>

using namespace ctgrad;

// ---- a user elementwise op ----------------------------------------------------------------------

/// silu(x) = x * sigmoid(x). f and df are written once for scalars and SIMD batches (V); vm::
/// supplies exp/log/... for both.
struct SiLUOp {
    template <class V>
    static V f(const V& x) { return x / (V(1) + vm::exp(-x)); }
    /// g: the adjoint of the result y; returns the adjoint of x.
    template <class V>
    static V df(const V& x, const V& y, const V& g) {
        const V s = V(1) / (V(1) + vm::exp(-x));
        return g * (s + y * (V(1) - s));  // d/dx x s(x) = s + x s (1 - s)
    }
};

template <TensorLike E>
auto silu(E&& x) { return elementwise<SiLUOp>(std::forward<E>(x)); }

/// As a layer: parameter-free and shape-preserving.
struct SiLU {
    template <TensorLike E>
    auto operator()(E&& x) { return silu(std::forward<E>(x)); }
    auto parameters() { return boost::hana::make_tuple(); }
    template <class D>
    static constexpr D infer(D) { return {}; }
};

// ---- a user boundary op and layer ---------------------------------------------------------------

/// RMS normalisation of each row of a (batch, F) input, with a learnable gain g of shape (F):
/// y_ij = g_j x_ij r_i, r_i = 1 / sqrt(mean_j x_ij^2 + eps).
struct RMSNormOp {
    double eps = 1e-6;

    Shape<2> shape(const Shape<2>& x, const Shape<1>& g) const {
        if (x[1] != g[0])
            throw std::invalid_argument("RMSNorm: the input " + shape_string(x) + " has not " +
                                        std::to_string(g[0]) + " features");
        return x;
    }
    template <class T>
    void forward(TensorView<T, 2> y, TensorView<const T, 2> x, TensorView<const T, 1> g) const {
        for (std::size_t i = 0; i < x.shape(0); ++i) {
            const T r = inv_rms(x, i);
            for (std::size_t j = 0; j < x.shape(1); ++j) y(i, j) = g(j) * x(i, j) * r;
        }
    }
    /// gx, gg: the gradients to write (a null data() means that operand needs none).
    template <class T>
    void backward(TensorView<const T, 2> gy, TensorView<const T, 2>, TensorView<T, 2> gx, TensorView<T, 1> gg,
                  TensorView<const T, 2> x, TensorView<const T, 1> g) const {
        const std::size_t n = x.shape(0), f = x.shape(1);
        if (gg.data())
            for (std::size_t j = 0; j < f; ++j) gg(j) = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T r = inv_rms(x, i);
            T dot = 0;  // sum_k gy_ik g_k x_ik
            for (std::size_t k = 0; k < f; ++k) dot += gy(i, k) * g(k) * x(i, k);
            for (std::size_t j = 0; j < f; ++j) {
                if (gx.data()) gx(i, j) = r * gy(i, j) * g(j) - x(i, j) * r * r * r * dot / T(f);
                if (gg.data()) gg(j) += gy(i, j) * x(i, j) * r;
            }
        }
    }

private:
    template <class T>
    T inv_rms(TensorView<const T, 2> x, std::size_t i) const {
        T ms = 0;
        for (std::size_t j = 0; j < x.shape(1); ++j) ms += x(i, j) * x(i, j);
        return T(1) / std::sqrt(ms / T(x.shape(1)) + T(eps));
    }
};

/// The layer: owns the gain, applies the op to (x, gain). Its results point into the layer, hence
/// the & qualifiers.
template <std::size_t F, class T = float>
struct RMSNorm {
    Param<T, 1> gain{Tensor<T, 1>(xt::ones<T>({F}))};

    template <TensorLike E>
    auto operator()(E&& x) & { return apply_op(RMSNormOp{}, std::forward<E>(x), gain); }
    auto parameters() & { return boost::hana::make_tuple(&gain); }
    CTGRAD_LVALUE_LAYER_ONLY(RMSNorm)  // make_net().parameters() and RMSNorm<4>{}(x) do not compile
    template <class D>
    static constexpr D infer(D) { return {}; }
};
static_assert(nn::Layer<RMSNorm<4>> && nn::Layer<SiLU>);

// ---- checks and training -------------------------------------------------------------------------

template <class T>
auto make_net() {
    return nn::Sequential{nn::Linear<2, 32, T>{}, RMSNorm<32, T>{}, SiLU{}, nn::Linear<32, 1, T>{}};
}

int main() {
    // 1. gradients of both user pieces, in double, against finite differences
    std::mt19937 rng(7);
    std::normal_distribution<double> normal;
    auto random = [&](std::initializer_list<std::size_t> shape) {
        Tensor<double, 2> t = Tensor<double, 2>::from_shape(shape);
        for (auto& v : t) v = normal(rng);
        return t;
    };
    Param<double, 2> x(random({5, 2}));
    const Tensor<double, 2> w = random({5, 1});
    auto net = make_net<double>();
    nn::init::normal(net.layer<1>().gain.value(), 1.0);
    auto loss = [&] { return sum(net(x) * w); };
    const GradCheckResult model_check = check_gradients(loss, net.parameters());
    const GradCheckResult input_check = check_gradients(loss, x);
    std::printf("gradient check: parameters max error %.3g, input max error %.3g\n", model_check.max_error,
                input_check.max_error);
    if (!model_check || !input_check) {
        std::printf("FAILED at %s%s\n", model_check.worst.c_str(), input_check.worst.c_str());
        return 1;
    }

    // 2. training: y = sin(2 x0) + x1^2 on 256 points, full-batch Adam
    Tensor<float, 2> X = Tensor<float, 2>::from_shape({256, 2});
    Tensor<float, 2> Y = Tensor<float, 2>::from_shape({256, 1});
    std::uniform_real_distribution<float> u(-1.5f, 1.5f);
    for (std::size_t i = 0; i < 256; ++i) {
        X(i, 0) = u(rng);
        X(i, 1) = u(rng);
        Y(i, 0) = std::sin(2 * X(i, 0)) + X(i, 1) * X(i, 1);
    }
    auto model = make_net<float>();
    optim::Optimizer opt(model.parameters(), optim::Adam{}, sched::Constant{.lr = 0.01});
    float first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
        last = backward(nn::mse(model(X), Y));
        opt.step();
        if (step == 0) first = last;
        if (step % 50 == 0 || step == 299) std::printf("step %3d  loss %.5f\n", step, last);
    }
    const bool learned = std::isfinite(last) && last < first / 10;
    std::printf("loss %.5f -> %.5f: %s\n", first, last, learned ? "ok" : "did not fall tenfold");
    return learned ? 0 : 1;
}
