// Must NOT compile: the schedule has no call operator. tests/optim/meson.build checks that the
// compiler's error names the missing 'operator()(std::size_t t) const'.
#include <ctgrad/optim/optimizer.hpp>

struct NoCall {
    double lr = 0.1;
};

int main() {
    ctgrad::Param<double, 1> p(ctgrad::Tensor<double, 1>{1.0});
    ctgrad::optim::Optimizer opt(ctgrad::optim::params(p), ctgrad::optim::SGD{}, NoCall{});
    opt.step();
}
