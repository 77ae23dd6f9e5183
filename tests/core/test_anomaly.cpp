// Anomaly detection (ctgrad::detect_anomaly): the first NaN or infinity, in a value or an adjoint,
// stops the evaluation with a message naming the node as readable text and the element.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>

#include <ctgrad/ctgrad.hpp>

#include "expect_message.hpp"

using namespace ctgrad;

namespace {
/// Passes when f throws ctgrad::AnomalyError whose message contains every fragment.
template <class F>
void expect_anomaly(F&& f, std::initializer_list<std::string> fragments) {
    expect_message<AnomalyError>(std::forward<F>(f), fragments);
}

/// A boundary op (see expr/op.hpp) that doubles its input, with a forward or backward that can
/// be made to write a non-finite number at one element.
struct Faulty {
    static constexpr const char* name = "faulty";
    std::size_t bad_forward = std::size_t(-1), bad_backward = std::size_t(-1);
    Shape<1> shape(const Shape<1>& x) const { return x; }
    template <class T>
    void forward(TensorView<T, 1> y, TensorView<const T, 1> x) {
        for (std::size_t i = 0; i < x.size(); ++i) y(i) = i == bad_forward ? std::numeric_limits<T>::infinity() : 2 * x(i);
    }
    template <class T>
    void backward(TensorView<const T, 1> gy, TensorView<const T, 1>, TensorView<T, 1> gx, TensorView<const T, 1>) {
        for (std::size_t i = 0; i < gy.size(); ++i) gx(i) = i == bad_backward ? std::numeric_limits<T>::quiet_NaN() : 2 * gy(i);
    }
};

/// Anomaly detection on for one test case.
struct AnomalyOn {
    AnomalyMode mode{true};
};
}  // namespace

BOOST_AUTO_TEST_SUITE(anomaly)

BOOST_AUTO_TEST_CASE(off_by_default_the_nan_passes_through) {
    BOOST_TEST(!anomaly_detection_enabled());
    Tensor<float, 2> X = {{1.f, 1.f, 1.f}, {40.f, 40.f, 40.f}};
    Param<float, 2> w(Tensor<float, 2>(xt::ones<float>({3, 1})));
    BOOST_TEST(std::isinf(backward(mean(log(1.f - sigmoid(matmul(X, w)))))));
}

BOOST_AUTO_TEST_CASE(mode_restores_the_previous_setting) {
    {
        AnomalyMode on;
        BOOST_TEST(anomaly_detection_enabled());
        {
            AnomalyMode off(false);
            BOOST_TEST(!anomaly_detection_enabled());
        }
        BOOST_TEST(anomaly_detection_enabled());
    }
    BOOST_TEST(!anomaly_detection_enabled());
}

BOOST_FIXTURE_TEST_CASE(forward_names_the_first_node_and_element, AnomalyOn) {
    // Row 1 saturates the sigmoid (float: exactly 1), so 1 - sigmoid is 0 and log gives -inf there.
    Tensor<float, 2> X = {{0.1f, 0.2f, 0.3f}, {40.f, 40.f, 40.f}, {0.f, 0.f, 0.f}};
    Param<float, 2> w(Tensor<float, 2>(xt::ones<float>({3, 1})));
    expect_anomaly([&] { backward(mean(log(1.f - sigmoid(matmul(X, w))))); },
                   {"forward pass", "log(1 - sigmoid(matmul(Tensor[3x3], Param[3x1]))) is -inf",
                    "element [1, 0] of (3, 1)", "its operand is 0 there"});
    // The same through eval() (region_assign) and through a reduction's forward (region_reduce).
    expect_anomaly([&] { eval(log(1.f - sigmoid(matmul(X, w)))); }, {"log(1 - sigmoid(", "[1, 0]"});
    expect_anomaly([&] { eval(sum(log(1.f - sigmoid(matmul(X, w))))); }, {"log(1 - sigmoid(", "[1, 0]"});
}

BOOST_FIXTURE_TEST_CASE(a_parameter_holding_nan_is_named, AnomalyOn) {
    Tensor<double, 2> X = xt::ones<double>({2, 3});
    Param<double, 2> w(Tensor<double, 2>(xt::ones<double>({3, 2})));
    w.value()(2, 1) = std::numeric_limits<double>::quiet_NaN();
    // Read into memory by matmul, and read by a fused region.
    expect_anomaly([&] { backward(sum(matmul(X, w))); }, {"Param[3x2] is nan", "element [2, 1] of (3, 2)", "optimizer"});
    expect_anomaly([&] { backward(sum(w * 2.0)); }, {"Param[3x2] is nan", "element [2, 1]"});
}

