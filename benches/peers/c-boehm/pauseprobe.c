/* Pause probe (see benches/README.md), Boehm GC.
 * Usage: pauseprobe [live_depth=20] [iters=500000] */
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
    int live_depth = int_arg(argc, argv, 1, 20);
    long iters = int_arg(argc, argv, 2, 500000);
    const int churn_depth = 6;
    double start = now_ns();
    long nslots = 1L << (live_depth - churn_depth);
    Node **slots = GC_MALLOC(sizeof(Node *) * nslots);
    for (long i = 0; i < nslots; i++) slots[i] = bottom_up(churn_depth);
    double *gaps = malloc(sizeof(double) * iters);
    long c = 0;
    double prev = now_ns();
    for (long i = 0; i < iters; i++) {
        Node *t = bottom_up(churn_depth);
        c += check(t);
        if (i % 4 == 0) slots[(i / 4) % nslots] = t;
        double now = now_ns();
        gaps[i] = now - prev;
        prev = now;
    }
    long live = 0;
    for (long i = 0; i < nslots; i++) live += check(slots[i]);
    printf("live nodes %ld, iterations %ld, check %ld\n", live, iters, c);
    double mx, p99;
    stats_us(gaps, iters, &mx, &p99);
    char extra[128];
    sprintf(extra, " max_gap_us=%.3f p99_gap_us=%.3f", mx, p99);
    result("c-boehm", "pauseprobe", start, 1, extra);
    return 0;
}
