#pragma once
/// \file The models of the d2l experiments: LeNet and the dropout MLP.
#include <ctgrad/nn/activation.hpp>
#include <ctgrad/nn/conv2d.hpp>
#include <ctgrad/nn/dropout.hpp>
#include <ctgrad/nn/flatten.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/maxpool2d.hpp>
#include <ctgrad/nn/sequential.hpp>

namespace ctgrad::nn {

/// d2l's LeNet (the ReLU / max-pool variant of the learning-rate-scheduling chapter) for
/// 1 x 28 x 28 images and 10 classes, Xavier-uniform weights as d2l initialises it.
template <class T = float>
auto lenet() {
    return Sequential{Conv2d<1, 6, 5, 1, 2, T>{}, ReLU{}, MaxPool2d<2>{},  //
                      Conv2d<6, 16, 5, 1, 0, T>{}, ReLU{}, MaxPool2d<2>{},  //
                      Flatten{},                                            //
                      Linear<400, 120, T>{}, ReLU{},                        //
                      Linear<120, 84, T>{}, ReLU{},                         //
                      Linear<84, 10, T>{}};
}
/// The type of nn::lenet<T>() (a Sequential), for members and containers.
template <class T = float>
using LeNet = decltype(lenet<T>());
static_assert(std::is_same_v<decltype(LeNet<>::output_dims<Dims<1, 28, 28>>()), Dims<10>>,
              "LeNet maps a 1x28x28 image to 10 logits");

/// d2l's dropout MLP (5.6): 784 -> hidden1 ReLU Dropout(p1) -> hidden2 ReLU Dropout(p2) -> 10,
/// initialised as d2l 1.0 leaves it: PyTorch's default nn.Linear initialisation, weights and biases
/// ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class T = float>
auto dropout_mlp(std::size_t hidden1 = 256, std::size_t hidden2 = 256, double p1 = 0.5, double p2 = 0.5) {
    auto net = Sequential{Flatten{},
                          Linear<784, dynamic, T>(784, hidden1), ReLU{}, Dropout(p1, 1),
                          Linear<dynamic, dynamic, T>(hidden1, hidden2), ReLU{}, Dropout(p2, 2),
                          Linear<dynamic, 10, T>(hidden2, 10)};
    auto pytorch_default = [](auto& layer, std::size_t fan_in) {
        init::uniform(layer.weight.value(), 1.0 / std::sqrt(double(fan_in)));
        init::uniform(layer.bias.value(), 1.0 / std::sqrt(double(fan_in)));
    };
    pytorch_default(net.template layer<1>(), 784);
    pytorch_default(net.template layer<4>(), hidden1);
    pytorch_default(net.template layer<7>(), hidden2);
    return net;
}
/// The type of nn::dropout_mlp<T>() (a Sequential).
template <class T = float>
using DropoutMLP = decltype(dropout_mlp<T>());

}  // namespace ctgrad::nn
