#pragma once
// Internal to src/dist: turning MPI return codes into dist::Error (MPI_ERRORS_RETURN is set on the
// communicator by dist::init()).
#include <string>

#include <ctgrad/dist/error.hpp>
#include <ctgrad/dist/world.hpp>

#ifdef CTGRAD_WITH_MPI
#include <mpi.h>

namespace ctgrad::dist::detail {
/// Throws dist::Error "rank R of N: <what> failed: <MPI's text>" unless rc is MPI_SUCCESS.
inline void check_mpi(int rc, const std::string& what) {
    if (rc == MPI_SUCCESS) [[likely]]
        return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
    throw Error(rank(), describe_rank() + ": " + what + " failed: " + std::string(text, std::size_t(len)));
}
}  // namespace ctgrad::dist::detail
#endif
