// dist::all_reduce, broadcast and all_ok on known values. Run with any number of ranks (meson runs
// it under `mpirun -np 2` when MPI is found, and as one process).
#include <cstdint>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/dist/dist.hpp>

#include "mpi_fixture.hpp"

using namespace ctgrad;

BOOST_AUTO_TEST_SUITE(dist_all_reduce)

BOOST_AUTO_TEST_CASE(world_is_consistent) {
    BOOST_TEST(dist::size() >= 1);
    BOOST_TEST(dist::rank() >= 0);
    BOOST_TEST(dist::rank() < dist::size());
    BOOST_TEST(dist::is_root() == (dist::rank() == 0));
    BOOST_TEST(dist::describe_rank() == "rank " + std::to_string(dist::rank()) + " of " + std::to_string(dist::size()));
    if (dist::size() > 1) BOOST_TEST(dist::initialized());
}

// Rank r contributes (r + 1) * (i + 1) to element i: the sum is (i + 1) N (N + 1) / 2 exactly.
BOOST_AUTO_TEST_CASE(sum_and_mean_of_float_tensor) {
    const int n = dist::size(), r = dist::rank();
    Tensor<float, 2> t = Tensor<float, 2>::from_shape({3, 5});
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = float((r + 1) * int(i + 1));
    dist::all_reduce(t);
    for (std::size_t i = 0; i < t.size(); ++i) BOOST_TEST(t.data()[i] == float((i + 1) * std::size_t(n * (n + 1) / 2)));

    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = float((r + 1) * int(i + 1));
    dist::all_reduce(t, dist::Reduce::mean);
    for (std::size_t i = 0; i < t.size(); ++i)
        BOOST_TEST(t.data()[i] == float(i + 1) * float(n + 1) / 2.f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(sum_of_doubles_and_counts) {
    const int n = dist::size(), r = dist::rank();
    Tensor<double, 1> d = {0.5 * (r + 1), -1.25, 1e300 / n};
    dist::all_reduce(d);
    BOOST_TEST(d(0) == 0.25 * n * (n + 1));
    BOOST_TEST(d(1) == -1.25 * n);
    BOOST_TEST(d(2) == 1e300, boost::test_tools::tolerance(1e-12));

    std::vector<std::uint64_t> counts = {std::uint64_t(r), (std::uint64_t(1) << 40) + 1};
    dist::all_reduce(std::span<std::uint64_t>(counts));
    BOOST_TEST(counts[0] == std::uint64_t(n * (n - 1) / 2));
    BOOST_TEST(counts[1] == std::uint64_t(n) * ((std::uint64_t(1) << 40) + 1));
    BOOST_CHECK_THROW(dist::all_reduce(std::span<std::uint64_t>(counts), dist::Reduce::mean), std::invalid_argument);

    std::vector<float> empty;  // no elements: nothing to do, on every rank
    dist::all_reduce(std::span<float>(empty));
}

BOOST_AUTO_TEST_CASE(broadcast_from_root_and_agreement) {
    Tensor<float, 1> t = {float(dist::rank()) + 0.5f, -float(dist::rank())};
    dist::broadcast(t, 0);
    BOOST_TEST(t(0) == 0.5f);
    BOOST_TEST(t(1) == 0.f);
    if (dist::size() > 1) {
        Tensor<double, 1> u = {double(dist::rank())};
        dist::broadcast(u, dist::size() - 1);
        BOOST_TEST(u(0) == double(dist::size() - 1));
    }
    BOOST_TEST(dist::all_ok(true));
    BOOST_TEST(!dist::all_ok(dist::rank() != dist::size() - 1));  // the last rank says no: all see it
    dist::barrier();
}

// MPI failures come back as dist::Error naming the rank (MPI_ERRORS_RETURN): a broadcast from a
// root that does not exist is refused by MPI's argument check on every rank alike.
BOOST_AUTO_TEST_CASE(mpi_error_becomes_exception_naming_the_rank) {
    if (dist::size() == 1) return;  // a single process makes no MPI call
    Tensor<float, 1> t = {1.f};
    try {
        dist::broadcast(t, dist::size() + 3);
        BOOST_FAIL("broadcast from a missing root did not throw");
    } catch (const dist::Error& e) {
        BOOST_TEST(e.rank() == dist::rank());
        BOOST_TEST(std::string(e.what()).find("rank " + std::to_string(dist::rank()) + " of ") == 0);
        BOOST_TEST(std::string(e.what()).find("MPI_Bcast") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
