// A temporary layer's expression would refer to its Params after they are destroyed.
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad;

int main() {
    Tensor<float, 2> x = xt::ones<float>({2, 4});
    auto y = nn::Linear<4, 3>{}(x);
    return int(eval(y)(0, 0));
}
