// Data-directory resolution, missing-file messages, and (when CTGRAD_DATA_DIR is set) the real files.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <optional>

#include <ctgrad/data/datasets.hpp>
#include <ctgrad/data/idx.hpp>
#include <ctgrad/data/table.hpp>

#include "helpers.hpp"

namespace data = ctgrad::data;
using namespace ctgrad_test;

namespace {

/// Sets or unsets CTGRAD_DATA_DIR for a scope and restores the previous value.
struct EnvGuard {
    std::optional<std::string> old;
    explicit EnvGuard(const char* value) {
        if (const char* v = std::getenv("CTGRAD_DATA_DIR")) old = v;
        if (value) ::setenv("CTGRAD_DATA_DIR", value, 1);
        else ::unsetenv("CTGRAD_DATA_DIR");
    }
    ~EnvGuard() {
        if (old) ::setenv("CTGRAD_DATA_DIR", old->c_str(), 1);
        else ::unsetenv("CTGRAD_DATA_DIR");
    }
};

boost::test_tools::assertion_result have_data_dir(boost::unit_test::test_unit_id) {
    const char* v = std::getenv("CTGRAD_DATA_DIR");
    boost::test_tools::assertion_result r(v && *v);
    r.message() << "CTGRAD_DATA_DIR is not set: skipping the tests that read the real data sets";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(datasets)

BOOST_AUTO_TEST_CASE(resolve_data_dir_precedence) {
    {
        EnvGuard env("/from/env");
        BOOST_TEST(data::resolve_data_dir(std::string("/from/flag")) == "/from/flag");
        BOOST_TEST(data::resolve_data_dir(std::nullopt) == "/from/env");
        BOOST_TEST(data::resolve_data_dir(std::string()) == "/from/env");  // empty flag = not given
    }
    {
        EnvGuard env(nullptr);
        BOOST_TEST(data::resolve_data_dir(std::nullopt) == "data");
    }
    {
        EnvGuard env("");
        BOOST_TEST(data::resolve_data_dir(std::nullopt) == "data");
    }
}

BOOST_AUTO_TEST_CASE(missing_files_say_how_to_get_them) {
    TempDir tmp;
    std::string m = error_of([&] { data::fashion_mnist_files(tmp.dir); });
    CHECK_CONTAINS(m, (tmp.dir / "fashion-mnist" / "train-images-idx3-ubyte.gz").string() + ": file not found");
    CHECK_CONTAINS(m, "data/download.sh " + tmp.dir.string());
    CHECK_CONTAINS(m, "CTGRAD_DATA_DIR");
    m = error_of([&] { data::airfoil_file(tmp.dir); });
    CHECK_CONTAINS(m, (tmp.dir / "airfoil" / "airfoil_self_noise.dat").string() + ": file not found");
    CHECK_CONTAINS(m, "data/download.sh " + tmp.dir.string());
    m = error_of([&] { data::load_airfoil(tmp.dir); });
    CHECK_CONTAINS(m, "airfoil_self_noise.dat: file not found");

    // Present but damaged: the reader's error names the file.
    std::filesystem::create_directories(tmp.dir / "airfoil");
    tmp.write("airfoil/airfoil_self_noise.dat", std::string("1 2 3\n4 5\n"));
    m = error_of([&] { data::load_airfoil(tmp.dir); });
    CHECK_CONTAINS(m, "airfoil_self_noise.dat: line 2: expected 3 fields");
    tmp.write("airfoil/airfoil_self_noise.dat", std::string("1 2 3 4 5 6\n2 3 4 5 6 7\n"));
    m = error_of([&] { data::load_airfoil(tmp.dir); });
    CHECK_CONTAINS(m, "airfoil_self_noise.dat: expected at least 1500 rows, found 2");
    const auto small = data::load_airfoil<double>(tmp.dir, 2);
    BOOST_TEST(small.features.shape(1) == 5u);
    BOOST_TEST(small.labels(0) == -1.0);  // whitened [6, 7]
    BOOST_TEST(small.labels(1) == 1.0);
}

BOOST_AUTO_TEST_CASE(empty_fashion_mnist_is_a_data_error) {
    // A valid IDX file may hold 0 images; as a training or test set it is an error naming the file.
    TempDir tmp;
    std::filesystem::create_directories(tmp.dir / "fashion-mnist");
    const auto write = [&](const char* name, std::uint32_t magic, std::uint32_t count) {
        std::vector<std::uint8_t> b;
        const auto put32 = [&](std::uint32_t v) {
            for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
        };
        put32(magic);
        put32(count);
        if (magic == 0x803) put32(28), put32(28);
        b.resize(b.size() + count * (magic == 0x803 ? 28 * 28 : 1), 0);  // label 0, black pixels
        tmp.write(std::string("fashion-mnist/") + name, b);
    };
    const auto files = [&](std::uint32_t n_train, std::uint32_t n_test) {
        write("train-images-idx3-ubyte.gz", 0x803, n_train);
        write("train-labels-idx1-ubyte.gz", 0x801, n_train);
        write("t10k-images-idx3-ubyte.gz", 0x803, n_test);
        write("t10k-labels-idx1-ubyte.gz", 0x801, n_test);
    };
    files(0, 2);
    BOOST_TEST(error_of([&] { data::load_fashion_mnist(tmp.dir); }) ==
               (tmp.dir / "fashion-mnist" / "train-images-idx3-ubyte.gz").string() +
                   ": byte 4: expected at least one image, found a count of 0 (empty data set)");
    files(3, 0);
    BOOST_TEST(error_of([&] { data::load_fashion_mnist(tmp.dir); }) ==
               (tmp.dir / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").string() +
                   ": byte 4: expected at least one image, found a count of 0 (empty data set)");
    files(3, 2);
    const auto d = data::load_fashion_mnist(tmp.dir);
    BOOST_TEST(d.train_images.shape(0) == 3u);
    BOOST_TEST(d.test_labels.size() == 2u);
}

BOOST_AUTO_TEST_CASE(constant_airfoil_column_names_the_file) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.dir / "airfoil");
    const auto p = tmp.write("airfoil/airfoil_self_noise.dat", std::string("1 2 3 4 5 6\n2 2 4 5 6 7\n"));
    BOOST_TEST(error_of([&] { data::load_airfoil(tmp.dir, 2); }) ==
               p.string() + ": field 2 of every row is the same value (zero standard deviation); it cannot be whitened");
}

BOOST_AUTO_TEST_CASE(real_fashion_mnist, *boost::unit_test::precondition(have_data_dir)) {
    const auto d = data::load_fashion_mnist(data::resolve_data_dir(std::nullopt));
    BOOST_TEST(d.train_images.shape(0) == 60000u);
    BOOST_TEST(d.train_images.shape(1) == 28u);
    BOOST_TEST(d.train_images.shape(2) == 28u);
    BOOST_TEST(d.test_images.shape(0) == 10000u);
    BOOST_TEST(d.train_labels.size() == 60000u);
    BOOST_TEST(d.test_labels.size() == 10000u);
    std::vector<std::size_t> counts(10, 0);
    for (auto l : d.train_labels) {
        BOOST_TEST_REQUIRE(l < 10);
        ++counts[l];
    }
    for (auto c : counts) BOOST_TEST(c == 6000u);  // Fashion-MNIST is balanced
    for (auto l : d.test_labels) BOOST_TEST_REQUIRE(l < 10);
    const auto f = data::to_float_images(d.test_images);
    BOOST_TEST(f.shape(1) == 1u);
    BOOST_TEST(*std::max_element(f.begin(), f.end()) <= 1.0f);
    BOOST_TEST(*std::max_element(f.begin(), f.end()) > 0.9f);
}

BOOST_AUTO_TEST_CASE(real_airfoil, *boost::unit_test::precondition(have_data_dir)) {
    const auto dir = data::resolve_data_dir(std::nullopt);
    const auto t = data::read_table(data::airfoil_file(dir));
    BOOST_TEST(t.shape(0) == 1503u);
    BOOST_TEST(t.shape(1) == 6u);
    BOOST_TEST(t(0, 0) == 800.0);
    BOOST_TEST(t(0, 4) == 0.00266337);
    BOOST_TEST(t(0, 5) == 126.201);
    const auto a = data::load_airfoil(dir);  // float, 1500 rows as d2l
    BOOST_TEST(a.features.shape(0) == 1500u);
    BOOST_TEST(a.features.shape(1) == 5u);
    BOOST_TEST(a.labels.size() == 1500u);
    // The first row is whitened with the mean and population std of all 1503 rows (not just 1500).
    double sum = 0;
    for (std::size_t r = 0; r < 1503; ++r) sum += t(r, 0);
    const double mean0 = sum / 1503;
    double ss = 0;
    for (std::size_t r = 0; r < 1503; ++r) ss += (t(r, 0) - mean0) * (t(r, 0) - mean0);
    BOOST_TEST(a.features(0, 0) == static_cast<float>((800.0 - mean0) / std::sqrt(ss / 1503)),
               boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_SUITE_END()
