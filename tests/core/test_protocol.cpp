// The node protocol: the library's own nodes satisfy the concepts of expr/node_concepts.hpp and
// nn/layer.hpp, cursor counts are derived from node types, and a node collecting more or fewer
// cursors than its type says is an error instead of a memory overrun.
#include <stdexcept>

#include <boost/test/unit_test.hpp>

#include <ctgrad/autodiff/backward.hpp>
#include <ctgrad/expr/node_concepts.hpp>
#include <ctgrad/nn/nn.hpp>

using namespace ctgrad;

namespace {
using P2 = ParamLeaf<double, 2>;
using C2 = ConstLeaf<double, 2, false>;
using S = ScalarLeaf<double>;
using Sum = Binary<ops::Add, P2, Unary<ops::Exp, Binary<ops::Mul, C2, S>>>;

static_assert(FusedNode<P2> && FusedNode<C2> && FusedNode<S> && FusedNode<Sum>);
static_assert(cursor_count<P2>() == 1 && cursor_count<S>() == 0 && cursor_count<Sum>() == 2);

using Pool = decltype(std::declval<nn::AvgPool2d<2>&>()(std::declval<Param<float, 4>&>()));
using Conv = decltype(std::declval<nn::Conv2d<1, 2, 3>&>()(std::declval<Param<float, 4>&>()));
using Max = decltype(std::declval<nn::MaxPool2d<2>&>()(std::declval<Param<float, 4>&>()));
using Mm = decltype(matmul(std::declval<Param<float, 2>&>(), std::declval<Param<float, 2>&>()));
static_assert(BoundaryNode<Pool> && BoundaryNode<Conv> && BoundaryNode<Max> && BoundaryNode<Mm>);
static_assert(!FusedNode<Pool> && cursor_count<Pool>() == 1);
// a boundary operand counts as one cursor of the region around it
static_assert(cursor_count<decltype(std::declval<Pool>() * std::declval<Param<float, 4>&>() + 1.f)>() == 2);

static_assert(UnaryOpPolicy<ops::Softplus, float> && UnaryOpPolicy<ops::Relu, double>);
static_assert(BinaryOpPolicy<ops::Mul, float> && !BinaryOpPolicy<ops::Exp, float>);

static_assert(nn::Layer<nn::Linear<2, 3>> && nn::Layer<nn::Conv2d<1, 2, 3>> && nn::Layer<nn::ReLU> &&
              nn::Layer<nn::Softplus> && nn::Layer<nn::AvgPool2d<2>> && nn::Layer<nn::Dropout> &&
              nn::Layer<nn::Flatten> && nn::Layer<nn::LeNet<>> &&
              nn::Layer<nn::Residual<nn::Sequential<nn::Linear<3, 3>, nn::Tanh>>>);
static_assert(nn::LayerFor<nn::Linear<2, 3>, Param<float, 2>&> && !nn::LayerFor<nn::Linear<2, 3>, int>);

/// A hand-written fused node whose collect() pushes `Pushed` cursors while its type says one.
template <int Pushed>
struct MiscountedLeaf : expr_tag {
    using value_type = double;
    static constexpr std::size_t rank = 1;
    static constexpr std::size_t own_cursors = 1;
    static constexpr bool needs_grad = false;
    static constexpr bool is_boundary = false;
    Tensor<double, 1> t = xt::ones<double>({4});
    Cursor<double> a, b;
    void prepare() {}
    Shape<1> shape() const { return {4}; }
    void collect(CursorSink<double>& s) {
        a.bind(t.data(), t.shape());
        b.bind(t.data(), t.shape());
        if (Pushed > 0) s.push(a);
        if (Pushed > 1) s.push(b);
    }
    template <class V>
    LeafTape<V> fwd(std::size_t j) const { return {a.template load<V>(j)}; }
    template <class V, class Tp>
    void bwd(const Tp&, const V&, std::size_t) {}
    template <class F>
    void for_each_boundary(F&&) {}
    const double* materialize(Scratch<double>&) { return t.data(); }
    template <class Up>
    void backward(Up&) {}
};
static_assert(FusedNode<MiscountedLeaf<1>>);
}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(cursor_counts_are_checked) {
    BOOST_TEST(eval(MiscountedLeaf<1>{} * 2.0)(3) == 2.0);
    BOOST_CHECK_THROW(eval(MiscountedLeaf<2>{} * 2.0), std::logic_error);
    BOOST_CHECK_THROW(eval(MiscountedLeaf<0>{} * 2.0), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
