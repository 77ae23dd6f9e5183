// Table reader and column whitening.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>

#include <sys/stat.h>

#include <ctgrad/data/normalize.hpp>
#include <ctgrad/data/table.hpp>

#include "helpers.hpp"

namespace data = ctgrad::data;
using namespace ctgrad_test;

BOOST_AUTO_TEST_SUITE(table_reader)

BOOST_AUTO_TEST_CASE(tabs_spaces_crlf_trailing_blank_lines) {
    TempDir tmp;
    const auto p = tmp.write("t.dat", std::string("800\t0\t0.3048\t71.3\r\n"
                                                  "  -1.5e-3   +2 \t 3.25\t1E2\r\n"
                                                  "7 8 9 10\r\n"
                                                  "\r\n \t \n\n"));
    const auto t = data::read_table(p);
    static_assert(std::is_same_v<decltype(t), const ctgrad::Tensor<double, 2>>);
    BOOST_TEST_REQUIRE(t.shape(0) == 3u);
    BOOST_TEST_REQUIRE(t.shape(1) == 4u);
    BOOST_TEST(t(0, 0) == 800.0);
    BOOST_TEST(t(0, 2) == 0.3048);
    BOOST_TEST(t(1, 0) == -1.5e-3);
    BOOST_TEST(t(1, 1) == 2.0);
    BOOST_TEST(t(1, 3) == 100.0);
    BOOST_TEST(t(2, 3) == 10.0);

    const auto f = data::read_table<float>(p);
    static_assert(std::is_same_v<decltype(f), const ctgrad::Tensor<float, 2>>);
    BOOST_TEST(f(0, 2) == 0.3048f);  // rounded from the double value, like numpy's float32 cast

    // No final newline at all.
    const auto q = data::read_table(tmp.write("nofinal.dat", std::string("1 2\n3 4")));
    BOOST_TEST(q.shape(0) == 2u);
    BOOST_TEST(q(1, 1) == 4.0);
}

BOOST_AUTO_TEST_CASE(non_numeric_field) {
    TempDir tmp;
    const auto p = tmp.write("bad.dat", std::string("1\t2\t3\r\n4\tabc\t6\r\n"));
    BOOST_TEST(error_of([&] { data::read_table(p); }) ==
               p.string() + ": line 2, field 2 (column 3): expected a number, found \"abc\"");
    const auto q = tmp.write("partial.dat", std::string("1 2 3\n4 5 6.0x\n"));
    BOOST_TEST(error_of([&] { data::read_table(q); }) ==
               q.string() + ": line 2, field 3 (column 5): expected a number, found \"6.0x\"");
    const auto c = tmp.write("comma.dat", std::string("1,2,3\n"));
    BOOST_TEST(error_of([&] { data::read_table(c); }) ==
               c.string() + ": line 1, field 1 (column 1): expected a number, found \"1,2,3\"");
    const auto n = tmp.write("nan.dat", std::string("1 nan\n"));
    BOOST_TEST(error_of([&] { data::read_table(n); }) ==
               n.string() + ": line 1, field 2 (column 3): expected a finite number, found \"nan\"");
    const auto big = tmp.write("big.dat", std::string("1e300\n"));
    BOOST_CHECK_NO_THROW(data::read_table(big));
    BOOST_TEST(error_of([&] { data::read_table<float>(big); }) ==
               big.string() + ": line 1, field 1 (column 1): expected a finite number in the range of float, found \"1e300\"");
    const auto huge = tmp.write("huge.dat", std::string("1e999\n"));
    BOOST_TEST(error_of([&] { data::read_table(huge); }) ==
               huge.string() + ": line 1, field 1 (column 1): expected a number in the range of double, found \"1e999\"");
    const auto ctl = tmp.write("ctl.dat", std::string("1 2\x01\n"));
    BOOST_TEST(error_of([&] { data::read_table(ctl); }) ==
               ctl.string() + ": line 1, field 2 (column 3): expected a number, found \"2\\x01\"");
}

BOOST_AUTO_TEST_CASE(ragged_rows) {
    TempDir tmp;
    const auto p = tmp.write("ragged.dat", std::string("1 2 3\n4 5 6\n7 8\n"));
    BOOST_TEST(error_of([&] { data::read_table(p); }) == p.string() + ": line 3: expected 3 fields (as on line 1), found 2");
    const auto q = tmp.write("long.dat", std::string("1 2\r\n3 4 5\r\n"));
    BOOST_TEST(error_of([&] { data::read_table(q); }) == q.string() + ": line 2: expected 2 fields (as on line 1), found 3");
}

BOOST_AUTO_TEST_CASE(blank_lines_inside) {
    TempDir tmp;
    const auto p = tmp.write("gap.dat", std::string("1 2\n\n3 4\n"));
    BOOST_TEST(error_of([&] { data::read_table(p); }) ==
               p.string() + ": line 2: blank line before or inside the data (blank lines are accepted only at the end)");
}

