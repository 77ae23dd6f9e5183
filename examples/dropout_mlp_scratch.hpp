#pragma once
// dropout_mlp --scratch (dropout_mlp_scratch.cpp): d2l's from-scratch dropout MLP, in its own
// translation unit so that the trainer's two models compile in parallel.
#include <cstddef>
#include <cstdint>

#include "classifier.hpp"

namespace example {

/// The from-scratch model's settings.
struct ScratchMLPConfig {
    std::size_t hidden1, hidden2;  ///< units of the hidden layers
    double dropout1, dropout2;     ///< dropout probabilities after them
    std::uint64_t mask_seed;       ///< seed of the dropout masks' generator
};

/// Trains the from-scratch MLP with SGD at setup.common.lr (fit()), or with --eval-only evaluates
/// the weights of setup.persist.load (evaluate_saved()).
void run_scratch_mlp(const ScratchMLPConfig& config, const FashionData& d, const RunSetup& setup,
                     train::Summary& summary);

}  // namespace example
