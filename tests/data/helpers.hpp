#pragma once
// Test helpers: a fresh directory per test under the system temp dir, removed afterwards, and file writers.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <ctgrad/data/error.hpp>

#include <unistd.h>

namespace ctgrad_test {

struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        std::random_device rd;
        dir = std::filesystem::temp_directory_path() /
              ("ctgrad_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
        std::filesystem::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// Writes `bytes` to dir/name and returns the path.
    std::filesystem::path write(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
        const auto p = dir / name;
        std::ofstream out(p, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        return p;
    }
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        return write(name, std::vector<std::uint8_t>(text.begin(), text.end()));
    }
};

/// Runs f, requires a DataError, and returns its message.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ctgrad::data::DataError& e) {
        BOOST_TEST_MESSAGE("DataError: " << e.what());
        return e.what();
    }
    BOOST_FAIL("expected a DataError");
    return {};
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define CHECK_CONTAINS(msg, part) BOOST_CHECK_MESSAGE(::ctgrad_test::contains(msg, part), "message \"" << msg << "\" lacks \"" << part << "\"")

}  // namespace ctgrad_test
