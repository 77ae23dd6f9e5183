// assign() into a tensor of another rank: a compile error.
#include <ctgrad/ctgrad.hpp>
int main() {
    ctgrad::Param<float, 2> a;
    ctgrad::Tensor<float, 1> out;
    ctgrad::assign(out, a * 2);
}
