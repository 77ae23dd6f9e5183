#pragma once
/// \file metrics.csv (one row per evaluation point) and the per-epoch accumulation of loss and
/// accuracy (d2l's Accumulator), plus counting correct predictions.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include <ctgrad/tensor.hpp>

namespace ctgrad::train {

/// One value of a CSV row: a number or a text (e.g. the name of a setting).
class Cell {
public:
    /// A number.
    Cell(double v) : v_(v) {}
    /// A number.
    Cell(float v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(int v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(long v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(long long v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(unsigned v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(unsigned long v) : v_(double(v)) {}
    /// A count (written exactly).
    Cell(unsigned long long v) : v_(double(v)) {}
    /// A text.
    Cell(std::string s) : v_(std::move(s)) {}
    /// A text.
    Cell(const char* s) : v_(std::string(s)) {}
    /// The CSV text: numbers with 9 significant digits (integers exactly), text as given.
    std::string str() const;

private:
    std::variant<double, std::string> v_;
};

/// Writes metrics.csv: a header row, then one row per row() call. The file is rewritten whole,
/// crash-safely (a temporary file renamed into place), so a kill at any moment leaves a complete
/// file: at every row, except that rows coming faster than 20 a second (airfoil at batch size 1)
/// are gathered until 50 ms have passed; fsync'd at most once a second (a checkpoint carries the
/// rows anyway), and on flush(), which the trainers call at the end and before a checkpoint.
class MetricsCsv {
public:
    /// Creates (replaces) `path` with the header. Throws std::runtime_error naming the file if it
    /// cannot be written.
    MetricsCsv(const std::filesystem::path& path, std::vector<std::string> columns);
    /// Appends a row; throws std::invalid_argument unless it has one value per column.
    void row(const std::vector<Cell>& values);
    /// The data rows as written (CSV text, without the header), e.g. for a checkpoint.
    const std::vector<std::string>& lines() const noexcept { return lines_; }
    /// Replaces the data rows by `lines` (from lines() of an earlier run being resumed) and rewrites the file.
    void restore_lines(std::vector<std::string> lines);
    /// Writes every row now, fsync'd. Throws std::runtime_error naming the file.
    void flush();
    /// Flushes (errors are ignored here; call flush() to see them).
    ~MetricsCsv();
    MetricsCsv(const MetricsCsv&) = delete;
    MetricsCsv& operator=(const MetricsCsv&) = delete;
    /// The header's column names.
    const std::vector<std::string>& columns() const noexcept { return columns_; }
    /// The file written.
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The number of rows written after the header.
    std::size_t rows() const noexcept { return rows_; }

private:
    std::filesystem::path path_;
    std::vector<std::string> columns_;
    std::string header_;
    std::vector<std::string> lines_;
    std::size_t rows_ = 0;
    double last_write_ = -1e9, last_sync_ = -1e9;  // steady-clock seconds
    bool dirty_ = false;
    void write(bool force_sync);
};

/// Sums over the batches of an epoch (or an evaluation pass): loss weighted by batch size, correct
/// predictions, examples, and the seconds spent.
struct EpochStats {
    double loss_sum = 0;        ///< sum over batches of (mean batch loss x batch size)
    std::size_t correct = 0;    ///< correct predictions (classifiers)
    std::size_t examples = 0;   ///< examples seen
    std::size_t batches = 0;    ///< batches seen
    double seconds = 0;         ///< wall time of the pass

    /// Mean loss per example.
    double loss() const { return examples ? loss_sum / double(examples) : 0.0; }
    /// Fraction of correct predictions.
    double accuracy() const { return examples ? double(correct) / double(examples) : 0.0; }
    /// Throughput of the pass.
    double examples_per_sec() const { return seconds > 0 ? double(examples) / seconds : 0.0; }
    /// Adds one batch.
    void add(double mean_loss, std::size_t batch_size, std::size_t n_correct = 0) {
        loss_sum += mean_loss * double(batch_size);
        correct += n_correct;
        examples += batch_size;
        ++batches;
    }
};

/// Number of rows of `logits` (batch x classes) whose largest entry (the first, on ties) is at the
/// index given by `labels` (d2l's accuracy()).
template <class T, class Y>
std::size_t count_correct(const Tensor<T, 2>& logits, const Tensor<Y, 1>& labels) {
    const std::size_t n = logits.shape(0), k = logits.shape(1);
    std::size_t correct = 0;
    const T* p = logits.data();
    for (std::size_t i = 0; i < n; ++i, p += k) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < k; ++j)
            if (p[j] > p[best]) best = j;
        correct += best == static_cast<std::size_t>(labels(i));
    }
    return correct;
}

}  // namespace ctgrad::train
