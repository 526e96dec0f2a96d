/* binary-trees (Benchmarks Game rules), Boehm GC, single-threaded.
 * Usage: binarytrees [depth=21] */
#include "common.h"

typedef struct Node { struct Node *left, *right; } Node;

static Node *bottom_up(int depth) {
    Node *n = GC_MALLOC(sizeof(Node));
    if (depth > 0) { n->left = bottom_up(depth - 1); n->right = bottom_up(depth - 1); }
    else { n->left = n->right = NULL; }
    return n;
}

static long check(const Node *n) {
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

int main(int argc, char **argv) {
    gc_setup();
    int n = int_arg(argc, argv, 1, 21);
    double start = now_ns();
    int min_depth = 4, max_depth = n < min_depth + 2 ? min_depth + 2 : n, stretch = max_depth + 1;
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check(bottom_up(stretch)));
    Node *long_lived = bottom_up(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + min_depth), c = 0;
        for (long i = 0; i < iters; i++) c += check(bottom_up(d));
        printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, c);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    result("c-boehm", "binarytrees", start, 1, "");
    return 0;
}
