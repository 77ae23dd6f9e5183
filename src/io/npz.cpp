// .npy writer and strict parser (ours: the header is a few lines of Python-literal text, and we want
// every malformed file to fail with a message naming it), .npz container through libzip.
#include <ctgrad/io/npz.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include <zip.h>

#include <ctgrad/io/atomic_file.hpp>

namespace ctgrad::io {

namespace {
constexpr char magic[] = "\x93NUMPY";
// No member of a weights file comes near this; it bounds what a corrupt (or hostile) size field or a
// deflate bomb can make us allocate.
constexpr std::uint64_t max_member_bytes = std::uint64_t(1) << 34;

std::string cat(std::initializer_list<std::string_view> parts) {
    std::string s;
    for (auto p : parts) s.append(p);
    return s;
}

bool parse_descr(std::string_view d, DType& t) {
    if (d == "<f4") t = DType::f4;
    else if (d == "<f8") t = DType::f8;
    else if (d == "|u1" || d == "<u1" || d == ">u1") t = DType::u1;
    else if (d == "<i8") t = DType::i8;
    else if (d == "<u8") t = DType::u8;
    else return false;
    return true;
}

/// A minimal reader of the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
class HeaderParser {
public:
    HeaderParser(std::string_view h, const std::string& where) : h_(h), where_(where) {}

    std::string_view value_after(std::string_view key) {
        const std::string k = cat({"'", key, "'"});
        std::size_t p = h_.find(k);
        if (p == std::string_view::npos) {
            const std::string k2 = cat({"\"", key, "\""});
            p = h_.find(k2);
            if (p == std::string_view::npos) fail(cat({"the .npy header has no '", key, "' entry"}));
            p += k2.size();
        } else {
            p += k.size();
        }
        while (p < h_.size() && h_[p] == ' ') ++p;
        if (p >= h_.size() || h_[p] != ':') fail(cat({"the .npy header's '", key, "' has no ':'"}));
        ++p;
        while (p < h_.size() && h_[p] == ' ') ++p;
        return h_.substr(p);
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw FormatError(cat({where_, ": ", what, " (header: ", std::string(h_.substr(0, 200)), ")"}));
    }

private:
    std::string_view h_;
    const std::string& where_;
};
}  // namespace

std::size_t dtype_size(DType t) noexcept {
    switch (t) {
        case DType::f4: return 4;
        case DType::f8: return 8;
        case DType::u1: return 1;
        case DType::i8: return 8;
        case DType::u8: return 8;
    }
    return 0;
}
const char* dtype_descr(DType t) noexcept {
    switch (t) {
        case DType::f4: return "<f4";
        case DType::f8: return "<f8";
        case DType::u1: return "|u1";
        case DType::i8: return "<i8";
        case DType::u8: return "<u8";
    }
    return "?";
}
const char* dtype_name(DType t) noexcept {
    switch (t) {
        case DType::f4: return "float32";
        case DType::f8: return "float64";
        case DType::u1: return "uint8";
        case DType::i8: return "int64";
        case DType::u8: return "uint64";
    }
    return "?";
}

std::size_t NpyArray::elements() const noexcept {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}
std::string shape_str(const std::vector<std::size_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}
std::string NpyArray::shape_str() const { return io::shape_str(shape); }

std::string npy_bytes(const NpyArray& a) {
    if (a.bytes.size() != a.elements() * dtype_size(a.dtype))
        throw std::invalid_argument(cat({"npy_bytes: array '", a.key, "' of shape ", a.shape_str(), " holds ",
                                         std::to_string(a.bytes.size()), " bytes"}));
    std::string header = cat({"{'descr': '", dtype_descr(a.dtype), "', 'fortran_order': False, 'shape': ",
                              a.shape_str(), ", }"});
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64 (NumPy >= 1.24).
    const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
    header.append(total - 10 - header.size() - 1, ' ');
    header += '\n';
    std::string out(magic, 6);
    out += char(1);
    out += char(0);
    out += char(header.size() & 0xff);
    out += char(header.size() >> 8);
    out += header;
    out.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
    return out;
}

NpyArray parse_npy(const std::byte* data, std::size_t size, const std::string& where) {
    const auto* u = reinterpret_cast<const unsigned char*>(data);
    if (size < 10 || std::memcmp(data, magic, 6) != 0)
        throw FormatError(cat({where, ": not a .npy array (expected the magic \\x93NUMPY at byte 0)"}));
    const unsigned major = u[6];
    std::size_t hlen, start;
    if (major == 1) {
        hlen = std::size_t(u[8]) | std::size_t(u[9]) << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) throw FormatError(cat({where, ": truncated .npy header"}));
        hlen = std::size_t(u[8]) | std::size_t(u[9]) << 8 | std::size_t(u[10]) << 16 | std::size_t(u[11]) << 24;
        start = 12;
    } else {
        throw FormatError(cat({where, ": .npy format version ", std::to_string(major), ".", std::to_string(u[7]),
                               " (expected 1.0, 2.0 or 3.0)"}));
    }
    if (hlen > size - start)
        throw FormatError(cat({where, ": the .npy header claims ", std::to_string(hlen), " bytes but the member has ",
                               std::to_string(size - start), " after byte ", std::to_string(start)}));
    const std::string_view h(reinterpret_cast<const char*>(u + start), hlen);
    HeaderParser hp(h, where);