BOOST_AUTO_TEST_CASE(empty) {
    TempDir tmp;
    const auto p = tmp.write("empty.dat", std::string());
    BOOST_TEST(error_of([&] { data::read_table(p); }) ==
               p.string() + ": line 1: expected at least one row of numbers, found an empty file");
    const auto q = tmp.write("blank.dat", std::string("\r\n  \n"));
    BOOST_TEST(error_of([&] { data::read_table(q); }) ==
               q.string() + ": line 1: expected at least one row of numbers, found only blank lines");
    const auto m = tmp.dir / "missing.dat";
    BOOST_TEST(error_of([&] { data::read_table(m); }) == m.string() + ": cannot open: file not found");
}

BOOST_AUTO_TEST_CASE(not_a_regular_file) {
    // A device never ends and a FIFO blocks until a writer comes: both are refused before reading.
    BOOST_TEST(error_of([&] { data::read_table("/dev/zero"); }) ==
               "/dev/zero: cannot open: it is a character device; expected a regular file");
    TempDir tmp;
    const auto fifo = tmp.dir / "fifo";
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(error_of([&] { data::read_table(fifo); }) ==
               fifo.string() + ": cannot open: it is a FIFO (named pipe); expected a regular file");
}

BOOST_AUTO_TEST_CASE(size_limits) {
    TempDir tmp;
    // A line longer than the limit (a binary file without newlines) fails at that line.
    const auto p = tmp.write("long-line.dat", "1 2\n" + std::string(data::max_table_line_bytes + 1, '7') + "\n");
    BOOST_TEST(error_of([&] { data::read_table(p); }) ==
               p.string() + ": line 2: longer than " + std::to_string(data::max_table_line_bytes) +
                   " bytes, the most a table line may have (is this a text table?)");
    const auto ok = tmp.write("long-ok.dat", std::string(data::max_table_line_bytes, '7') + "\n");
    BOOST_CHECK_THROW(data::read_table(ok), data::DataError);  // parsed (and refused as out of range), not cut
    CHECK_CONTAINS(error_of([&] { data::read_table(ok); }), "line 1, field 1");
    // A file above the total limit is refused before it is read (a sparse file: no disk space used).
    const auto big = tmp.dir / "big.dat";
    { std::ofstream touch(big); }
    std::filesystem::resize_file(big, data::max_table_bytes + 1);
    BOOST_TEST(error_of([&] { data::read_table(big); }) ==
               big.string() + ": more than " + std::to_string(data::max_table_bytes) +
                   " bytes, the most a table may have (is this the right file?)");
}

BOOST_AUTO_TEST_CASE(whiten_population_std) {
    // numpy: x = [[1, 10], [2, 20], [3, 30], [4, 70]]; (x - x.mean(0)) / x.std(0)
    ctgrad::Tensor<double, 2> t = {{1, 10}, {2, 20}, {3, 30}, {4, 70}};
    const auto s = data::whiten_columns(t);
    BOOST_TEST(s.mean(0) == 2.5);
    BOOST_TEST(s.mean(1) == 32.5);
    BOOST_TEST(s.std(0) == std::sqrt(1.25), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(s.std(1) == std::sqrt(518.75), boost::test_tools::tolerance(1e-15));
    const double want0[] = {-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738};
    const double want1[] = {-0.9878783399072131, -0.5488212999484517, -0.10976425998969035, 1.6464638998453551};
    for (std::size_t r = 0; r < 4; ++r) {
        BOOST_TEST(t(r, 0) == want0[r], boost::test_tools::tolerance(1e-12));
        BOOST_TEST(t(r, 1) == want1[r], boost::test_tools::tolerance(1e-12));
    }
    ctgrad::Tensor<float, 2> f = {{1.f}, {2.f}, {3.f}, {4.f}};
    data::whiten_columns(f);
    BOOST_TEST(f(3, 0) == 1.3416408f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(whiten_rejects_constant_column) {
    ctgrad::Tensor<double, 2> t = {{1, 5}, {2, 5}};
    BOOST_TEST(error_of([&] { data::whiten_columns(t); }) ==
               "whiten_columns: column 1 has zero (or non-finite) standard deviation; it cannot be whitened");
    ctgrad::Tensor<double, 2> e = ctgrad::Tensor<double, 2>::from_shape({0, 3});
    BOOST_TEST(error_of([&] { data::whiten_columns(e); }) == "whiten_columns: the table has no rows");
    // With the source named (load_airfoil passes the file), the message starts with it and counts
    // fields from 1 like the table reader.
    BOOST_TEST(error_of([&] { data::whiten_columns(t, "air.dat"); }) ==
               "air.dat: field 2 of every row is the same value (zero standard deviation); it cannot be whitened");
}

BOOST_AUTO_TEST_SUITE_END()
