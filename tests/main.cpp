// The one translation unit that defines the Boost.Test module (and its main) for every test program.
#define BOOST_TEST_MODULE ctgrad
#include <boost/test/unit_test.hpp>

#include <ctgrad/parallel/thread_pool.hpp>

namespace {
// Tests run the thread counts they ask for. With the pool's dynamic thread count, a busy machine
// (meson test runs programs side by side) would run their 2- and 3-thread cases on one thread, and
// a comparison of thread counts would compare serial runs. tests/parallel checks the dynamic count.
struct FixedThreadCounts {
    FixedThreadCounts() { ctgrad::parallel::set_dynamic(false); }
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(FixedThreadCounts);
