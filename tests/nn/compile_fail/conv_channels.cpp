// Conv2d<1, 6> followed (through ReLU and pooling) by Conv2d<4, ...>: names 4 and 6.
#include <ctgrad/nn/nn.hpp>
int main() {
    using namespace ctgrad::nn;
    auto net = Sequential{Conv2d<1, 6, 5>{}, ReLU{}, MaxPool2d<2>{}, Conv2d<4, 16, 5>{}};
    (void)net;
}
