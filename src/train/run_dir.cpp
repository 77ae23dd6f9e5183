#include <ctgrad/train/run_dir.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/file.h>
#include <unistd.h>

#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/exit_codes.hpp>

namespace ctgrad::train {

namespace fs = std::filesystem;

const std::vector<std::string>& run_files() {
    static const std::vector<std::string> names{"metrics.csv", "summary.json", "checkpoint.npz", "plot.png",
                                                "plot.gp",     "plot.dat",     "confusion.png",  "confusion.gp",
                                                "confusion.dat"};
    return names;
}

void check_out_path(const fs::path& dir) {
    std::error_code ec;
    fs::path p;
    for (const auto& part : dir) {
        p /= part;
        const auto st = fs::status(p, ec);
        if (ec || st.type() == fs::file_type::not_found) return;  // the rest will be created
        if (st.type() != fs::file_type::directory) {
            std::string msg = "--out ";
            msg.append(dir.string());
            if (p == dir) msg.append(": is a file, not a folder (choose a folder for the run's files)");
            else msg.append(": ").append(p.string()).append(" is a file, not a folder");
            throw ExitWithMessage(exit_code::bad_arguments, msg);
        }
    }
}

RunDir::RunDir(fs::path dir, bool resume) : dir_(std::move(dir)) {
    check_out_path(dir_);
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec || !fs::is_directory(dir_))
        throw ExitWithMessage(exit_code::failure, "cannot create the output folder " + dir_.string() +
                                                      (ec ? ": " + ec.message() : std::string()));
    const fs::path lock = dir_ / ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw ExitWithMessage(exit_code::failure, "cannot open " + lock.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        std::string pid = n > 0 ? std::string(buf, std::size_t(n)) : std::string("unknown");
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        ::close(fd_);
        fd_ = -1;
        throw ExitWithMessage(exit_code::data_problem, "--out " + dir_.string() +
                                                           " is in use by another run (process " + pid +
                                                           "); wait for it to end or choose another --out");
    }
    const std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
        // The pid is only for the message a second run prints; the lock itself holds.
    }
    // Leftovers: temporary files of writes a kill interrupted (ours: ".<name>.XXXXXX"; libzip's,
    // made next to ours while it writes an archive: ".<name>.XXXXXX.XXXXXX"), and (fresh run) an
    // earlier run's files.
    const auto is_temp_of = [](std::string_view name, const std::string& f) {
        if (name.size() < f.size() + 2 || name[0] != '.' || name.substr(1, f.size()) != f || name[f.size() + 1] != '.')
            return false;
        const std::string_view rest = name.substr(f.size() + 2);
        const auto suffix = [](std::string_view x) {
            return x.size() == 6 && x.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
                                        std::string_view::npos;
        };
        return suffix(rest) || (rest.size() == 13 && rest[6] == '.' && suffix(rest.substr(0, 6)) && suffix(rest.substr(7)));
    };
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const std::string name = entry.path().filename().string();
        for (const auto& f : run_files()) {
            const bool temp = is_temp_of(name, f);
            if (temp || (!resume && name == f)) {
                std::error_code rm;
                fs::remove(entry.path(), rm);
            }
        }
    }
}

RunDir::~RunDir() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace ctgrad::train
