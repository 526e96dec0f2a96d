/* Shared helpers for the C peers (Boehm GC and malloc) of the tricolor-gc
 * cross-system benchmarks: clock, RESULT line, GC pause recording. */
#ifndef PEER_COMMON_H
#define PEER_COMMON_H
#define GC_THREADS
#include <gc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int int_arg(int argc, char **argv, int i, int def) {
    return argc > i ? atoi(argv[i]) : def;
}

/* ---- GC pause recording via GC_set_on_collection_event ----
 * A pause is PRE_STOP_WORLD -> POST_START_WORLD when the collector reports
 * stop-the-world events, otherwise START -> END of a (stop-the-world, in
 * non-incremental mode) collection. */
#define MAX_PAUSES (1 << 20)
static double *pause_stw, *pause_coll;
static size_t n_stw, n_coll;
static double t_stw, t_coll;

static void on_gc_event(GC_EventType e) {
    double t = now_ns();
    switch (e) {
    case GC_EVENT_START: t_coll = t; break;
    case GC_EVENT_END: if (n_coll < MAX_PAUSES) pause_coll[n_coll++] = t - t_coll; break;
    case GC_EVENT_PRE_STOP_WORLD: t_stw = t; break;
    case GC_EVENT_POST_START_WORLD: if (n_stw < MAX_PAUSES) pause_stw[n_stw++] = t - t_stw; break;
    default: break;
    }
}

static void gc_setup(void) {
    GC_INIT();
    pause_stw = malloc(sizeof(double) * MAX_PAUSES);
    pause_coll = malloc(sizeof(double) * MAX_PAUSES);
    GC_set_on_collection_event(on_gc_event);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* max and p99 of v[0..n) in microseconds (v in ns); NaN if n == 0. */
static void stats_us(double *v, size_t n, double *max_us, double *p99_us) {
    if (n == 0) { *max_us = NAN; *p99_us = NAN; return; }
    qsort(v, n, sizeof(double), cmp_double);
    size_t idx = (size_t)ceil(0.99 * (double)n) - 1;
    *max_us = v[n - 1] / 1e3;
    *p99_us = v[idx] / 1e3;
}

static void fmt_val(char *buf, double v) {
    if (isnan(v)) strcpy(buf, "n/a"); else sprintf(buf, "%.3f", v);
}

/* Prints the RESULT line. with_gc: report Boehm pauses; extra: " k=v ..." or "". */
static void result(const char *system, const char *workload, double start_ns, int with_gc, const char *extra) {
    double wall_ms = (now_ns() - start_ns) / 1e6;
    double mx = NAN, p99 = NAN;
    size_t n = 0;
    if (with_gc) {
        if (n_stw > 0) { n = n_stw; stats_us(pause_stw, n_stw, &mx, &p99); }
        else { n = n_coll; stats_us(pause_coll, n_coll, &mx, &p99); }
        if (n == 0) { mx = 0; p99 = 0; }
    }
    char a[32], b[32];
    fmt_val(a, mx); fmt_val(b, p99);
    if (with_gc)
        printf("RESULT system=%s workload=%s wall_ms=%.3f max_pause_us=%s p99_pause_us=%s gcs=%lu%s\n",
               system, workload, wall_ms, a, b, (unsigned long)GC_get_gc_no(), extra);
    else
        printf("RESULT system=%s workload=%s wall_ms=%.3f max_pause_us=n/a p99_pause_us=n/a%s\n",
               system, workload, wall_ms, extra);
    fflush(stdout);
}
#endif
