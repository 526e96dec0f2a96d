// Package common holds the RESULT-line and pause-statistics helpers shared by
// the Go peers of the tricolor-gc cross-system benchmarks.
package common

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IntArg returns os.Args[i] as an int, or def when absent.
func IntArg(i, def int) int {
	if len(os.Args) > i {
		v, err := strconv.Atoi(os.Args[i])
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad argument %q: %v\n", os.Args[i], err)
			os.Exit(2)
		}
		return v
	}
	return def
}

// Pauses reads the runtime's GC stop-the-world pause histogram and returns
// (max, p99) in microseconds. The histogram is bucketed, so both values are
// the upper bound of the bucket that holds them (within ~20%).
func Pauses() (maxUs, p99Us float64, n uint64) {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return math.NaN(), math.NaN(), 0
	}
	h := s[0].Value.Float64Histogram()
	for _, c := range h.Counts {
		n += c
	}
	if n == 0 {
		return 0, 0, 0
	}
	upper := func(i int) float64 {
		b := h.Buckets[i+1]
		if math.IsInf(b, 1) {
			b = h.Buckets[i]
		}
		return b * 1e6
	}
	target := uint64(math.Ceil(0.99 * float64(n)))
	var cum uint64
	p99Us = math.NaN()
	for i, c := range h.Counts {
		cum += c
		if c > 0 {
			maxUs = upper(i)
		}
		if math.IsNaN(p99Us) && cum >= target {
			p99Us = upper(i)
		}
	}
	return maxUs, p99Us, n
}

// GapStats returns (max, p99) in microseconds of the given gaps (ns).
func GapStats(gaps []int64) (maxUs, p99Us float64) {
	if len(gaps) == 0 {
		return math.NaN(), math.NaN()
	}
	s := append([]int64(nil), gaps...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(math.Ceil(0.99*float64(len(s)))) - 1
	return float64(s[len(s)-1]) / 1e3, float64(s[idx]) / 1e3
}

// Fmt formats a float for a RESULT field, n/a for NaN.
func Fmt(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Result prints the common final summary line. extra is "key=value" pairs.
func Result(system, workload string, start time.Time, extra ...string) {
	wall := float64(time.Since(start).Nanoseconds()) / 1e6
	maxP, p99P, n := Pauses()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fields := []string{
		"RESULT", "system=" + system, "workload=" + workload,
		"wall_ms=" + Fmt(wall),
		"max_pause_us=" + Fmt(maxP), "p99_pause_us=" + Fmt(p99P),
		fmt.Sprintf("gc_pauses=%d", n), fmt.Sprintf("gcs=%d", ms.NumGC),
	}
	fields = append(fields, extra...)
	fmt.Println(strings.Join(fields, " "))
}
