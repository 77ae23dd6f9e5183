// ctgrad::dist's process group and collective primitives, on MPI_COMM_WORLD when built with MPI,
// and as one process otherwise.
#include <ctgrad/dist/all_reduce.hpp>
#include <ctgrad/dist/world.hpp>

#include <chrono>
#include <climits>
#include <cstdint>
#include <string>

#include "mpi_check.hpp"

namespace ctgrad::dist {

#ifdef CTGRAD_WITH_MPI
namespace {
bool mpi_active() noexcept {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}
MPI_Datatype mpi_type(detail::Scalar s) {
    switch (s) {
        case detail::Scalar::f32: return MPI_FLOAT;
        case detail::Scalar::f64: return MPI_DOUBLE;
        case detail::Scalar::i64: return MPI_INT64_T;
        case detail::Scalar::u64: return MPI_UINT64_T;
    }
    return MPI_DATATYPE_NULL;
}
std::size_t scalar_bytes(detail::Scalar s) { return s == detail::Scalar::f32 ? 4 : 8; }
const char* scalar_name(detail::Scalar s) {
    switch (s) {
        case detail::Scalar::f32: return "float";
        case detail::Scalar::f64: return "double";
        case detail::Scalar::i64: return "int64";
        case detail::Scalar::u64: return "uint64";
    }
    return "?";
}
}  // namespace

int rank() noexcept {
    if (!mpi_active()) return 0;
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}
int size() noexcept {
    if (!mpi_active()) return 1;
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}
bool initialized() noexcept { return mpi_active(); }
double wall_time() noexcept {
    if (mpi_active()) return MPI_Wtime();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void barrier() {
    if (size() == 1) return;
    detail::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

bool all_ok(bool ok) {
    if (size() == 1) return ok;
    int v = ok ? 1 : 0;
    detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "MPI_Allreduce (all_ok)");
    return v != 0;
}

namespace detail {
void all_reduce_sum(void* data, std::size_t count, Scalar type) {
    if (count == 0 || size() == 1) return;
    auto* p = static_cast<char*>(data);
    while (count > 0) {  // MPI counts are int
        const int n = count > std::size_t(INT_MAX) ? INT_MAX : int(count);
        check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, n, mpi_type(type), MPI_SUM, MPI_COMM_WORLD),
                  [&] { return "MPI_Allreduce (" + std::to_string(n) + " " + scalar_name(type) + " elements)"; });
        p += std::size_t(n) * scalar_bytes(type);
        count -= std::size_t(n);
    }
}
void broadcast_bytes(void* data, std::size_t bytes, int root) {
    if (bytes == 0 || size() == 1) return;
    auto* p = static_cast<char*>(data);
    while (bytes > 0) {
        const int n = bytes > std::size_t(INT_MAX) ? INT_MAX : int(bytes);
        check_mpi(MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD), [&] { return "MPI_Bcast (" + std::to_string(n) + " bytes)"; });
        p += n;
        bytes -= std::size_t(n);
    }
}
}  // namespace detail

#else  // one process

int rank() noexcept { return 0; }
int size() noexcept { return 1; }
bool initialized() noexcept { return false; }
double wall_time() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
void barrier() {}
bool all_ok(bool ok) { return ok; }
namespace detail {
void all_reduce_sum(void*, std::size_t, Scalar) {}
void broadcast_bytes(void*, std::size_t, int) {}
}  // namespace detail

#endif

std::string describe_rank() { return "rank " + std::to_string(rank()) + " of " + std::to_string(size()); }

}  // namespace ctgrad::dist
