// Pacer probe, the Go side of examples/pacer_probe.rs (compare.sh's pacer
// workload; issue 12, item 8). The two programs do the same work and measure
// the same quantities the same way; see the Rust file's header for the
// definitions, repeated briefly here.
//
// Usage: pacer [--live-mb L=64] [--secs S=10] [--warmup-secs W=1]
//
//	[--sample-ms M=10] [--rate-mb R=0]
//
// A live set of about L MiB of 64-byte nodes (slots of 64-node chains) is
// built, then the mutator runs batches of 1024 operations; an operation
// allocates one node: every 4th goes into the chain that next replaces a
// live slot (round robin, so the live size stays ~L MiB), the others into a
// 16-node garbage chain that is dropped when full. After W seconds of
// warm-up, S seconds are measured:
//
//   - each batch's duration; stall = max(0, d - median), stall_p99_ms and
//     stall_max_ms over all batches of the window;
//   - every M ms, between batches (not timed), runtime.ReadMemStats: the peak
//     HeapAlloc seen is peak_heap_mb, the NextGC at that sample goal_mb, and
//     overshoot = peak / goal;
//   - gc_cpu_fraction = MemStats.GCCPUFraction at the end (Go's: cumulative
//     since the process started, idle marking excluded);
//   - with GODEBUG=gctrace=1 the probe reads its own gctrace lines (fd 2
//     goes through a pipe; every line is passed on to the real stderr):
//     mark_worker_fraction = the median over the window's cycles of
//     background (dedicated + fractional) mark CPU / (concurrent-mark wall x
//     GOMAXPROCS), and overshoot_cycle = the largest heap at mark
//     termination / that cycle's goal over the window's cycles: the heap is
//     the H1 of the cycle's gctrace line (whole MB), the goal the NextGC of
//     the first sample taken while the cycle ran (NumGC one below its
//     number), exactly as the Rust probe computes it. Without gctrace both
//     are NA.
//
// --rate-mb R > 0 paces the allocation at R MiB/s (sleeping between batches;
// sleeps are not part of a batch's time); 0 runs flat out.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

// Node is 64 bytes: one pointer and seven words of payload (Go's 64-byte
// size class; the Rust node has the same layout).
type Node struct {
	Next *Node
	Pay  [7]uint64
}

const (
	nodeBytes  = 64
	chainLen   = 64   // nodes per live slot (4 KiB)
	batchOps   = 1024 // operations per timed batch
	liveEvery  = 4    // every 4th allocation goes into the live set
	garbageLen = 16   // nodes in a garbage chain before it is dropped
)

// sink keeps the checksum observable.
var sink uint64

func chain(n int, seed uint64) *Node {
	var h *Node
	for i := 0; i < n; i++ {
		h = &Node{Next: h}
		h.Pay[0] = seed + uint64(i)
	}
	return h
}

// mutator is the churn state between batches.
type mutator struct {
	slots      []*Node
	cursor     int
	building   *Node
	buildLen   int
	garbage    *Node
	garbageLen int
	seq        uint64
	sum        uint64
}

