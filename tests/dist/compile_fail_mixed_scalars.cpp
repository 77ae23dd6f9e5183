// float and double parameters cannot share GradientAllReduce's one buffer: a compile error that says so.
#include <ctgrad/dist/gradient_all_reduce.hpp>
#include <ctgrad/optim/params.hpp>
int main() {
    ctgrad::Param<float, 2> w;
    ctgrad::Param<double, 1> b;
    ctgrad::dist::GradientAllReduce sync(ctgrad::optim::params(w, b));
    sync();
}
