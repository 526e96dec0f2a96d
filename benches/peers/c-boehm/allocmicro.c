/* Alloc micro (see benches/README.md), Boehm GC: GC_MALLOC_ATOMIC of 16, 64,
 * 256 bytes (pointer-free payload, like the other systems' u64 arrays).
 * Usage: allocmicro [n=10000000] */
#include "common.h"

static void *ring[1024];

static double bench(long n, size_t size) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        unsigned long *p = GC_MALLOC_ATOMIC(size);
        p[0] = (unsigned long)i;
        ring[i & 1023] = p;
    }
    return (now_ns() - t0) / (double)n;
}

int main(int argc, char **argv) {
    gc_setup();
    long n = int_arg(argc, argv, 1, 10000000);
    double start = now_ns();
    double a = bench(n, 16), b = bench(n, 64), c = bench(n, 256);
    unsigned long s = 0;
    for (int i = 0; i < 1024; i++) s += *(unsigned long *)ring[i];
    printf("n %ld, check %lu\n", n, s);
    printf("16B %.2f ns/alloc, 64B %.2f ns/alloc, 256B %.2f ns/alloc\n", a, b, c);
    char extra[160];
    sprintf(extra, " ns_per_alloc_16=%.3f ns_per_alloc_64=%.3f ns_per_alloc_256=%.3f", a, b, c);
    result("c-boehm", "allocmicro", start, 1, extra);
    return 0;
}
