#include <ctgrad/train/progress.hpp>

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace ctgrad::train {

namespace {
std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
std::string duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    const long t = long(s + 0.5);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}
}  // namespace

Progress::Progress(std::size_t epochs, std::size_t batches_per_epoch, Mode mode, std::FILE* out)
    : out_(out), epochs_(epochs), batches_(batches_per_epoch) {
    if (mode == Mode::automatic) mode = isatty(fileno(out)) ? Mode::bar : Mode::lines;
    bar_ = mode == Mode::bar;
    quiet_ = mode == Mode::quiet;
}

void Progress::begin_epoch(std::size_t epoch) {
    epoch_ = epoch;
    batch_ = examples_ = since_check_ = 0;
    loss_sum_ = 0;
    last_draw_ = -1;
    epoch_timer_.start();
}

void Progress::maybe_draw() {
    since_check_ = 0;
    const double now = epoch_timer_.elapsed();
    if (now - last_draw_ < 0.1) return;
    last_draw_ = now;
    draw(false);
}

std::string Progress::line(bool final) const {
    // Built with += only: GCC 12 gives false -Wrestrict warnings for `"literal" + std::string` at -O3.
    const double t = epoch_timer_.elapsed();
    std::string s = "epoch ";
    s += std::to_string(epoch_ + 1);
    s += '/';
    s += std::to_string(epochs_);
    if (bar_) {
        constexpr std::size_t width = 24;
        const std::size_t filled = batches_ ? std::min(width, batch_ * width / batches_) : width;
        s += " [";
        s.append(filled, '#');
        s.append(width - filled, '.');
        s += "] ";
        s += std::to_string(batch_);
        s += '/';
        s += std::to_string(batches_);
    }
    s += bar_ ? " loss " : ": loss ";
    s += fmt("%.4f", epoch_loss());
    s += bar_ ? " " : ", ";
    s += fmt("%.0f", t > 0 ? double(examples_) / t : 0.0);
    s += " examples/s";
    if (bar_ && !final) {
        // Remaining batches at the average pace of all batches so far.
        const double done = double(batches_before_ + batch_);
        const double total = double(epochs_ * batches_);
        const double spent = seconds_before_ + t;
        s += " ETA ";
        s += done > 0 ? duration(spent / done * (total - done)) : std::string("?");
    } else if (bar_) {
        s += ' ';
        s += fmt("%.3f", t);
        s += " s";
    }
    return s;
}

void Progress::draw(bool final) {
    std::fprintf(out_, "\r%s\x1b[K", line(final).c_str());
    std::fflush(out_);
}

void Progress::end_epoch(const std::string& extra) {
    if (!quiet_) {
        std::string l = line(true);
        if (!extra.empty()) {
            l += bar_ ? " " : ", ";
            l += extra;
        }
        if (bar_) std::fprintf(out_, "\r%s\x1b[K\n", l.c_str());
        else std::fprintf(out_, "%s\n", l.c_str());
        std::fflush(out_);
    }
    batches_before_ += batch_;
    seconds_before_ += epoch_timer_.elapsed();
}

}  // namespace ctgrad::train
