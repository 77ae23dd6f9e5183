#pragma once
/// \file dist::Error: the exception every ctgrad::dist function throws when MPI reports a failure.
#include <stdexcept>
#include <string>

namespace ctgrad::dist {

/// An MPI call failed, or the processes disagree (e.g. on the number of parameters). The message
/// starts with `rank R of N:` and names the MPI call and MPI's own error text, e.g.
/// `rank 1 of 2: MPI_Allreduce (6 float elements) failed: MPI_ERR_TRUNCATE: message truncated`.
/// ctgrad sets MPI_ERRORS_RETURN on its communicator, so MPI errors arrive here instead of aborting.
class Error : public std::runtime_error {
public:
    /// The failure seen by process `rank`, with message `what`.
    Error(int rank, const std::string& what) : std::runtime_error(what), rank_(rank) {}
    /// The rank of the process that saw the failure.
    int rank() const noexcept { return rank_; }

private:
    int rank_;
};

}  // namespace ctgrad::dist