    NpyArray a;
    {
        const std::string_view v = hp.value_after("descr");
        if (v.empty() || (v[0] != '\'' && v[0] != '"')) hp.fail("'descr' is not a string");
        const std::size_t end = v.find(v[0], 1);
        if (end == std::string_view::npos) hp.fail("'descr' is not a closed string");
        const std::string_view d = v.substr(1, end - 1);
        if (!parse_descr(d, a.dtype))
            hp.fail(cat({"dtype '", std::string(d), "' is not supported (expected <f4, <f8, |u1, <i8 or <u8)"}));
    }
    bool fortran = false;
    {
        const std::string_view v = hp.value_after("fortran_order");
        if (v.starts_with("True")) fortran = true;
        else if (!v.starts_with("False")) hp.fail("'fortran_order' is neither True nor False");
    }
    {
        const std::string_view v = hp.value_after("shape");
        if (v.empty() || v[0] != '(') hp.fail("'shape' is not a tuple");
        std::size_t p = 1;
        for (;;) {
            while (p < v.size() && (v[p] == ' ' || v[p] == ',')) ++p;
            if (p >= v.size()) hp.fail("'shape' is not a closed tuple");
            if (v[p] == ')') break;
            if (v[p] < '0' || v[p] > '9') hp.fail("'shape' holds something other than non-negative integers");
            std::uint64_t d = 0;
            while (p < v.size() && v[p] >= '0' && v[p] <= '9') {
                if (d > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) hp.fail("a dimension of 'shape' overflows");
                d = d * 10 + std::uint64_t(v[p++] - '0');
            }
            if (p < v.size() && v[p] == 'L') ++p;  // Python 2 longs
            a.shape.push_back(std::size_t(d));
            if (a.shape.size() > 32) hp.fail("'shape' has more than 32 dimensions");
        }
    }
    if (fortran && std::count_if(a.shape.begin(), a.shape.end(), [](auto d) { return d > 1; }) > 1)
        hp.fail("the array is in Fortran order (expected C order; save np.ascontiguousarray(a))");
    // Element count without overflow.
    std::uint64_t n = 1;
    for (auto d : a.shape) {
        if (d != 0 && n > max_member_bytes / d) hp.fail("the shape holds more elements than the member can");
        n *= d;
    }
    const std::uint64_t need = n * dtype_size(a.dtype);
    const std::size_t have = size - start - hlen;
    if (need != have)
        throw FormatError(cat({where, ": the .npy header says ", std::string(dtype_descr(a.dtype)), " ", a.shape_str(),
                               " (", std::to_string(need), " data bytes) but the member holds ", std::to_string(have),
                               " data bytes"}));
    a.bytes.assign(data + start + hlen, data + size);
    return a;
}

