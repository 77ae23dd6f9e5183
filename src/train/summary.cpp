// summary.json (summary.hpp): the JSON serializer is compiled here once instead of in every trainer.
#include <ctgrad/train/summary.hpp>

#include <ctgrad/io/atomic_file.hpp>

namespace ctgrad::train {

std::filesystem::path write_summary(const std::filesystem::path& dir, const Summary& summary) {
    const auto path = dir / "summary.json";
    io::write_file_atomic(path, summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return path;
}

}  // namespace ctgrad::train
