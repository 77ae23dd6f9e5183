// Data-directory resolution and the one-call loaders the example trainers use.
#include <ctgrad/data/datasets.hpp>

#include <cstdlib>

#include <ctgrad/data/idx.hpp>
#include <ctgrad/data/normalize.hpp>
#include <ctgrad/data/table.hpp>

namespace ctgrad::data {
namespace fs = std::filesystem;

namespace {
/// Throws DataError for a missing data file, saying where it was looked for and how to get it.
void require_file(const fs::path& file, const fs::path& data_dir, const char* dataset) {
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) return;
    throw DataError(file.string() + ": " + (fs::exists(file, ec) ? "not a regular file" : "file not found") +
                    " (the " + dataset + " data set, looked for in the data directory " + data_dir.string() +
                    ", which comes from --data-dir, else $CTGRAD_DATA_DIR, else ./data). Get the data with "
                    "`data/download.sh " + data_dir.string() + "` or point --data-dir / CTGRAD_DATA_DIR at a "
                    "folder that has it (see data/README.md).");
}
}  // namespace

fs::path resolve_data_dir(std::optional<std::string> cli_flag) {
    if (cli_flag && !cli_flag->empty()) return fs::path(*cli_flag);
    if (const char* env = std::getenv("CTGRAD_DATA_DIR"); env && *env) return fs::path(env);
    return fs::path("data");
}

FashionMnistFiles fashion_mnist_files(const fs::path& data_dir) {
    const fs::path d = data_dir / "fashion-mnist";
    FashionMnistFiles f{d / "train-images-idx3-ubyte.gz", d / "train-labels-idx1-ubyte.gz",
                        d / "t10k-images-idx3-ubyte.gz", d / "t10k-labels-idx1-ubyte.gz"};
    for (const auto* p : {&f.train_images, &f.train_labels, &f.test_images, &f.test_labels})
        require_file(*p, data_dir, "Fashion-MNIST");
    return f;
}

fs::path airfoil_file(const fs::path& data_dir) {
    fs::path p = data_dir / "airfoil" / "airfoil_self_noise.dat";
    require_file(p, data_dir, "airfoil");
    return p;
}

FashionMnist load_fashion_mnist(const fs::path& data_dir) {
    const FashionMnistFiles f = fashion_mnist_files(data_dir);
    FashionMnist d{read_idx_images(f.train_images), read_idx_labels(f.train_labels), read_idx_images(f.test_images),
                   read_idx_labels(f.test_labels)};
    for (const auto& [images, file] : {std::pair{&d.train_images, &f.train_images}, {&d.test_images, &f.test_images}}) {
        // A valid IDX file may hold 0 images, but training or testing on nothing reports meaningless
        // zeros as success.
        if (images->shape(0) == 0)
            throw DataError(file->string() + ": byte 4: expected at least one image, found a count of 0 (empty data set)");
        if (images->shape(1) != 28 || images->shape(2) != 28)
            throw DataError(file->string() + ": byte 8: expected 28 x 28 Fashion-MNIST images, found " +
                            std::to_string(images->shape(1)) + " x " + std::to_string(images->shape(2)));
    }
    check_same_count(d.train_images, d.train_labels, f.train_images.string() + " vs " + f.train_labels.string());
    check_same_count(d.test_images, d.test_labels, f.test_images.string() + " vs " + f.test_labels.string());
    check_label_range(d.train_labels, 10, f.train_labels);
    check_label_range(d.test_labels, 10, f.test_labels);
    return d;
}

template <class T>
Airfoil<T> load_airfoil(const fs::path& data_dir, std::size_t n) {
    const fs::path file = airfoil_file(data_dir);
    // d2l: genfromtxt(dtype=float32), whiten over all rows, then keep the first n.
    Tensor<T, 2> table = read_table<T>(file);
    if (table.shape(1) != 6)
        throw DataError(file.string() + ": expected 6 columns (5 features and the sound level), found " +
                        std::to_string(table.shape(1)));
    if (table.shape(0) < n)
        throw DataError(file.string() + ": expected at least " + std::to_string(n) + " rows, found " +
                        std::to_string(table.shape(0)));
    whiten_columns(table, file.string());
    Airfoil<T> out{Tensor<T, 2>::from_shape({n, 5}), Tensor<T, 1>::from_shape({n})};
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < 5; ++c) out.features(r, c) = table(r, c);
        out.labels(r) = table(r, 5);
    }
    return out;
}

template Airfoil<float> load_airfoil<float>(const fs::path&, std::size_t);
template Airfoil<double> load_airfoil<double>(const fs::path&, std::size_t);

}  // namespace ctgrad::data
