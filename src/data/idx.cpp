// IDX readers. The file is streamed (plain, or through zlib's inflate when it starts with the gzip magic)
// so that a header claiming more data than the file can hold is rejected before anything is allocated,
// and so that every error can name the byte where it was found.
#include <ctgrad/data/idx.hpp>

#include "regular_file.hpp"

#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace ctgrad::data {
namespace {

namespace fs = std::filesystem;

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

/// The bytes of an IDX file, decompressed on the fly if it is gzip.
class ByteSource {
public:
    explicit ByteSource(const fs::path& path) : path_(path) {
        detail::require_regular_file(path);  // a FIFO would block, a device never end
        std::error_code ec;
        in_.open(path, std::ios::binary);
        if (!in_) throw DataError(path.string() + ": cannot open for reading");
        file_size_ = fs::file_size(path, ec);
        if (ec) file_size_ = 0;
        avail_ = load(0);
        gzip_ = avail_ >= 2 && buf_[0] == 0x1f && buf_[1] == 0x8b;
        if (gzip_) {
            zs_.next_in = buf_.data();
            zs_.avail_in = static_cast<uInt>(avail_);
            // 16 + MAX_WBITS: gzip wrapper only (we detected its magic); zlib then checks CRC-32 and length.
            if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK)
                throw DataError(path.string() + ": zlib could not be initialised");
            z_open_ = true;
        }
    }
    ~ByteSource() {
        if (z_open_) inflateEnd(&zs_);
    }
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    bool gzip() const { return gzip_; }
    std::uintmax_t file_size() const { return file_size_; }

    /// "<file>: byte N" for a position in the (decompressed) IDX data.
    std::string at(std::uint64_t offset) const {
        return path_.string() + ": byte " + std::to_string(offset) + (gzip_ ? " (decompressed)" : "");
    }

    /// Reads up to n bytes; fewer only at the end of the data. Throws on corrupt or truncated gzip.
    std::size_t read(std::uint8_t* dst, std::size_t n) { return gzip_ ? read_gzip(dst, n) : read_plain(dst, n); }

private:
    /// Reads from the file into buf_ after its first `keep` bytes; returns the number of bytes read.
    std::size_t load(std::size_t keep) {
        if (in_.eof()) return 0;
        in_.read(reinterpret_cast<char*>(buf_.data() + keep), static_cast<std::streamsize>(buf_.size() - keep));
        if (in_.bad()) throw DataError(path_.string() + ": read error");
        const auto n = static_cast<std::size_t>(in_.gcount());
        file_pos_ += n;
        return n;
    }

