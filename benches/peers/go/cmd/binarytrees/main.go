// binary-trees (Benchmarks Game rules), single-threaded.
// Usage: binarytrees [depth=21]
package main

import (
	"fmt"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

func main() {
	n := c.IntArg(1, 21)
	start := time.Now()
	minDepth := 4
	maxDepth := n
	if minDepth+2 > n {
		maxDepth = minDepth + 2
	}
	stretch := maxDepth + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretch, c.BottomUp(stretch).Check())
	longLived := c.BottomUp(maxDepth)
	for d := minDepth; d <= maxDepth; d += 2 {
		iters := 1 << (maxDepth - d + minDepth)
		check := 0
		for i := 0; i < iters; i++ {
			check += c.BottomUp(d).Check()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iters, d, check)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.Check())
	c.Result("go", "binarytrees", start)
}
