// The non-template part of the command-line helpers (the CLI11 part is header-only).
#include <omp.h>

namespace ctgrad::train {

void set_num_threads(int n) {
    if (n > 0) omp_set_num_threads(n);
}

}  // namespace ctgrad::train
