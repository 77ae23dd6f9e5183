// LeNet with a wrong first Linear (16*5*5 = 400 features flow into Linear<256, ...>), caught
// when the input image size is given statically: names 256 and 400.
#include <ctgrad/nn/nn.hpp>
int main() {
    using namespace ctgrad::nn;
    using Net = decltype(Sequential{Conv2d<1, 6, 5, 1, 2>{}, ReLU{}, MaxPool2d<2>{}, Conv2d<6, 16, 5>{}, ReLU{},
                                    MaxPool2d<2>{}, Flatten{}, Linear<256, 10>{}});
    constexpr auto out = Net::output_dims<Dims<1, 28, 28>>();
    (void)out;
}
