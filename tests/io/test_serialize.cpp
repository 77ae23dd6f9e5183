// nn::save / nn::load: bit-identical round trips (LeNet, the dropout MLP, loose Params; float and
// double), PyTorch's keys and layouts, and every kind of bad file with an error naming the file,
// the key and what was expected, leaving the model untouched.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/nn/models.hpp>
#include <ctgrad/nn/serialize.hpp>

#include "serialize_helpers.hpp"

using namespace ctgrad;
using namespace serialize_test;

namespace {

template <class T>
void lenet_round_trip() {
    nn::manual_seed(1);
    auto a = nn::lenet<T>();
    nn::manual_seed(2);
    auto b = nn::lenet<T>();
    BOOST_REQUIRE(snapshot(a) != snapshot(b));
    const fs::path f = tmp().path / ("lenet_" + std::to_string(sizeof(T)) + ".npz");
    nn::save(a, f);
    nn::load(b, f);
    BOOST_TEST((snapshot(a) == snapshot(b)));
    // Same logits, bit for bit.
    Tensor<T, 4> x = xt::ones<T>({3, 1, 28, 28}) * T(0.25);
    a.eval(), b.eval();
    const Tensor<T, 2> la = eval(a(x)), lb = eval(b(x));
    BOOST_TEST(std::memcmp(la.data(), lb.data(), la.size() * sizeof(T)) == 0);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(serialize)

BOOST_AUTO_TEST_CASE(lenet_float_round_trip) { lenet_round_trip<float>(); }
BOOST_AUTO_TEST_CASE(lenet_double_round_trip) { lenet_round_trip<double>(); }

BOOST_AUTO_TEST_CASE(mlp_round_trip_float_and_double) {
    auto a = nn::dropout_mlp<float>(64, 32);
    auto b = nn::dropout_mlp<float>(64, 32);
    nn::init::uniform(b.template layer<1>().weight.value(), 0.3);
    nn::save(a, tmp().path / "mlp.npz");
    nn::load(b, tmp().path / "mlp.npz");
    BOOST_TEST((snapshot(a) == snapshot(b)));
    auto c = nn::dropout_mlp<double>(16, 8);
    auto d = nn::dropout_mlp<double>(16, 8);
    nn::init::uniform(d.template layer<7>().bias.value(), 0.3);
    nn::save(c, tmp().path / "mlp64.npz");
    nn::load(d, tmp().path / "mlp64.npz");
    BOOST_TEST((snapshot(c) == snapshot(d)));
}

BOOST_AUTO_TEST_CASE(pytorch_keys_and_layouts) {
    auto net = nn::lenet<float>();
    nn::save(net, tmp().path / "keys.npz");
    const auto arrays = io::read_npz(tmp().path / "keys.npz");
    std::vector<std::string> keys;
    for (const auto& a : arrays) keys.push_back(a.key + " " + a.shape_str() + " " + io::dtype_name(a.dtype));
    const std::vector<std::string> expected{
        "0.weight (6, 1, 5, 5) float32", "0.bias (6,) float32",    "3.weight (16, 6, 5, 5) float32",
        "3.bias (16,) float32",          "7.weight (120, 400) float32", "7.bias (120,) float32",
        "9.weight (84, 120) float32",    "9.bias (84,) float32",   "11.weight (10, 84) float32",
        "11.bias (10,) float32"};
    BOOST_TEST(keys == expected, boost::test_tools::per_element());
    // A Linear weight is stored (out, in): file[o][i] == W(i, o).
    const auto& w = net.template layer<7>().weight.value();
    const float* f = reinterpret_cast<const float*>(arrays[4].bytes.data());
    for (std::size_t o : {0u, 5u, 119u})
        for (std::size_t i : {0u, 17u, 399u}) BOOST_TEST(f[o * 400 + i] == w(i, o));
    // A Conv2d weight as held.
    const float* c = reinterpret_cast<const float*>(arrays[2].bytes.data());
    BOOST_TEST(c[3 * 150 + 2 * 25 + 7] == net.template layer<3>().weight.value()(3, 2, 1, 2));
}

BOOST_AUTO_TEST_CASE(loose_and_named_params) {
    Param<float, 2> w(xt::xtensor<float, 2>{{1.5f, -2.f, 3.f}, {4.f, 5.f, 6.25f}});
    Param<double, 1> b(xt::xtensor<double, 1>{0.1, -0.2});
    nn::save(optim::params(w, b), tmp().path / "loose.npz");
    const auto arrays = io::read_npz(tmp().path / "loose.npz");
    BOOST_REQUIRE(arrays.size() == 2u);
    BOOST_TEST(arrays[0].key == "0");
    BOOST_TEST((arrays[0].shape == std::vector<std::size_t>{2, 3}));  // as held, not transposed
    BOOST_TEST(arrays[1].key == "1");
    BOOST_TEST((arrays[1].dtype == io::DType::f8));
    Param<float, 2> w2(xt::zeros<float>({2, 3}));
    Param<double, 1> b2(xt::zeros<double>({2}));
    nn::load(optim::params(w2, b2), tmp().path / "loose.npz");
    BOOST_TEST((w2.value() == w.value()));
    BOOST_TEST((b2.value() == b.value()));

    nn::save(nn::named(optim::params(w, b), {"w", "b"}), tmp().path / "named.npz");
    Param<float, 2> w3(xt::zeros<float>({2, 3}));
    Param<double, 1> b3(xt::zeros<double>({2}));
    nn::load(nn::named(optim::params(w3, b3), {"w", "b"}), tmp().path / "named.npz");
    BOOST_TEST((w3.value() == w.value()));
    BOOST_TEST((b3.value() == b.value()));
    BOOST_CHECK_THROW(nn::named(optim::params(w3, b3), {"w", "w"}), std::invalid_argument);
    // Loose keys are not the named ones.
    const auto msg = error_of([&] { nn::load(nn::named(optim::params(w3, b3), {"w", "b"}), tmp().path / "loose.npz"); });
    CHECK_HAS(msg, "missing key 'w'");
    CHECK_HAS(msg, "unexpected key '0'");
}

BOOST_AUTO_TEST_CASE(wrong_architecture_names_key_and_both_shapes) {
    auto big = nn::dropout_mlp<float>(256, 256);
    auto small = nn::dropout_mlp<float>(128, 256);
    const fs::path f = tmp().path / "mlp256.npz";
    nn::save(big, f);
    const auto before = snapshot(small);
    const auto msg = error_of([&] { nn::load(small, f); });
    CHECK_HAS(msg, f.string());
    CHECK_HAS(msg, "'1.weight'");
    CHECK_HAS(msg, "(128, 784)");
    CHECK_HAS(msg, "(256, 784)");
    CHECK_HAS(msg, "'4.weight'");
    BOOST_TEST((snapshot(small) == before));  // untouched: the first layer fits, but nothing was written
    auto lenet = nn::lenet<float>();
    const auto msg2 = error_of([&] { nn::load(lenet, f); });
    CHECK_HAS(msg2, "missing key '0.weight' (expected float32 (6, 1, 5, 5))");
}

BOOST_AUTO_TEST_CASE(missing_extra_and_dtype) {
    auto net = nn::lenet<float>();
    auto arrays = nn::state_arrays(net);
    const auto before = snapshot(net);
    auto missing = arrays;
    missing.pop_back();
    io::write_npz(tmp().path / "missing.npz", missing);
    auto fresh = nn::lenet<float>();
    auto msg = error_of([&] { nn::load(fresh, tmp().path / "missing.npz"); });
    CHECK_HAS(msg, "missing.npz");
    CHECK_HAS(msg, "missing key '11.bias' (expected float32 (10,))");

    auto extra = arrays;
    extra.push_back(io::to_array("12.weight", Tensor<float, 2>(xt::zeros<float>({3, 4}))));
    io::write_npz(tmp().path / "extra.npz", extra);
    msg = error_of([&] { nn::load(net, tmp().path / "extra.npz"); });
    CHECK_HAS(msg, "unexpected key '12.weight' (3, 4)");

    auto net64 = nn::lenet<double>();
    nn::save(net64, tmp().path / "lenet64.npz");
    msg = error_of([&] { nn::load(net, tmp().path / "lenet64.npz"); });
    CHECK_HAS(msg, "lenet64.npz");
    CHECK_HAS(msg, "key '0.weight': the file holds float64, expected float32");
    BOOST_TEST((snapshot(net) == before));
}

BOOST_AUTO_TEST_CASE(not_an_npz_truncated_corrupt_missing) {
    auto net = nn::lenet<float>();
    const auto before = snapshot(net);
    const fs::path good = tmp().path / "good.npz";
    nn::save(net, good);
    std::string bytes;
    {
        std::ifstream in(good, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto write = [&](const std::string& name, const std::string& b) {
        std::ofstream(tmp().path / name, std::ios::binary) << b;
        return tmp().path / name;
    };
    auto msg = error_of([&] { nn::load(net, write("text.npz", "epoch,loss\n1,0.5\n")); });
    CHECK_HAS(msg, "text.npz");
    CHECK_HAS(msg, "not a zip archive");
    for (std::size_t cut : {bytes.size() / 2, bytes.size() - 10, std::size_t(100), std::size_t(0)}) {
        const auto f = write("cut.npz", bytes.substr(0, cut));
        msg = error_of([&] { nn::load(net, f); });
        CHECK_HAS(msg, "cut.npz");
    }
    std::string flipped = bytes;
    flipped[bytes.size() / 3] ^= 0x5a;  // inside 0.weight or 3.weight's data: the CRC catches it
    msg = error_of([&] { nn::load(net, write("flipped.npz", flipped)); });
    CHECK_HAS(msg, "flipped.npz");
    msg = error_of([&] { nn::load(net, tmp().path / "no-such.npz"); });
    CHECK_HAS(msg, "no-such.npz: no such file");
    msg = error_of([&] { nn::load(net, tmp().path); });
    CHECK_HAS(msg, "is a directory");
    BOOST_TEST((snapshot(net) == before));
}

BOOST_AUTO_TEST_CASE(npy_header_errors) {
    io::NpyArray a{"x", io::DType::f4, {2, 3}, std::vector<std::byte>(24)};
    std::string npy = io::npy_bytes(a);
    BOOST_TEST(npy.size() % 64 == 24u % 64);  // header padded to 64, then the 24 data bytes
    auto parse = [](const std::string& s) {
        return io::parse_npy(reinterpret_cast<const std::byte*>(s.data()), s.size(), "t.npz: x.npy");
    };
    BOOST_TEST((parse(npy).shape == std::vector<std::size_t>{2, 3}));
    CHECK_HAS(error_of([&] { parse(npy.substr(0, npy.size() - 4)); }), "holds 20 data bytes");
    std::string be = npy;
    be.replace(be.find("<f4"), 3, ">f4");
    CHECK_HAS(error_of([&] { parse(be); }), "dtype '>f4' is not supported");
    std::string fortran = npy;
    fortran.replace(fortran.find("False"), 5, "True ");
    CHECK_HAS(error_of([&] { parse(fortran); }), "Fortran order");
    CHECK_HAS(error_of([&] { parse("hello"); }), "not a .npy array");
}

// The figures quoted in the README ("Saving, resuming and PyTorch"): run
//   build/tests/io/test_serialize --run_test=serialize/lenet_save_load_time --log_level=message
BOOST_AUTO_TEST_CASE(lenet_save_load_time) {
    auto net = nn::lenet<float>();
    const fs::path f = tmp().path / "timed.npz";
    using clock = std::chrono::steady_clock;
    constexpr int n = 20;
    std::vector<double> save_ms, load_ms;
    for (int i = 0; i < n; ++i) {
        const auto t0 = clock::now();
        nn::save(net, f);
        const auto t1 = clock::now();
        nn::load(net, f);
        const auto t2 = clock::now();
        save_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        load_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::sort(save_ms.begin(), save_ms.end());
    std::sort(load_ms.begin(), load_ms.end());
    BOOST_TEST_MESSAGE("LeNet (" << fs::file_size(f) << " bytes): save median " << save_ms[n / 2] << " ms (min "
                                 << save_ms[0] << ", max " << save_ms[n - 1] << "; includes 2 fsyncs), load median "
                                 << load_ms[n / 2] << " ms (min " << load_ms[0] << ", max " << load_ms[n - 1] << ")");
    BOOST_TEST(load_ms[n / 2] < 1000.0);
}

BOOST_AUTO_TEST_SUITE_END()
