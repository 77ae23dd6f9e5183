// An optimizer over the parameters of a temporary model would keep pointers to destroyed Params.
#include <ctgrad/ctgrad.hpp>

using namespace ctgrad;

auto make_net() { return nn::Sequential{nn::Linear<4, 3>{}, nn::ReLU{}, nn::Linear<3, 2>{}}; }

int main() {
    optim::Optimizer opt(make_net().parameters(), optim::SGD{}, sched::Constant{.lr = 0.1});
    opt.step();
}