    std::size_t read_plain(std::uint8_t* dst, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            if (pos_ == avail_) {
                avail_ = load(0);
                pos_ = 0;
                if (avail_ == 0) break;
            }
            const std::size_t k = std::min(n - got, avail_ - pos_);
            std::copy_n(buf_.data() + pos_, k, dst + got);
            pos_ += k;
            got += k;
        }
        return got;
    }

    /// Moves the unconsumed input to the front of buf_ and appends more from the file.
    bool refill_z() {
        const std::size_t keep = zs_.avail_in;
        std::memmove(buf_.data(), zs_.next_in, keep);
        const std::size_t n = load(keep);
        zs_.next_in = buf_.data();
        zs_.avail_in = static_cast<uInt>(keep + n);
        return n > 0;
    }

    /// Offset in the compressed file of the next byte inflate would consume.
    std::uint64_t compressed_pos() const { return file_pos_ - zs_.avail_in; }

    std::size_t read_gzip(std::uint8_t* dst, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            if (stream_end_) {
                // A gzip file may hold several members back to back (gunzip accepts that); anything else
                // after the end of a member is garbage.
                if (zs_.avail_in < 2) refill_z();
                if (zs_.avail_in == 0) return got;
                if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b) {
                    char b[8];
                    std::snprintf(b, sizeof b, "0x%02x", zs_.next_in[0]);
                    throw DataError(path_.string() + ": compressed byte " + std::to_string(compressed_pos()) +
                                    ": expected end of file after the gzip stream, found trailing bytes (first " +
                                    b + ")");
                }
                if (inflateReset(&zs_) != Z_OK) throw DataError(path_.string() + ": zlib reset failed");
                stream_end_ = false;
                continue;
            }
            if (zs_.avail_in == 0 && !refill_z())
                throw DataError(path_.string() + ": compressed byte " + std::to_string(compressed_pos()) +
                                ": gzip stream truncated (the file ends before the end of the compressed data)");
            zs_.next_out = dst + got;
            const std::size_t want = std::min<std::size_t>(n - got, std::numeric_limits<uInt>::max());
            zs_.avail_out = static_cast<uInt>(want);
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            got += want - zs_.avail_out;
            if (rc == Z_STREAM_END) {
                stream_end_ = true;
            } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
                throw DataError(path_.string() + ": compressed byte " + std::to_string(compressed_pos()) +
                                ": corrupt gzip data (" + (zs_.msg ? zs_.msg : "inflate failed") + ")");
            } else if (rc == Z_MEM_ERROR) {
                throw DataError(path_.string() + ": out of memory while decompressing");
            }
            // Z_OK / Z_BUF_ERROR: inflate wants more input or more output; the loop provides either.
        }
        return got;
    }

    fs::path path_;
    std::ifstream in_;
    std::array<std::uint8_t, 1 << 16> buf_{};
    std::size_t avail_ = 0, pos_ = 0;  // plain mode: bytes in buf_, next to hand out
    std::uint64_t file_pos_ = 0;       // bytes read from the file so far
    std::uintmax_t file_size_ = 0;
    bool gzip_ = false, z_open_ = false, stream_end_ = false;
    z_stream zs_{};
};

std::string describe_magic(std::uint32_t m) {
    if (m == 0x00000803) return hex32(m) + " (images)";
    if (m == 0x00000801) return hex32(m) + " (labels)";
    if ((m >> 16) == 0 && (m & 0xff) > 0) {
        char b[64];
        std::snprintf(b, sizeof b, " (IDX type 0x%02x with %u dimensions)", (m >> 8) & 0xff, m & 0xff);
        return hex32(m) + b;
    }
    return hex32(m) + " (not an IDX file)";
}