BOOST_FIXTURE_TEST_CASE(backward_names_the_derivative_rule, AnomalyOn) {
    // sqrt is finite at 0, its derivative is not.
    Param<double, 1> x(Tensor<double, 1>{1.0, 0.0, 4.0});
    expect_anomaly([&] { backward(sum(sqrt(x) * 2.0)); },
                   {"backward pass", "the derivative of sqrt(Param[3]) gives inf", "adjoint of its operand Param[3]",
                    "element [1] of (3,)", "operand value 0"});
    // Off: the infinity lands in the gradient.
    AnomalyMode off(false);
    x.zero_grad();
    backward(sum(sqrt(x) * 2.0));
    BOOST_TEST(std::isinf(x.grad()(1)));
}

BOOST_FIXTURE_TEST_CASE(a_binary_derivative_rule_is_named, AnomalyOn) {
    // d(a / b)/db = -a / b^2 overflows in float for tiny b while a / b itself stays finite.
    Param<float, 1> a(Tensor<float, 1>{1e-20f, 1.f});
    Param<float, 1> b(Tensor<float, 1>{1e-30f, 1.f});
    expect_anomaly([&] { backward(sum(a / b)); },
                   {"the derivative of Param[2] / Param[2]", "adjoint of its operand Param[2]", "element [0] of (2,)"});
}

BOOST_FIXTURE_TEST_CASE(boundary_op_forward_and_backward, AnomalyOn) {
    Param<double, 1> x(Tensor<double, 1>{1.0, 2.0, 3.0, 4.0});
    expect_anomaly([&] { backward(sum(apply_op(Faulty{2, std::size_t(-1)}, x))); },
                   {"forward pass", "faulty(Param[4]) is inf", "element [2] of (4,)"});
    // The op's backward writes NaN into its operand's adjoint: named as the op computing it.
    expect_anomaly([&] { backward(sum(exp(apply_op(Faulty{std::size_t(-1), 3}, x)))); },
                   {"backward pass", "the adjoint arriving at Param[4] is nan", "element [3] of (4,)",
                    "computed by the backward pass of faulty(Param[4])"});
}

BOOST_FIXTURE_TEST_CASE(a_gradient_written_by_matmul, AnomalyOn) {
    // w = 0 keeps the forward pass finite; dW = X^T * 1 sums four values of 1e38: inf in float.
    Tensor<float, 2> X = xt::ones<float>({4, 3}) * 1e38f;
    Param<float, 2> w(Tensor<float, 2>(xt::zeros<float>({3, 1})));
    expect_anomaly([&] { backward(sum(matmul(X, w))); },
                   {"the backward pass of matmul(Tensor[4x3], Param[3x1]) made the gradient of Param[3x1] inf",
                    "element [0, 0] of (3, 1)"});
}

BOOST_FIXTURE_TEST_CASE(layers_are_named, AnomalyOn) {
    nn::Conv2d<1, 2, 3, 1, 1, double> conv;
    conv.weight.value()(1, 0, 2, 2) = std::numeric_limits<double>::infinity();
    Tensor<double, 4> img = xt::ones<double>({1, 1, 4, 4});
    expect_anomaly([&] { backward(sum(conv(img))); }, {"Param[2x1x3x3] is inf", "element [1, 0, 2, 2]"});
    conv.weight.value()(1, 0, 2, 2) = 1e300;  // finite, but the products overflow
    expect_anomaly([&] { backward(sum(relu(conv(img)) * 1e10)); },
                   {"is inf", "relu(nn::conv2d<1, 1>(Tensor[1x1x4x4], Param[2x1x3x3], Param[2]))"});
}

BOOST_AUTO_TEST_CASE(describe_prints_readable_expressions) {
    Param<float, 1> a(Tensor<float, 1>{1.f}), b(Tensor<float, 1>{2.f});
    BOOST_TEST(describe(a * (b + a) - b / (a - 2.f)) == "Param[1] * (Param[1] + Param[1]) - Param[1] / (Param[1] - 2)");
    BOOST_TEST(describe(a - (b - a)) == "Param[1] - (Param[1] - Param[1])");
    BOOST_TEST(describe((a - b) - a) == "Param[1] - Param[1] - Param[1]");
    BOOST_TEST(describe(-(a + b) * 0.5f) == "-(Param[1] + Param[1]) * 0.5");
    BOOST_TEST(describe(mean(tanh(a), 0)) == "mean(tanh(Param[1]), axis=0)");
    BOOST_TEST(describe(elementwise<ops::Softplus>(a)) == "softplus(Param[1])");
}

BOOST_AUTO_TEST_SUITE_END()
