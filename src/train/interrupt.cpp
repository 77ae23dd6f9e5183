#include <ctgrad/train/interrupt.hpp>

#include <csignal>

namespace ctgrad::train {

namespace {
volatile std::sig_atomic_t flag = 0;
struct sigaction previous {};

extern "C" void on_sigint(int) {
    flag = 1;
    // A second Ctrl-C ends the program at once (the default action).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGINT, &dfl, nullptr);
}
}  // namespace

InterruptGuard::InterruptGuard() {
    flag = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a read or write under way is resumed, not failed with EINTR
    sigaction(SIGINT, &sa, &previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &previous, nullptr); }

bool interrupt_requested() noexcept { return flag != 0; }
void clear_interrupt() noexcept { flag = 0; }

}  // namespace ctgrad::train