void write_npz(const std::filesystem::path& path, const std::vector<NpyArray>& arrays) {
    std::set<std::string> keys;
    for (const auto& a : arrays)
        if (!keys.insert(a.key).second) throw std::invalid_argument(cat({"write_npz: duplicate key '", a.key, "'"}));
    std::vector<std::string> members;  // must stay alive until zip_close
    members.reserve(arrays.size());
    for (const auto& a : arrays) members.push_back(npy_bytes(a));

    AtomicReplace file(path);
    int err = 0;
    zip_t* z = zip_open(file.temp().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, err);
        const std::string msg = cat({"cannot write ", path.string(), ": ", zip_error_strerror(&e)});
        zip_error_fini(&e);
        throw std::runtime_error(msg);
    }
    auto fail = [&](const std::string& what) {
        const std::string msg = cat({"cannot write ", path.string(), ": ", what, ": ", zip_strerror(z)});
        zip_discard(z);
        throw std::runtime_error(msg);
    };
    for (std::size_t i = 0; i < arrays.size(); ++i) {
        zip_source_t* src = zip_source_buffer(z, members[i].data(), members[i].size(), 0);
        if (!src) fail(cat({"member ", arrays[i].key}));
        const zip_int64_t idx = zip_file_add(z, (arrays[i].key + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(src);
            fail(cat({"member ", arrays[i].key}));
        }
        if (zip_set_file_compression(z, zip_uint64_t(idx), ZIP_CM_STORE, 0) != 0) fail("compression setting");
    }
    if (zip_close(z) != 0) fail("closing the archive");
    file.commit();
}

std::vector<NpyArray> read_npz(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw FormatError(cat({name, ": is a directory (expected an .npz file)"}));
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
        std::string why;
        if (err == ZIP_ER_NOENT) why = "no such file";
        else if (err == ZIP_ER_NOZIP) why = "not a zip archive (expected an .npz file as numpy.savez writes it)";
        else if (err == ZIP_ER_INCONS || err == ZIP_ER_EOF || err == ZIP_ER_READ || err == ZIP_ER_SEEK)
            why = "the zip archive is truncated or inconsistent";
        else {
            zip_error_t e;
            zip_error_init_with_code(&e, err);
            why = zip_error_strerror(&e);
            zip_error_fini(&e);
        }
        throw FormatError(cat({name, ": ", why}));
    }
    struct Closer {
        zip_t* z;
        ~Closer() { zip_discard(z); }
    } closer{z};

    std::vector<NpyArray> out;
    std::set<std::string> keys;
    const zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        if (zip_stat_index(z, zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE))
            throw FormatError(cat({name, ": member ", std::to_string(i), ": ", zip_strerror(z)}));
        const std::string member = st.name;
        const std::string where = cat({name, ": ", member});
        if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0)
            throw FormatError(cat({where, ": not a .npy member (an .npz holds only <key>.npy files)"}));
        if (st.size > max_member_bytes)
            throw FormatError(cat({where, ": ", std::to_string(st.size), " bytes uncompressed (more than 16 GiB)"}));
        zip_file_t* f = zip_fopen_index(z, zip_uint64_t(i), 0);
        if (!f) throw FormatError(cat({where, ": ", zip_strerror(z)}));
        std::vector<std::byte> buf(st.size);
        std::size_t got = 0;
        while (got < buf.size()) {
            const zip_int64_t r = zip_fread(f, buf.data() + got, buf.size() - got);
            if (r < 0) {
                const std::string msg = cat({where, ": ", zip_file_strerror(f), " (the file is corrupt or truncated)"});
                zip_fclose(f);
                throw FormatError(msg);
            }
            if (r == 0) break;
            got += std::size_t(r);
        }
        // One more read so that libzip checks the CRC at the end of a member.
        std::byte extra;
        const zip_int64_t r = got == buf.size() ? zip_fread(f, &extra, 1) : 0;
        const std::string ferr = r < 0 ? zip_file_strerror(f) : "";
        zip_fclose(f);
        if (r < 0) throw FormatError(cat({where, ": ", ferr, " (the file is corrupt)"}));
        if (got != buf.size() || r > 0)
            throw FormatError(cat({where, ": holds ", std::to_string(got), " bytes, the archive says ",
                                   std::to_string(buf.size())}));
        NpyArray a = parse_npy(buf.data(), buf.size(), where);
        a.key = member.substr(0, member.size() - 4);
        if (!keys.insert(a.key).second) throw FormatError(cat({where, ": duplicate key '", a.key, "'"}));
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace ctgrad::io
