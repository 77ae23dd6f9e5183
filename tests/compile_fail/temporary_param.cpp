// A temporary Param would die before the expression is evaluated: rejected at compile time.
#include <ctgrad/ctgrad.hpp>
int main() {
    auto e = ctgrad::Param<float, 1>() * 2.0f;
    (void)e;
}
