#pragma once
/// \file summary.json: the final figures of a run (docs/trainers.md), written with nlohmann_json.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace ctgrad::train {

/// A run summary: a JSON object that keeps its keys in insertion order. Fill it like a map:
/// `s["loss"] = 0.243; s["sec_per_epoch"] = 0.012;`.
using Summary = nlohmann::ordered_json;

/// Writes `summary` (pretty-printed) to `dir`/summary.json, crash-safely (io::write_file_atomic),
/// and returns the path. Throws
/// std::runtime_error naming the file if it cannot be written. Non-finite numbers become null (JSON
/// has no NaN).
std::filesystem::path write_summary(const std::filesystem::path& dir, const Summary& summary);

}  // namespace ctgrad::train
