// float and double operands in one expression: a compile error naming both types.
#include <ctgrad/ctgrad.hpp>
int main() {
    ctgrad::Param<float, 1> a;
    ctgrad::Param<double, 1> b;
    auto e = a + b;
    (void)e;
}
