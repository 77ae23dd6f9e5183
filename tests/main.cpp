// The one translation unit that defines the Boost.Test module (and its main) for every test program.
#define BOOST_TEST_MODULE ctgrad
#include <boost/test/unit_test.hpp>
