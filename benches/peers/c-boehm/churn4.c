/* Four-thread churn (see benches/README.md), Boehm GC with GC_THREADS
 * (threads created through GC_pthread_create via gc.h's redirection).
 * Usage: churn4 [iters=200000] */
#include "common.h"
#include <pthread.h>

typedef struct Node { struct Node *left, *right; } Node;
typedef struct ListNode { struct ListNode *next; Node *shared; long val; } ListNode;

enum { THREADS = 4, LIST_LEN = 32, SHARED_DEPTH = 16 };
static Node *shared;
static long iters;

static Node *bottom_up(int depth) {
    Node *n = GC_MALLOC(sizeof(Node));
    if (depth > 0) { n->left = bottom_up(depth - 1); n->right = bottom_up(depth - 1); }
    else { n->left = n->right = NULL; }
    return n;
}

static long check(const Node *n) {
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static Node *pick(Node *root, long k) {
    Node *n = root;
    for (int b = 0; b < 8; b++) n = ((k >> b) & 1) == 0 ? n->left : n->right;
    return n;
}

static void *worker(void *arg) {
    long *out = arg, sum = 0;
    for (long i = 0; i < iters; i++) {
        ListNode *head = NULL;
        for (long j = 0; j < LIST_LEN; j++) {
            ListNode *n = GC_MALLOC(sizeof(ListNode));
            n->next = head; n->shared = pick(shared, i + j); n->val = j;
            head = n;
        }
        for (ListNode *n = head; n; n = n->next) sum += n->val + (n->shared->left != NULL);
    }
    *out = sum;
    return NULL;
}

int main(int argc, char **argv) {
    gc_setup();
    iters = int_arg(argc, argv, 1, 200000);
    double start = now_ns();
    shared = bottom_up(SHARED_DEPTH);
    pthread_t th[THREADS];
    long sums[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, worker, &sums[t]);
    long total = 0;
    for (int t = 0; t < THREADS; t++) { pthread_join(th[t], NULL); total += sums[t]; }
    printf("threads %d, iterations %ld, shared nodes %ld, check %ld\n", THREADS, iters, check(shared), total);
    result("c-boehm", "churn4", start, 1, "");
    return 0;
}
