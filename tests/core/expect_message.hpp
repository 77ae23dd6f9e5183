#pragma once
// expect_message<E>(f, {fragments}): passes when f throws E whose message contains every fragment.
#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string>
#include <typeinfo>

template <class E, class F>
void expect_message(F&& f, std::initializer_list<std::string> fragments) {
    try {
        f();
        BOOST_ERROR("expected " << typeid(E).name() << ", nothing was thrown");
    } catch (const E& e) {
        const std::string msg = e.what();
        for (const auto& frag : fragments) BOOST_TEST(msg.find(frag) != std::string::npos, "'" << msg << "' lacks '" << frag << "'");
    }
}
