// Linear<784, 256> followed by Linear<128, 10>: names 128 and 256.
#include <ctgrad/nn/nn.hpp>
int main() {
    using namespace ctgrad::nn;
    auto net = Sequential{Flatten{}, Linear<784, 256>{}, ReLU{}, Dropout{0.5}, Linear<128, 10>{}};
    (void)net;
}
