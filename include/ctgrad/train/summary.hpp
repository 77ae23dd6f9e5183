#pragma once
/// \file summary.json: the final figures of a run (docs/trainers.md), written with nlohmann_json.
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <ctgrad/io/atomic_file.hpp>

namespace ctgrad::train {

/// A run summary: a JSON object that keeps its keys in insertion order. Fill it like a map:
/// `s["loss"] = 0.243; s["sec_per_epoch"] = 0.012;`.
using Summary = nlohmann::ordered_json;

/// Writes `summary` (pretty-printed) to `dir`/summary.json, crash-safely (io::write_file_atomic),
/// and returns the path. Throws
/// std::runtime_error naming the file if it cannot be written. Non-finite numbers become null (JSON
/// has no NaN).
inline std::filesystem::path write_summary(const std::filesystem::path& dir, const Summary& summary) {
    const auto path = dir / "summary.json";
    io::write_file_atomic(path, summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return path;
}

}  // namespace ctgrad::train
