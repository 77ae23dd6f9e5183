#pragma once
/// \file run_main(): a trainer's main() body with exceptions mapped to the exit statuses of docs/trainers.md.
#include <functional>
#include <type_traits>

#include <ctgrad/train/errors.hpp>

namespace ctgrad::train {

/// Runs `body` and returns the program's exit status:
///   - what `body` returns (0 if it returns void);
///   - ExitRequest{code}: `code` (parse() throws it for `--help` and bad arguments);
///   - data::DataError (missing or corrupt data; the message names the file): exit_code::data_problem;
///   - Diverged (non-finite loss) or AnomalyError (under detect_anomaly): exit_code::diverged;
///   - std::bad_alloc: exit_code::failure, with "out of memory: ..." and a hint to ask for less;
///   - Interrupted (Ctrl-C, after the trainer wrote its checkpoint): exit_code::interrupted (130);
///   - ExitWithMessage: its code;
///   - any other std::exception: exit_code::failure.
/// Messages go to stderr prefixed with the program name (from argv[0]). Use it as
/// `int main(int argc, char** argv) { return train::run_main(argc, argv, [&] { ... }); }`.
int run_main(int argc, char** argv, const std::function<int()>& body) noexcept;

/// Overload for a body that returns nothing (success is 0).
template <class F>
    requires std::is_void_v<std::invoke_result_t<F&>>
int run_main(int argc, char** argv, F&& body) noexcept {
    return run_main(argc, argv, std::function<int()>([&body] {
                        body();
                        return 0;
                    }));
}

}  // namespace ctgrad::train
