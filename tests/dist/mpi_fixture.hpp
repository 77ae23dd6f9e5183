#pragma once
// A Boost.Test global fixture that brackets a test program with dist::init() / MPI_Finalize.
// Include from exactly one translation unit of a test program.
#include <optional>

#include <boost/test/unit_test.hpp>

#include <ctgrad/dist/environment.hpp>

namespace ctgrad::test {
struct MpiSession {
    MpiSession() {
        auto& suite = boost::unit_test::framework::master_test_suite();
        env.emplace(dist::init(suite.argc, suite.argv));
    }
    std::optional<dist::Environment> env;
};
}  // namespace ctgrad::test

using ctgrad::test::MpiSession;
BOOST_TEST_GLOBAL_FIXTURE(MpiSession);
