#pragma once
// Internal to src/dist: turning MPI return codes into dist::Error (MPI_ERRORS_RETURN is set on the
// communicator by dist::init()).
#include <string>
#include <type_traits>

#include <ctgrad/dist/error.hpp>
#include <ctgrad/dist/world.hpp>

#ifdef CTGRAD_WITH_MPI
#include <mpi.h>

namespace ctgrad::dist::detail {
/// Throws dist::Error "rank R of N: <what> failed: <MPI's text>" unless rc is MPI_SUCCESS.
/// `what` is a string or a callable returning one: only built on failure, so that a successful
/// call allocates nothing.
template <class What>
void check_mpi(int rc, const What& what) {
    if (rc == MPI_SUCCESS) [[likely]]
        return;
    std::string name;
    if constexpr (std::is_invocable_v<const What&>) name = what();
    else name = what;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
    throw Error(rank(), describe_rank() + ": " + name + " failed: " + std::string(text, std::size_t(len)));
}
}  // namespace ctgrad::dist::detail
#endif
