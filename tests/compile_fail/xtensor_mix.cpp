// (1.f - y) with a plain Tensor y is an xtensor expression; combined with a ctgrad node it would
// swallow the node as a scalar. It must be a compile error naming the fix (constant(y)).
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad;

int main() {
    Tensor<float, 1> y = xt::ones<float>({3});
    Param<float, 1> p(Tensor<float, 1>(xt::ones<float>({3}) * 0.5f));
    auto loss = -sum((1.f - y) * log(1.f - sigmoid(p)));
    return int(backward(loss));
}
