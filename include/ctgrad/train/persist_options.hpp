#pragma once
/// \file The persistence flags of the trainers: `--checkpoint-every N`, `--resume`, `--save FILE`,
/// and for classifiers `--load FILE --eval-only`; and the check that a resumed run keeps its flags.
#include <cstddef>
#include <string>

#include <ctgrad/train/cli.hpp>
#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/exit_codes.hpp>
#include <ctgrad/train/summary.hpp>

namespace ctgrad::train {

/// Values of the persistence flags.
struct PersistOptions {
    std::size_t checkpoint_every = 1;  ///< epochs between checkpoints (0: only at the end and on Ctrl-C)
    bool resume = false;               ///< continue the run in --out from its checkpoint.npz
    std::string save{};                ///< write the final weights here (.npz)
    std::string load{};                ///< read the weights from here (with eval_only)
    bool eval_only = false;            ///< evaluate the loaded weights on the test set, no training
};

/// Adds the flags to `cli`; `eval` also adds --load and --eval-only. `o.checkpoint_every` is the
/// default shown.
void add_persist_flags(CommandLine& cli, PersistOptions& o, bool eval);

/// Refuses to resume when a setting of the run in the checkpoint (`saved`: flag name -> value, as
/// `now` is built) differs from the command line's: ExitWithMessage(bad_arguments) naming the flag
/// and both values.
void check_same_flags(const Summary& saved, const Summary& now, const std::string& checkpoint);

}  // namespace ctgrad::train
