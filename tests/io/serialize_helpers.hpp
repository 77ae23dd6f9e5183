#pragma once
// Shared by the serialization tests (test_serialize.cpp, test_checkpoint.cpp): a temporary folder,
// a model's parameter bytes, and the message of an expected io::FormatError.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <stdlib.h>  // mkdtemp
#include <filesystem>
#include <string>
#include <vector>

#include <ctgrad/io/npz.hpp>
#include <ctgrad/nn/serialize.hpp>

namespace fs = std::filesystem;

namespace serialize_test {
/// A fresh folder for this test program's files, removed at exit.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "ctgrad-serialize-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~TempDir() { fs::remove_all(path); }
};
inline TempDir& tmp() {
    static TempDir d;
    return d;
}

/// Every parameter's bytes, in state-dict order.
template <class M>
std::vector<std::string> snapshot(M& m) {
    std::vector<std::string> s;
    ctgrad::nn::for_each_state(m, [&](const std::string&, auto& p, bool) {
        s.emplace_back(reinterpret_cast<const char*>(p.value().data()), p.value().size() * sizeof(p.value()(0)));
    });
    return s;
}

/// The message of the io::FormatError that f throws (fails the test if it throws nothing).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ctgrad::io::FormatError& e) {
        return e.what();
    }
    BOOST_FAIL("no io::FormatError thrown");
    return {};
}

}  // namespace serialize_test

#define CHECK_HAS(msg, part) BOOST_CHECK_MESSAGE((msg).find(part) != std::string::npos, "'" << (msg) << "' lacks '" << (part) << "'")
