// train::Checkpoint's file I/O (checkpoint.hpp): the JSON parser and serializer are compiled here
// once instead of in every trainer.
#include <ctgrad/train/checkpoint.hpp>

#include <algorithm>

#include <ctgrad/io/npz.hpp>

namespace ctgrad::train {

void Checkpoint::save(const std::filesystem::path& path) const {
    nlohmann::ordered_json m = {{"format", format_name}, {"format_version", format_version}};
    for (auto it = meta.begin(); it != meta.end(); ++it)
        if (it.key() != "format" && it.key() != "format_version") m[it.key()] = it.value();
    const std::string text = m.dump();
    Tensor<std::uint8_t, 1> bytes = Tensor<std::uint8_t, 1>::from_shape({text.size()});
    std::copy(text.begin(), text.end(), bytes.begin());
    std::vector<io::NpyArray> all = arrays;
    all.push_back(io::to_array("meta", bytes));
    io::write_npz(path, all);
}

Checkpoint Checkpoint::read(const std::filesystem::path& path) {
    Checkpoint c;
    c.source = path.string();
    c.arrays = io::read_npz(path);
    auto it = std::find_if(c.arrays.begin(), c.arrays.end(), [](const auto& a) { return a.key == "meta"; });
    if (it == c.arrays.end() || it->dtype != io::DType::u1 || it->shape.size() != 1)
        throw io::FormatError(c.source + ": not a ctgrad checkpoint (no uint8 'meta' array; a weights file is "
                                         "read with nn::load / --load)");
    const std::string text(reinterpret_cast<const char*>(it->bytes.data()), it->bytes.size());
    c.arrays.erase(it);
    c.meta = nlohmann::ordered_json::parse(text, nullptr, false);
    if (c.meta.is_discarded() || !c.meta.is_object())
        throw io::FormatError(c.source + ": the checkpoint's 'meta' is not a JSON object");
    if (c.meta.value("format", "") != format_name || c.meta.value("format_version", 0) != format_version)
        throw io::FormatError(c.source + ": expected format " + format_name + " version " +
                              std::to_string(format_version) + ", found " + c.meta.value("format", "?") + " version " +
                              std::to_string(c.meta.value("format_version", 0)));
    return c;
}

const nlohmann::ordered_json& Checkpoint::need(const std::string& key) const {
    if (!meta.contains(key)) throw io::FormatError(source + ": the checkpoint's meta has no '" + key + "'");
    return meta[key];
}

}  // namespace ctgrad::train