func (m *mutator) batch() {
	for i := 0; i < batchOps; i++ {
		m.seq++
		if m.seq%liveEvery == 0 {
			n := &Node{Next: m.building}
			n.Pay[0] = m.seq
			m.building = n
			m.buildLen++
			if m.buildLen == chainLen {
				m.slots[m.cursor] = m.building
				m.cursor = (m.cursor + 1) % len(m.slots)
				m.building, m.buildLen = nil, 0
			}
		} else {
			n := &Node{Next: m.garbage}
			n.Pay[0] = m.seq
			m.garbage = n
			m.garbageLen++
			if m.garbageLen == garbageLen {
				m.sum += m.garbage.Pay[0]
				m.garbage, m.garbageLen = nil, 0
			}
		}
	}
}

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// stalls returns (p99, max) in ms of max(0, d - median(d)) over the batch
// durations d (ns).
func stalls(d []int64) (p99, max float64) {
	if len(d) == 0 {
		return math.NaN(), math.NaN()
	}
	s := append([]int64(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var med int64
	if len(s)%2 == 1 {
		med = s[len(s)/2]
	} else {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	// Sorted durations give sorted stalls.
	stall := func(i int) float64 { return math.Max(0, float64(s[i]-med)) / 1e6 }
	idx := int(math.Ceil(0.99*float64(len(s)))) - 1
	return stall(idx), stall(len(s) - 1)
}

func fmtf(v float64, prec int) string {
	if math.IsNaN(v) {
		return "NA"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func main() {
	liveMB := flag.Float64("live-mb", 64, "live set size in MiB")
	secs := flag.Float64("secs", 10, "measured churn time in seconds")
	warm := flag.Float64("warmup-secs", 1, "churn time before measuring, in seconds")
	sampleMs := flag.Float64("sample-ms", 10, "heap sampling period in ms")
	rateMB := flag.Float64("rate-mb", 0, "allocation rate in MiB/s (0: as fast as possible)")
	flag.Parse()
	if *liveMB <= 0 || *secs <= 0 || *warm < 0 || *sampleMs <= 0 || *rateMB < 0 {
		fmt.Fprintln(os.Stderr, "pacer: --live-mb, --secs and --sample-ms must be > 0, --warmup-secs and --rate-mb >= 0")
		os.Exit(2)
	}
	trace := startTraceCapture()
	start := time.Now()

	nslots := int(*liveMB * (1 << 20) / (chainLen * nodeBytes))
	if nslots < 1 {
		nslots = 1
	}
	m := &mutator{slots: make([]*Node, nslots)}
	for i := range m.slots {
		m.slots[i] = chain(chainLen, uint64(i))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	liveBytes := ms.HeapAlloc

	batchBytes := float64(batchOps * nodeBytes)
	sampleEvery := time.Duration(*sampleMs * float64(time.Millisecond))
	var durations []int64
	var peak, peakGoal uint64
	var gc0, gc1 uint32
	goals := map[uint32]uint64{} // NumGC at a sample -> NextGC of the first such sample
	phaseStart := time.Now()
	var batches int64
	warmEnd := phaseStart.Add(time.Duration(*warm * float64(time.Second)))
	end := warmEnd.Add(time.Duration(*secs * float64(time.Second)))
	measuring := false
	lastSample := phaseStart
	for {
		t0 := time.Now()
		if !measuring && !t0.Before(warmEnd) {
			measuring = true
			runtime.ReadMemStats(&ms)
			gc0 = ms.NumGC
			goals[ms.NumGC] = ms.NextGC
			lastSample = time.Time{}
		}
		if !t0.Before(end) {
			break
		}
		m.batch()
		t1 := time.Now()
		batches++
		if measuring {
			durations = append(durations, int64(t1.Sub(t0)))
			if t1.Sub(lastSample) >= sampleEvery {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak {
					peak, peakGoal = ms.HeapAlloc, ms.NextGC
				}
				if _, seen := goals[ms.NumGC]; !seen {
					goals[ms.NumGC] = ms.NextGC
				}
				lastSample = time.Now()
			}
		}
		if *rateMB > 0 {
			due := phaseStart.Add(time.Duration(float64(batches) * batchBytes / (*rateMB * (1 << 20)) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
	}
	runtime.ReadMemStats(&ms)
	gc1 = ms.NumGC
	window := time.Since(warmEnd).Seconds()
	sink = m.sum

	p99, smax := stalls(durations)
	markFrac, overCycle := math.NaN(), math.NaN()
	if trace != nil {
		var fr []float64
		for _, cy := range trace.stop() {
			if cy.n <= int(gc0) || cy.n > int(gc1) {
				continue
			}
			if cy.markMs > 0 && cy.procs > 0 {
				fr = append(fr, cy.bgCPUMs/(cy.markMs*float64(cy.procs)))
			}
			if goal := goals[uint32(cy.n-1)]; goal > 0 {
				overCycle = math.Max(nanToZero(overCycle), float64(uint64(cy.heap1MB)<<20)/float64(goal))
			}
		}
		markFrac = median(fr)
	}
	overshoot := math.NaN()
	if peakGoal > 0 {
		overshoot = float64(peak) / float64(peakGoal)
	}
	var med float64
	if len(durations) > 0 {
		ds := make([]float64, len(durations))
		for i, d := range durations {
			ds[i] = float64(d)
		}
		med = median(ds) / 1e3
	}
	mb := func(b uint64) string { return fmtf(float64(b)/(1<<20), 1) }
	fmt.Printf("pacer live slots %d, batches %d\n", nslots, batches)
	c.Result("go", "pacer", start,
		fmt.Sprintf("mode=go gogc=%d memlimit_mb=%s live_mb=%s", readUint("/gc/gogc:percent"), memlimit(), mb(liveBytes)),
		"peak_heap_mb="+mb(peak), "goal_mb="+mb(peakGoal), "overshoot="+fmtf(overshoot, 3),
		"overshoot_cycle="+fmtf(overCycle, 3),
		"gc_cpu_fraction="+fmtf(ms.GCCPUFraction, 4), "mark_worker_fraction="+fmtf(markFrac, 4),
		"stall_p99_ms="+fmtf(p99, 3), "stall_max_ms="+fmtf(smax, 3),
		fmt.Sprintf("cycles=%d", gc1-gc0),
		fmt.Sprintf("batches=%d", len(durations)), "median_batch_us="+fmtf(med, 1),
		"alloc_mb_s="+fmtf(float64(len(durations))*batchBytes/(1<<20)/window, 1))
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// memlimit is GOMEMLIMIT in MiB, "off" when unset (math.MaxInt64).
func memlimit() string {
	l := readUint("/gc/gomemlimit:bytes")
	if l == 0 || l >= math.MaxInt64 {
		return "off"
	}
	return fmtf(float64(l)/(1<<20), 0)
}
