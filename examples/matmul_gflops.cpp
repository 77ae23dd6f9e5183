// d2l 12.5 (and the hardware chapter) "Matrix-matrix multiplication": A = B C for n x n float
// matrices computed four ways, to show what vectorisation and per-call overhead cost:
//   element  A[i, j] = B[i, :] . C[:, j], one dot product per call     (n² calls)
//   column   A[:, j] = B C[:, j], one matrix-vector product per call  (n calls)
//   full     A = B C, one call — here the DSL's matmul
//   block    A[:, j:j+64] = B C[:, j:j+64], 64 columns per call       (n / 64 calls)
// element, column and block call ctgrad's GEMM kernel on strided sub-matrices (no copies), so the
// differences are the shapes of the calls, as in d2l.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include <ctgrad/ctgrad.hpp>
#include <ctgrad/kernels/gemm.hpp>
#include <ctgrad/train/train.hpp>

using namespace ctgrad;

namespace {
/// Best of `repeats` timings of fn(), in seconds (the least disturbed run).
template <class F>
double best_time(std::size_t repeats, F&& fn) {
    double best = INFINITY;
    for (std::size_t r = 0; r < repeats; ++r) {
        train::Timer t;
        fn();
        best = std::min(best, t.stop());
    }
    return best;
}
}  // namespace

int main(int argc, char** argv) {
    return train::run_main(argc, argv, [&] {
        train::CommandLine cli{"d2l 12.5: matrix product element-wise, column-wise, full and in 64-column blocks; GFLOP/s"};
        train::CommonOptions opt;
        train::add_common_flags(cli, opt, "matmul_gflops", train::flags::seed | train::flags::threads | train::flags::out);
        std::size_t n = 256, repeats = 5, block = 64;
        // Six n x n float matrices live at once (1.6 GB at the limit, 8192).
        cli.option("--size", n, "matrix size n (n x n times n x n)").show_default().check(train::count_in(1, 8192));
        cli.option("--block", block, "columns per block").show_default().check(train::count_in(1, 8192));
        cli.option("--repeats", repeats, "timed runs of each method (the best is reported)")
            .show_default()
            .check(train::count_in(1, 1000));
        cli.parse(argc, argv);
        const auto out = train::prepare_out_dir(opt.out);

        std::mt19937_64 rng(opt.seed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        Tensor<float, 2> B = Tensor<float, 2>::from_shape({n, n}), C = Tensor<float, 2>::from_shape({n, n});
        for (float& v : B) v = normal(rng);
        for (float& v : C) v = normal(rng);
        Tensor<float, 2> A = xt::zeros<float>({n, n});
        const float *b = B.data(), *c = C.data();
        float* a = A.data();

        const double t_element = best_time(repeats, [&] {
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j)  // (1 x n) row of B times (n x 1) column of C
                    kernels::gemm(false, false, 1, 1, n, 1.0f, b + i * n, n, c + j, n, 0.0f, a + i * n + j, n);
        });
        const Tensor<float, 2> A_element = A;
        const double t_column = best_time(repeats, [&] {
            for (std::size_t j = 0; j < n; ++j)  // B (n x n) times column j of C (n x 1), into column j of A
                kernels::gemm(false, false, n, 1, n, 1.0f, b, n, c + j, n, 0.0f, a + j, n);
        });
        const Tensor<float, 2> A_column = A;
        const double t_full = best_time(repeats, [&] { assign(A, matmul(B, C)); });
        const Tensor<float, 2> A_full = A;
        const double t_block = best_time(repeats, [&] {
            for (std::size_t j = 0; j < n; j += block)
                kernels::gemm(false, false, n, std::min(block, n - j), n, 1.0f, b, n, c + j, n, 0.0f, a + j, n);
        });

        // The four methods must agree (up to float rounding of differently ordered sums).
        double max_diff = 0;
        for (std::size_t k = 0; k < A.size(); ++k)
            max_diff = std::max({max_diff, double(std::abs(A_element.data()[k] - A_full.data()[k])),
                                 double(std::abs(A_column.data()[k] - A_full.data()[k])),
                                 double(std::abs(A.data()[k] - A_full.data()[k]))});
        if (max_diff > 1e-3 * std::sqrt(double(n)))
            throw std::runtime_error("the four products disagree (max difference " + std::to_string(max_diff) + ")");

        const double flops = 2.0 * double(n) * double(n) * double(n);
        const double g_element = flops / t_element * 1e-9, g_column = flops / t_column * 1e-9,
                     g_full = flops / t_full * 1e-9, g_block = flops / t_block * 1e-9;

        train::MetricsCsv csv(out / "metrics.csv", {"method", "seconds", "gflops"});
        csv.row({"element", t_element, g_element});
        csv.row({"column", t_column, g_column});
        csv.row({"full", t_full, g_full});
        csv.row({"block", t_block, g_block});
        train::Summary s;
        s["size"] = n;
        s["block"] = block;
        s["repeats"] = repeats;
        s["gflops_element"] = g_element;
        s["gflops_column"] = g_column;
        s["gflops_full"] = g_full;
        s["gflops_block"] = g_block;
        s["seconds_element"] = t_element;
        s["seconds_column"] = t_column;
        s["seconds_full"] = t_full;
        s["seconds_block"] = t_block;
        s["max_abs_difference"] = max_diff;
        train::write_summary(out, s);
        train::report(train::plot_curves(
            out, "plot",
            {{.title = "n = " + std::to_string(n) + ": element 1, column 2, full 3, block 4",
              .xlabel = "method",
              .ylabel = "GFLOP/s",
              .curves = {{.title = "GFLOP/s", .x = {1, 2, 3, 4}, .y = {g_element, g_column, g_full, g_block},
                          .points = true}},
              .log_y = true}}));
        // d2l's lines.
        std::printf("performance in Gigaflops: element %.3f, column %.3f, full %.3f\n", g_element, g_column, g_full);
        std::printf("performance in Gigaflops: block %.3f\n", g_block);
    });
}
