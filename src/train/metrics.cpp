#include <ctgrad/train/metrics.hpp>

#include <ctgrad/io/atomic_file.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ctgrad::train {

std::string Cell::str() const {
    if (const auto* s = std::get_if<std::string>(&v_)) {
        // Quote only when needed (RFC 4180).
        if (s->find_first_of(",\"\n") == std::string::npos) return *s;
        std::string q = "\"";
        for (char c : *s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    }
    const double v = std::get<double>(v_);
    char buf[32];
    if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

MetricsCsv::MetricsCsv(const std::filesystem::path& path, std::vector<std::string> columns)
    : path_(path), columns_(std::move(columns)) {
    for (std::size_t i = 0; i < columns_.size(); ++i) header_.append(i ? "," : "").append(Cell(columns_[i]).str());
    header_ += '\n';
    write(true);
}

namespace {
double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void MetricsCsv::write(bool force_sync) {
    std::string text = header_;
    for (const auto& l : lines_) text.append(l).append("\n");
    const double now = now_seconds();
    const bool sync = force_sync || now - last_sync_ >= 1.0;
    io::write_file_atomic(path_, text, sync);
    last_write_ = now;
    if (sync) last_sync_ = now;
    dirty_ = false;
}

void MetricsCsv::flush() {
    if (dirty_ || last_sync_ < last_write_) write(true);
}

MetricsCsv::~MetricsCsv() {
    try {
        flush();
    } catch (...) {
    }
}

void MetricsCsv::row(const std::vector<Cell>& values) {
    if (values.size() != columns_.size())
        throw std::invalid_argument("MetricsCsv::row: " + std::to_string(values.size()) + " values for " +
                                    std::to_string(columns_.size()) + " columns of " + path_.string());
    std::string line;
    for (std::size_t i = 0; i < values.size(); ++i) line.append(i ? "," : "").append(values[i].str());
    lines_.push_back(std::move(line));
    ++rows_;
    dirty_ = true;
    if (now_seconds() - last_write_ >= 0.05) write(false);
}

void MetricsCsv::restore_lines(std::vector<std::string> lines) {
    lines_ = std::move(lines);
    rows_ = lines_.size();
    write(true);
}

}  // namespace ctgrad::train
