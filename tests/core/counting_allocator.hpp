#pragma once
// Replaces the global operator new/delete of the test program with counting versions, so a test
// can prove how many heap allocations (and of what size) a piece of code performs.
// Include from exactly one translation unit of a test program.
#include <atomic>
#include <cstdlib>
#include <new>

namespace ctgrad::test {
struct AllocationLog {
    std::size_t count = 0;
    std::size_t bytes = 0;
    std::size_t largest = 0;
};
inline std::atomic<bool> g_counting{false};
inline AllocationLog g_log;

/// Counts the allocations made while it is alive (on any thread).
class CountAllocations {
public:
    CountAllocations() {
        g_log = {};
        g_counting = true;
    }
    ~CountAllocations() { g_counting = false; }
    AllocationLog log() const { return g_log; }
};

inline void* counted_alloc(std::size_t n, std::size_t align) {
    if (g_counting.load(std::memory_order_relaxed)) {
        ++g_log.count;
        g_log.bytes += n;
        if (n > g_log.largest) g_log.largest = n;
    }
    void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                                : std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
}
/// Not inlined: GCC 12 would otherwise see free() applied to the result of operator new and warn
/// (-Wmismatched-new-delete), not knowing that this file's operator new calls malloc.
[[gnu::noinline]] inline void counted_free(void* p) noexcept { std::free(p); }
}  // namespace ctgrad::test

void* operator new(std::size_t n) { return ctgrad::test::counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return ctgrad::test::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return ctgrad::test::counted_alloc(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return ctgrad::test::counted_alloc(n, std::size_t(a)); }
void operator delete(void* p) noexcept { ctgrad::test::counted_free(p); }
void operator delete[](void* p) noexcept { ctgrad::test::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { ctgrad::test::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { ctgrad::test::counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { ctgrad::test::counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ctgrad::test::counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ctgrad::test::counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ctgrad::test::counted_free(p); }
