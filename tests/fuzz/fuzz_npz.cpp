// libFuzzer target for the weights/checkpoint reader (io::read_npz, io::parse_npy): any input must
// either load or throw io::FormatError; a crash, a sanitizer report, a hang or an allocation far
// beyond the input is a bug. Each input is tried both as a whole .npz archive and as a bare .npy
// member (so the header parser is reached without the zip container around it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <ctgrad/io/npz.hpp>

#include "input_file.hpp"

namespace {
void check(const ctgrad::io::NpyArray& a) {
    // What loads is self-consistent: the bytes are exactly the shape's elements.
    if (a.bytes.size() != a.elements() * ctgrad::io::dtype_size(a.dtype)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        check(ctgrad::io::parse_npy(reinterpret_cast<const std::byte*>(data), size, "fuzz.npy"));
    } catch (const ctgrad::io::FormatError&) {
    }
    const auto& path = ctgrad_fuzz::write_input(data, size, ".npz");
    static const ctgrad_fuzz::RemoveAtExit cleanup{path};
    try {
        for (const auto& a : ctgrad::io::read_npz(path)) check(a);
    } catch (const ctgrad::io::FormatError&) {
    }
    return 0;
}
