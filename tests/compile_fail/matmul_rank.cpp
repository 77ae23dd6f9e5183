// matmul of a rank-3 operand: a compile error naming both ranks (3 and 2).
#include <ctgrad/ctgrad.hpp>
int main() {
    ctgrad::Param<float, 3> a;
    ctgrad::Param<float, 2> b;
    auto e = ctgrad::matmul(a, b);
    (void)e;
}
