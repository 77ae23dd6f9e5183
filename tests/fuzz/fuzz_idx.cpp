// libFuzzer target for the IDX readers (plain and gzip): any input must either load or throw
// DataError; a crash, a sanitizer report, a hang or an allocation far beyond the input is a bug.
// The images read must match the header: count x rows x cols bytes, all present.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <ctgrad/data/idx.hpp>

#include "input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& path = ctgrad_fuzz::write_input(data, size, ".idx");
    static const ctgrad_fuzz::RemoveAtExit cleanup{path};
    try {
        const auto images = ctgrad::data::read_idx_images(path);
        // A plain file that loads holds exactly the header and the pixels.
        if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b) && images.size() + 16 != size) std::abort();
        const auto f = ctgrad::data::to_float_images(images);
        if (f.size() != images.size()) std::abort();
    } catch (const ctgrad::data::DataError&) {
    }
    try {
        const auto labels = ctgrad::data::read_idx_labels(path);
        if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b) && labels.size() + 8 != size) std::abort();
        ctgrad::data::check_label_range(labels, 10, path);
    } catch (const ctgrad::data::DataError&) {
    }
    return 0;
}
