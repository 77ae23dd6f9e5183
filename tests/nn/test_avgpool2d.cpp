// nn::AvgPool2d (written on the public boundary-op protocol, ctgrad/expr/op.hpp): values, and gradients
// against central finite differences in double.
#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/autodiff/gradcheck.hpp>
#include <ctgrad/nn/avgpool2d.hpp>
#include <ctgrad/nn/sequential.hpp>

#include "../core/check_grads.hpp"
#include "../core/random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(avgpool2d)

BOOST_AUTO_TEST_CASE(values_and_gradients) {
    {  // 2x2 windows, stride 2: the mean of each window; odd sizes drop the last row/column
        Tensor<double, 4> x = xt::arange<double>(2 * 3 * 5 * 4).reshape({2, 3, 5, 4});
        nn::AvgPool2d<2> pool;
        const auto y = eval(pool(x));
        BOOST_TEST((y.shape() == Shape<4>{2, 3, 2, 2}));
        BOOST_TEST(y(1, 2, 1, 1) == (x(1, 2, 2, 2) + x(1, 2, 2, 3) + x(1, 2, 3, 2) + x(1, 2, 3, 3)) / 4);
    }
    {  // overlapping 3x3 windows with stride 1, inside a region on both sides
        nn::AvgPool2d<3, 1> pool;
        auto x = random_param<double, 4>({2, 2, 5, 6});
        const auto w = random_tensor<double, 4>({2, 2, 3, 4});
        CHECK_GRADS([&] { return sum(tanh(pool(x * 1.5)) * w); }, x);
    }
    {  // stride larger than the window: some pixels are in no window and get a zero gradient
        nn::AvgPool2d<2, 3> pool;
        auto x = random_param<double, 4>({1, 2, 7, 8});
        const auto w = random_tensor<double, 4>({1, 2, 2, 3});
        CHECK_GRADS([&] { return sum(pool(x) * w); }, x);
        x.zero_grad();
        backward(sum(pool(x) * w));
        BOOST_TEST(x.grad()(0, 1, 2, 0) == 0.0);
    }
    {  // a constant input gets no gradient buffer, the layer still evaluates
        nn::AvgPool2d<2> pool;
        Tensor<double, 4> x = xt::ones<double>({1, 1, 2, 2});
        BOOST_TEST(eval(sum(pool(x)))() == 1.0);
    }
    // Sequential checks the window against static shapes
    using Net = decltype(nn::Sequential{nn::AvgPool2d<2>{}});
    static_assert(std::is_same_v<decltype(Net::output_dims<nn::Dims<3, 8, 6>>()), nn::Dims<3, 4, 3>>);
}

BOOST_AUTO_TEST_SUITE_END()
