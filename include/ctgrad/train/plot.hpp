#pragma once
/// \file Plot images of a run, drawn by gnuplot found at run time (`gnuplot` on PATH; the pngcairo
/// terminal if it exists, else png). Without gnuplot the data and the script are written anyway, so
/// the plot can be made later with `gnuplot <stem>.gp` in the output directory.
#include <array>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ctgrad::train {

/// One line of a chart.
struct Curve {
    /// The legend entry.
    std::string title{};
    /// The points' coordinates (x and y of equal length).
    ///@{
    std::vector<double> x{}, y{};
    ///@}
    bool points = false;  ///< mark the data points too (linespoints)
};

/// One chart: axes and curves. Several panels make one image, side by side.
struct Panel {
    /// The chart's title and axis labels.
    ///@{
    std::string title{}, xlabel{}, ylabel{};
    ///@}
    /// The lines drawn.
    std::vector<Curve> curves{};
    /// Logarithmic x or y axis.
    ///@{
    bool log_x = false, log_y = false;
    ///@}
    std::optional<std::array<double, 2>> y_range{};  ///< fixed y range, else automatic
};

/// Contour lines of f(x1, x2) over a grid, with an optimisation trajectory on top (d2l's show_trace_2d).
struct ContourTrace {
    /// The chart's title.
    std::string title{};
    /// The objective f(x1, x2) drawn as contour lines.
    std::function<double(double, double)> f{};
    /// The x1 and x2 ranges of the grid.
    ///@{
    std::array<double, 2> x1_range{-5.5, 1.0}, x2_range{-3.0, 1.0};  ///< d2l's defaults
    ///@}
    /// The grid spacing of the contour evaluation.
    double grid_step = 0.1;
    /// The points (x1, x2) visited, drawn as a line on top.
    std::vector<std::array<double, 2>> trajectory{};
};

/// A matrix drawn as a heat map with its numbers in the cells, e.g. a confusion matrix (rows: true
/// class, columns: predicted class).
struct Heatmap {
    /// The title and the axis labels.
    ///@{
    std::string title{}, xlabel{}, ylabel{};
    ///@}
    /// The labels of the rows and of the columns.
    ///@{
    std::vector<std::string> row_labels{}, column_labels{};
    ///@}
    std::vector<std::vector<double>> values{};  ///< values[row][column]
};

/// What a plot call produced.
struct PlotResult {
    bool drawn = false;             ///< the image was written
    std::filesystem::path image;    ///< \<dir\>/\<stem\>.png
    std::filesystem::path script;   ///< \<dir\>/\<stem\>.gp (always written)
    std::string message;            ///< one line for the user: where the image is, or why it is missing
};

/// The gnuplot executable on PATH, if any.
std::optional<std::filesystem::path> find_gnuplot();

/// Writes \<dir\>/\<stem\>.dat and \<stem\>.gp for the panels and runs gnuplot to make \<stem\>.png.
/// Throws std::runtime_error if the data or script cannot be written; a missing or failing gnuplot is
/// reported in the result, not thrown.
PlotResult plot_curves(const std::filesystem::path& dir, const std::string& stem, const std::vector<Panel>& panels);

/// The same for a contour plot with a trajectory.
PlotResult plot_contour(const std::filesystem::path& dir, const std::string& stem, const ContourTrace& trace);

/// The same for a heat map.
PlotResult plot_heatmap(const std::filesystem::path& dir, const std::string& stem, const Heatmap& map);

/// Prints result.message on stderr.
void report(const PlotResult& result);

}  // namespace ctgrad::train
