#pragma once
/// \file Where the data sets live, and one-call loaders for Fashion-MNIST and the airfoil data.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <ctgrad/data/error.hpp>
#include <ctgrad/tensor.hpp>

namespace ctgrad::data {

/// The data directory: the `--data-dir` value if given (and non-empty), else `$CTGRAD_DATA_DIR` if set
/// and non-empty, else `./data`. Does not check that the directory exists (the file helpers do).
std::filesystem::path resolve_data_dir(std::optional<std::string> cli_flag);

/// The four Fashion-MNIST files under `<data_dir>/fashion-mnist/`, official names.
struct FashionMnistFiles {
    std::filesystem::path train_images;  ///< train-images-idx3-ubyte.gz
    std::filesystem::path train_labels;  ///< train-labels-idx1-ubyte.gz
    std::filesystem::path test_images;   ///< t10k-images-idx3-ubyte.gz
    std::filesystem::path test_labels;   ///< t10k-labels-idx1-ubyte.gz
};

/// Locates the Fashion-MNIST files; throws DataError naming the first missing file and saying how to get
/// the data (`data/download.sh DIR`, `--data-dir`, `CTGRAD_DATA_DIR`).
FashionMnistFiles fashion_mnist_files(const std::filesystem::path& data_dir);

/// Locates `<data_dir>/airfoil/airfoil_self_noise.dat`; throws DataError like fashion_mnist_files.
std::filesystem::path airfoil_file(const std::filesystem::path& data_dir);

/// Fashion-MNIST as uint8 tensors (use to_float_images for NCHW floats).
struct FashionMnist {
    Tensor<std::uint8_t, 3> train_images;  ///< 60000 x 28 x 28
    Tensor<std::uint8_t, 1> train_labels;  ///< 60000 labels in 0..9
    Tensor<std::uint8_t, 3> test_images;   ///< 10000 x 28 x 28
    Tensor<std::uint8_t, 1> test_labels;   ///< 10000 labels in 0..9
};

/// Reads all four Fashion-MNIST files and checks that each image file holds at least one image, that
/// images are 28 x 28, that each image file has one label per image and that labels are in 0..9. Throws
/// DataError naming the offending file.
FashionMnist load_fashion_mnist(const std::filesystem::path& data_dir);

/// The airfoil regression problem as d2l's get_data_ch11 builds it.
template <class T>
struct Airfoil {
    Tensor<T, 2> features;  ///< n x 5, whitened
    Tensor<T, 1> labels;    ///< n, whitened sound pressure level
};

/// Reads the airfoil table (1503 x 6), whitens every column over all rows (population std), and returns
/// the first `n` rows (d2l: 1500) split into the 5 feature columns and the label column.
/// Throws DataError if the file is missing or malformed, has not 6 columns, or has fewer than n rows.
/// Instantiated for float (d2l uses float32) and double.
template <class T = float>
Airfoil<T> load_airfoil(const std::filesystem::path& data_dir, std::size_t n = 1500);

/// Compiled once in the library (float).
extern template Airfoil<float> load_airfoil<float>(const std::filesystem::path&, std::size_t);
/// Compiled once in the library (double).
extern template Airfoil<double> load_airfoil<double>(const std::filesystem::path&, std::size_t);

}  // namespace ctgrad::data
