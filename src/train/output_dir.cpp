#include <ctgrad/train/output_dir.hpp>

#include <stdexcept>
#include <system_error>

#include <ctgrad/train/run_dir.hpp>

namespace ctgrad::train {

std::filesystem::path prepare_out_dir(const std::filesystem::path& dir) {
    check_out_path(dir);  // a file in the way is a bad argument (exit 2), with a message saying so
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw std::runtime_error("cannot create the output directory " + dir.string() +
                                 (ec ? ": " + ec.message() : ": a file of that name exists"));
    return dir;
}

}  // namespace ctgrad::train
