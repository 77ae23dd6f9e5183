#include <ctgrad/train/metrics.hpp>

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
    : path_(path), columns_(std::move(columns)), f_(path) {
    for (std::size_t i = 0; i < columns_.size(); ++i) f_ << (i ? "," : "") << Cell(columns_[i]).str();
    f_ << '\n' << std::flush;
    if (!f_) throw std::runtime_error("cannot write " + path_.string());
}

void MetricsCsv::row(const std::vector<Cell>& values) {
    if (values.size() != columns_.size())
        throw std::invalid_argument("MetricsCsv::row: " + std::to_string(values.size()) + " values for " +
                                    std::to_string(columns_.size()) + " columns of " + path_.string());
    for (std::size_t i = 0; i < values.size(); ++i) f_ << (i ? "," : "") << values[i].str();
    f_ << '\n' << std::flush;
    if (!f_) throw std::runtime_error("cannot write " + path_.string());
    ++rows_;
}

}  // namespace ctgrad::train
