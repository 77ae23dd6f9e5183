#pragma once
/// \file The one exception type of the data layer.
#include <stdexcept>
#include <string>

namespace ctgrad::data {

/// Thrown by every reader, loader and path helper of ctgrad::data when data is missing, malformed or
/// inconsistent. The message names the file, the position (byte offset, or line and field) and what was
/// expected, e.g. `train-images-idx3-ubyte.gz: byte 0: expected IDX magic 0x00000803 (images), found
/// 0x00000801 (labels)`. Example programs map it to exit status 3.
class DataError : public std::runtime_error {
public:
    /// `what`: the message, naming the file, the position and what was expected.
    explicit DataError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ctgrad::data
