// Numeric table reader. Strict on purpose: a field that does not parse completely, a ragged row or a
// blank line inside the data is an error naming line, field and column, never a silently shifted table.
#include <ctgrad/data/table.hpp>

#include "regular_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace ctgrad::data {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

/// A field as it can be shown in a message: at most 24 characters, non-printables escaped.
std::string show(std::string_view f) {
    std::string out;
    for (std::size_t i = 0; i < f.size() && i < 24; ++i) {
        const auto c = static_cast<unsigned char>(f[i]);
        if (c >= 0x20 && c < 0x7f && c != '"') {
            out += static_cast<char>(c);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        }
    }
    if (f.size() > 24) out += "...";
    return "\"" + out + "\"";
}

}  // namespace

template <class T>
Tensor<T, 2> read_table(const std::filesystem::path& path) {
    detail::require_regular_file(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path.string() + ": cannot open for reading");
    const auto too_big = [&] {
        return DataError(path.string() + ": more than " + std::to_string(max_table_bytes) +
                         " bytes, the most a table may have (is this the right file?)");
    };
    if (std::error_code ec; std::filesystem::file_size(path, ec) > max_table_bytes && !ec) throw too_big();
    // Read in chunks up to the limit (the size on disk may change between the check and the read).
    std::string text;
    std::array<char, 1 << 16> chunk;
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_table_bytes) throw too_big();
    }
    if (in.bad()) throw DataError(path.string() + ": read error");

    std::vector<double> values;
    std::size_t cols = 0, rows = 0, line_no = 0, first_blank = 0, first_row_line = 0;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + begin, end - begin);
        begin = end + 1;
        ++line_no;
        if (line.size() > max_table_line_bytes)
            throw DataError(path.string() + ": line " + std::to_string(line_no) + ": longer than " +
                            std::to_string(max_table_line_bytes) +
                            " bytes, the most a table line may have (is this a text table?)");
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF

        const std::string where = path.string() + ": line " + std::to_string(line_no);
        std::size_t i = 0, field = 0;
        while (true) {
            while (i < line.size() && is_blank(line[i])) ++i;
            if (i == line.size()) break;
            std::size_t j = i;
            while (j < line.size() && !is_blank(line[j])) ++j;
            const std::string_view f = line.substr(i, j - i);
            ++field;
            const std::string at =
                where + ", field " + std::to_string(field) + " (column " + std::to_string(i + 1) + ")";
            if (first_blank)
                throw DataError(path.string() + ": line " + std::to_string(first_blank) +
                                ": blank line before or inside the data (blank lines are accepted only at the end)");
            // from_chars rejects a leading '+', which numpy accepts.
            const char* p = f.data();
            if (f.size() > 1 && f[0] == '+' && f[1] != '-') ++p;
            double v = 0;
            const auto [ptr, err] = std::from_chars(p, f.data() + f.size(), v);
            if (err == std::errc::result_out_of_range)
                throw DataError(at + ": expected a number in the range of double, found " + show(f));
            if (err != std::errc() || ptr != f.data() + f.size())
                throw DataError(at + ": expected a number, found " + show(f));
            if (!std::isfinite(v) || !std::isfinite(static_cast<T>(v)))
                throw DataError(at + ": expected a finite number" +
                                (std::isfinite(v) ? std::string(" in the range of float") : std::string()) +
                                ", found " + show(f));
            values.push_back(v);
            i = j;
        }
        if (field == 0) {
            if (!first_blank) first_blank = line_no;
            continue;
        }
        if (rows == 0) {
            cols = field;
            first_row_line = line_no;
        } else if (field != cols) {
            throw DataError(where + ": expected " + std::to_string(cols) + " fields (as on line " +
                            std::to_string(first_row_line) + "), found " + std::to_string(field));
        }
        ++rows;
    }
    if (rows == 0)
        throw DataError(path.string() + ": line 1: expected at least one row of numbers, found " +
                        (text.empty() ? std::string("an empty file") : std::string("only blank lines")));

    Tensor<T, 2> out = Tensor<T, 2>::from_shape({rows, cols});
    std::transform(values.begin(), values.end(), out.data(), [](double v) { return static_cast<T>(v); });
    return out;
}

template Tensor<double, 2> read_table<double>(const std::filesystem::path&);
template Tensor<float, 2> read_table<float>(const std::filesystem::path&);

}  // namespace ctgrad::data
