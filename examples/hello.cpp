// ctgrad in 30 lines: d2l 3.2's linear regression, y = 2 x1 - 3.4 x2 + 4.2 + noise, with the model
// written in the expression DSL. Build: meson compile -C build examples/hello; run: build/examples/hello
#include <cstdio>

#include <ctgrad/ctgrad.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>
using namespace ctgrad;

int main() {
    // Data: 1000 examples, served in shuffled minibatches of 10.
    xt::random::seed(0);
    Tensor<float, 2> X = xt::random::randn<float>({1000, 2});
    Tensor<float, 1> y = 2.f * xt::col(X, 0) - 3.4f * xt::col(X, 1) + 4.2f + 0.01f * xt::random::randn<float>({1000});
    data::DataLoader loader(X, y, {.batch_size = 10, .shuffle = true, .seed = 0});

    // Model: y_hat = X w + b. Params hold a value and a gradient; an optimizer updates them.
    Param<float, 1> w(Tensor<float, 1>(0.01f * xt::random::randn<float>({2})));
    Param<float, 1> b(Tensor<float, 1>{0.f});
    optim::Optimizer opt(optim::params(w, b), optim::SGD{}, sched::Constant{.lr = 0.03});

    float loss = 0.f;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        loss = 0.f;
        for (auto& batch : loader.epoch()) {
            auto y_hat = sum(batch.x * w, 1) + b;          // an expression: nothing is computed yet
            loss += backward(mean(square(y_hat - batch.y)) / 2) / 100;  // forward + gradients into w, b
            opt.step();                                     // w -= lr * grad, then zero the gradients
        }
        std::printf("epoch %d, loss %f\n", epoch, double(loss));
    }
    std::printf("w = (%.3f, %.3f), b = %.3f (true: 2, -3.4, 4.2)\n", double(w.value()(0)), double(w.value()(1)),
                double(b.value()(0)));
    return loss < 1e-3f ? 0 : 1;  // the mean loss of the last epoch must be down to the noise
}
