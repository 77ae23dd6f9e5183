// Proof that elementwise regions fuse: a counting operator new shows that a 6-op chain allocates
// only its output, that its backward allocates nothing, and that a graph with boundary ops
// (matmul, reductions) reaches zero allocations per step once the scratch pool is warm.
#include <boost/test/unit_test.hpp>

#include <ctgrad/ctgrad.hpp>

#include "counting_allocator.hpp"
#include "random_tensor.hpp"

using namespace ctgrad;
using ctgrad::test::CountAllocations;
using ctgrad::test::random_param;
using ctgrad::test::random_tensor;

BOOST_AUTO_TEST_SUITE(fusion)

BOOST_AUTO_TEST_CASE(six_op_chain_allocates_only_its_output) {
    constexpr std::size_t n = 1 << 16;
    auto a = random_param<float, 1>({n});
    auto x = random_param<float, 1>({n});
    auto b = random_param<float, 1>({n});
    Tensor<float, 1> m = random_tensor<float, 1>({n});
    const float p = 0.5f;
    // six elementwise ops: *, +, relu, *, -, /
    auto chain = [&] { return relu(a * x + b) * m / (1 - p) - x; };
    {
        CountAllocations counter;
        Tensor<float, 1> y = eval(chain());
        const auto log = counter.log();
        BOOST_TEST(log.count == 1u);                     // the result tensor, nothing else
        BOOST_TEST(log.bytes == n * sizeof(float));
        BOOST_TEST(y(0) == std::max(a.value()(0) * x.value()(0) + b.value()(0), 0.f) * m(0) / 0.5f - x.value()(0));
    }
    {
        auto out = Tensor<float, 1>::from_shape({n});
        CountAllocations counter;
        assign(out, chain());
        BOOST_TEST(counter.log().count == 0u);           // into existing storage: no allocation at all
    }
    backward(sum(chain()));  // warms the scratch pool (the sum's one-element result)
    {
        CountAllocations counter;
        backward(sum(chain()));                           // value and three gradients, one pass
        BOOST_TEST(counter.log().count == 0u);
    }
}

BOOST_AUTO_TEST_CASE(boundary_graph_reaches_zero_allocations_per_step) {
    Tensor<float, 2> X = random_tensor<float, 2>({64, 20});
    Tensor<float, 2> y = random_tensor<float, 2>({64, 3});
    auto W1 = random_param<float, 2>({20, 16});
    auto b1 = random_param<float, 1>({16});
    auto W2 = random_param<float, 2>({16, 3});
    auto step = [&] { return backward(mean(square(matmul(relu(matmul(X, W1) + b1), W2) - y)) / 2); };
    step();  // warms the scratch pool
    CountAllocations counter;
    for (int i = 0; i < 3; ++i) step();
    BOOST_TEST(counter.log().count == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
