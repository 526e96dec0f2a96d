// Pause probe: a large live heap of 2^(liveDepth-6) slots, each a depth-6 tree
// (~2^(liveDepth+1) nodes), plus churn: every iteration builds a depth-6 tree,
// checks it, and every 4th iteration stores it into a slot (the old subtree
// becomes garbage). The loop timestamps each iteration; the gaps between
// consecutive iterations are the mutator-side latency measure.
// Usage: pauseprobe [liveDepth=20] [iters=500000]
// TRICOLOR_GO_TRACE=path writes a runtime/trace of the run (off by default).
package main

import (
	"fmt"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

func main() {
	liveDepth := c.IntArg(1, 20)
	iters := c.IntArg(2, 500000)
	const churnDepth = 6
	stopTrace := c.StartTrace()
	start := time.Now()
	nslots := 1 << (liveDepth - churnDepth)
	slots := make([]*c.Node, nslots)
	for i := range slots {
		slots[i] = c.BottomUp(churnDepth)
	}
	gaps := make([]int64, iters)
	check := 0
	prev := time.Now()
	for i := 0; i < iters; i++ {
		t := c.BottomUp(churnDepth)
		check += t.Check()
		if i%4 == 0 {
			slots[(i/4)%nslots] = t
		}
		now := time.Now()
		gaps[i] = now.Sub(prev).Nanoseconds()
		prev = now
	}
	live := 0
	for _, s := range slots {
		live += s.Check()
	}
	stopTrace()
	fmt.Printf("live nodes %d, iterations %d, check %d\n", live, iters, check)
	maxG, p99G := c.GapStats(gaps)
	c.Result("go", "pauseprobe", start, "max_gap_us="+c.Fmt(maxG), "p99_gap_us="+c.Fmt(p99G))
}
