/* GCBench (after Hans Boehm's GCBench), Boehm GC. Usage: gcbench [depth=16] */
#include "common.h"

typedef struct Node { struct Node *left, *right; int i, j; } Node;

static int tree_size(int i) { return (1 << (i + 1)) - 1; }

static Node *new_node(Node *l, Node *r) {
    Node *n = GC_MALLOC(sizeof(Node));
    n->left = l; n->right = r; n->i = n->j = 0;
    return n;
}

static void populate(int depth, Node *n) {
    if (depth <= 0) return;
    depth--;
    n->left = new_node(NULL, NULL);
    n->right = new_node(NULL, NULL);
    populate(depth, n->left);
    populate(depth, n->right);
}

static Node *make_tree(int depth) {
    if (depth <= 0) return new_node(NULL, NULL);
    return new_node(make_tree(depth - 1), make_tree(depth - 1));
}

int main(int argc, char **argv) {
    gc_setup();
    int max_depth = int_arg(argc, argv, 1, 16), min_depth = 4, array_size = 500000;
    int long_lived_depth = max_depth, stretch_depth = max_depth + 2;
    double start = now_ns();
    printf("Garbage Collector Test\n");
    printf(" Stretching memory with a binary tree of depth %d\n", stretch_depth);
    volatile Node *tmp = make_tree(stretch_depth);
    tmp = NULL;
    printf(" Creating a long-lived binary tree of depth %d\n", long_lived_depth);
    Node *long_lived = new_node(NULL, NULL);
    populate(long_lived_depth, long_lived);
    printf(" Creating a long-lived array of %d doubles\n", array_size);
    double *array = GC_MALLOC_ATOMIC(sizeof(double) * array_size);
    for (int i = 0; i < array_size / 2; i++) array[i] = 1.0 / i;
    for (int i = array_size / 2; i < array_size; i++) array[i] = 0;
    for (int d = min_depth; d <= max_depth; d += 2) {
        int iters = 2 * tree_size(stretch_depth) / tree_size(d);
        printf("Creating %d trees of depth %d\n", iters, d);
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) { tmp = new_node(NULL, NULL); populate(d, (Node *)tmp); tmp = NULL; }
        printf("\tTop down construction took %.1f msec\n", (now_ns() - t0) / 1e6);
        t0 = now_ns();
        for (int i = 0; i < iters; i++) { tmp = make_tree(d); tmp = NULL; }
        printf("\tBottom up construction took %.1f msec\n", (now_ns() - t0) / 1e6);
    }
    if (long_lived == NULL || array[1000] != 1.0 / 1000) { printf("Failed\n"); return 1; }
    printf("Completed in %.1f msec\n", (now_ns() - start) / 1e6);
    result("c-boehm", "gcbench", start, 1, "");
    return 0;
}
