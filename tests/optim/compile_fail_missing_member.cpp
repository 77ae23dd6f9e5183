// Must NOT compile: the rule spells its per-element member `update` instead of `apply`.
// tests/optim/meson.build checks that the compiler's error names the missing member 'apply'.
#include <array>
#include <cstddef>

#include <ctgrad/optim/optimizer.hpp>
#include <ctgrad/sched/schedules.hpp>

struct Misspelled {
    static constexpr std::size_t state_slots = 0;
    template <class T>
    T prepare(double lr, std::size_t) const { return T(lr); }
    template <class V, class C>
    void update(V& w, V g, std::array<V, 0>&, const C& lr) const { w -= lr * g; }
};

int main() {
    ctgrad::Param<float, 1> p(ctgrad::Tensor<float, 1>{1.0f});
    ctgrad::optim::Optimizer opt(ctgrad::optim::params(p), Misspelled{}, ctgrad::sched::Constant{.lr = 0.1});
    opt.step();
}
