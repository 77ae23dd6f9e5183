// d2l's LeNet in libtorch, shared by the libtorch benchmark (libtorch_models.cpp) and the libtorch
// trainer (libtorch_lenet_train.cpp): the same layers as ctgrad's nn::lenet(), d2l's init_weights
// (Xavier-uniform weights for Linear and Conv2d, biases left at torch's default).
#pragma once
#include <torch/torch.h>

inline torch::nn::Sequential torch_lenet() {
    using namespace torch::nn;
    Sequential net(Conv2d(Conv2dOptions(1, 6, 5).padding(2)), ReLU(), MaxPool2d(2),  //
                   Conv2d(Conv2dOptions(6, 16, 5)), ReLU(), MaxPool2d(2),            //
                   Flatten(),                                                        //
                   Linear(400, 120), ReLU(),                                         //
                   Linear(120, 84), ReLU(),                                          //
                   Linear(84, 10));
    net->apply([](Module& m) {
        if (auto* l = m.as<Linear>()) init::xavier_uniform_(l->weight);
        if (auto* c = m.as<Conv2d>()) init::xavier_uniform_(c->weight);
    });
    return net;
}