std::uint32_t big_endian(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// Reads an unsigned-byte IDX file of `Rank` dimensions, validating header, length and end of file.
template <std::size_t Rank>
Tensor<std::uint8_t, Rank> read_idx(const fs::path& path, const char* kind, const char* unit) {
    ByteSource src(path);
    const std::uint32_t expected_magic = 0x00000800u | Rank;
    const std::size_t header = 4 + 4 * Rank;
    std::array<std::uint8_t, 4 + 4 * Rank> h{};
    const std::size_t hgot = src.read(h.data(), 4);
    if (hgot < 4)
        throw DataError(src.at(0) + ": expected IDX magic " + hex32(expected_magic) + " (" + kind +
                        "), but the file holds only " + std::to_string(hgot) + " bytes");
    const std::uint32_t magic = big_endian(h.data());
    if (magic != expected_magic)
        throw DataError(src.at(0) + ": expected IDX magic " + hex32(expected_magic) + " (" + kind + "), found " +
                        describe_magic(magic));
    const std::size_t dgot = src.read(h.data() + 4, 4 * Rank);
    if (dgot < 4 * Rank)
        throw DataError(src.at(4 + dgot) + ": expected " + std::to_string(Rank) +
                        " 4-byte dimensions after the magic, but the file ends there (truncated header)");

    static constexpr const char* dim_names[3] = {"count", "rows", "columns"};
    std::array<std::size_t, Rank> shape{};
    std::uint64_t total = 1;
    bool overflow = false;
    for (std::size_t d = 0; d < Rank; ++d) {
        shape[d] = big_endian(h.data() + 4 + 4 * d);
        if (d > 0 && shape[d] == 0)
            throw DataError(src.at(4 + 4 * d) + ": expected a positive number of " + dim_names[d] + ", found 0");
        if (shape[d] != 0 && total > std::numeric_limits<std::uint64_t>::max() / shape[d]) overflow = true;
        total *= shape[d];
    }
    std::string dims;
    for (std::size_t d = 0; d < Rank; ++d) dims += (d ? " x " : "") + std::to_string(shape[d]);

    // Reject impossible sizes before allocating: a plain file must hold exactly header + total bytes;
    // deflate cannot expand by more than 1032:1.
    const std::uint64_t limit =
        src.gzip() ? static_cast<std::uint64_t>(src.file_size()) * 1032 + 1024 : src.file_size();
    if (overflow || (src.file_size() > 0 && total > limit))
        throw DataError(src.at(4) + ": dimensions " + dims + " need " + (overflow ? "more than 2^64" : std::to_string(total)) +
                        " data bytes, more than this " + std::to_string(src.file_size()) + "-byte " +
                        (src.gzip() ? "gzip " : "") + "file can hold (wrong dimensions or truncated file)");

    // One item (an image: rows x columns) must be of a sane size even when the count is 0, where the
    // file-size check above cannot catch it (the tensor's strides would overflow; found by fuzzing).
    std::uint64_t item = 1;
    for (std::size_t d = 1; d < Rank; ++d) item *= shape[d];  // < 2^64: two 32-bit factors at most
    if (item > max_idx_item_bytes)
        throw DataError(src.at(8) + ": dimensions " + dims + " give " + std::to_string(item) +
                        "-byte items, more than the " + std::to_string(max_idx_item_bytes) +
                        " bytes an item may have (wrong dimensions?)");

    Tensor<std::uint8_t, Rank> out = Tensor<std::uint8_t, Rank>::from_shape(shape);
    const std::size_t got = src.read(out.data(), static_cast<std::size_t>(total));
    if (got < total)
        throw DataError(src.at(header + got) + ": expected " + std::to_string(total) + " bytes of " + unit +
                        " data (" + dims + ") after the " + std::to_string(header) +
                        "-byte header, but the data ends after " + std::to_string(got) + " (truncated file)");
    std::array<std::uint8_t, 4096> extra;
    const std::size_t more = src.read(extra.data(), extra.size());
    if (more > 0) {
        // A plain file's size gives the exact excess; for gzip we stop decompressing after one chunk.
        const std::string count = src.gzip() ? "at least " + std::to_string(more)
                                             : std::to_string(src.file_size() - header - total);
        throw DataError(src.at(header + total) + ": expected end of file after " + std::to_string(shape[0]) + " " +
                        kind + " (" + dims + "), found " + count + " trailing byte(s)");
    }
    return out;
}

}  // namespace

Tensor<std::uint8_t, 3> read_idx_images(const std::filesystem::path& path) {
    return read_idx<3>(path, "images", "pixel");
}

Tensor<std::uint8_t, 1> read_idx_labels(const std::filesystem::path& path) {
    return read_idx<1>(path, "labels", "label");
}

Tensor<float, 4> to_float_images(const Tensor<std::uint8_t, 3>& images) {
    Tensor<float, 4> out = Tensor<float, 4>::from_shape({images.shape(0), 1, images.shape(1), images.shape(2)});
    const std::uint8_t* src = images.data();
    float* dst = out.data();
    for (std::size_t i = 0, n = images.size(); i < n; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
    return out;
}

void check_same_count(const Tensor<std::uint8_t, 3>& images, const Tensor<std::uint8_t, 1>& labels,
                      const std::string& what) {
    if (images.shape(0) != labels.shape(0))
        throw DataError(what + ": expected one label per image, found " + std::to_string(images.shape(0)) +
                        " images and " + std::to_string(labels.shape(0)) + " labels");
}

void check_label_range(const Tensor<std::uint8_t, 1>& labels, unsigned num_classes,
                       const std::filesystem::path& file) {
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels(i) >= num_classes)
            throw DataError(file.string() + ": byte " + std::to_string(8 + i) + ": label " + std::to_string(i) +
                            " is " + std::to_string(labels(i)) + ", expected a class in 0.." +
                            std::to_string(num_classes - 1));
}

}  // namespace ctgrad::data
