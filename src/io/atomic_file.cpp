#include <ctgrad/io/atomic_file.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace ctgrad::io {

namespace {
[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p, int err) {
    throw std::runtime_error("cannot " + what + " " + p.string() + ": " + std::strerror(err));
}

std::filesystem::path folder_of(const std::filesystem::path& p) {
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

/// fsync of a file or folder by name.
void sync_path(const std::filesystem::path& p, bool folder) {
    const int fd = ::open(p.c_str(), folder ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd < 0) fail("open", p, errno);
    // A folder that cannot be fsync'd (some file systems say EINVAL) is not an error: the rename is done.
    if (::fsync(fd) != 0 && !(folder && (errno == EINVAL || errno == EROFS))) {
        const int err = errno;
        ::close(fd);
        fail("fsync", p, err);
    }
    ::close(fd);
}
}  // namespace

AtomicReplace::AtomicReplace(std::filesystem::path target) : target_(std::move(target)) {
    // Built with append only: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string at -O3.
    std::string name = ".";
    name.append(target_.filename().string()).append(".XXXXXX");
    std::string templ = (folder_of(target_) / name).string();
    const int fd = ::mkstemp(templ.data());
    if (fd < 0) fail("create a temporary file in", folder_of(target_), errno);
    // mkstemp makes the file 0600; give it the mode a plain open() would (0666 less the umask).
    const mode_t mask = ::umask(0);
    ::umask(mask);
    (void)::fchmod(fd, 0666 & ~mask);
    ::close(fd);
    temp_ = templ;
}

AtomicReplace::~AtomicReplace() {
    if (!done_) ::unlink(temp_.c_str());
}

void AtomicReplace::commit(bool durable) {
    if (durable) sync_path(temp_, false);
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("rename a temporary file onto", target_, errno);
    done_ = true;
    if (durable) sync_path(folder_of(target_), true);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, bool durable) {
    AtomicReplace r(path);
    const int fd = ::open(r.temp().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) fail("write", path, errno);
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            fail("write", path, err);
        }
        p += n;
        left -= std::size_t(n);
    }
    if (::close(fd) != 0) fail("write", path, errno);
    r.commit(durable);  // fsync, rename, fsync of the folder
}

}  // namespace ctgrad::io
