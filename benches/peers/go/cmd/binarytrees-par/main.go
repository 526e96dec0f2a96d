// binary-trees (Benchmarks Game rules), one goroutine per depth.
// Run with GOMAXPROCS=2. Usage: binarytrees-par [depth=21]
package main

import (
	"fmt"
	"sync"
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
	lines := make([]string, maxDepth+1)
	var wg sync.WaitGroup
	for d := minDepth; d <= maxDepth; d += 2 {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			iters := 1 << (maxDepth - d + minDepth)
			check := 0
			for i := 0; i < iters; i++ {
				check += c.BottomUp(d).Check()
			}
			lines[d] = fmt.Sprintf("%d\t trees of depth %d\t check: %d", iters, d, check)
		}(d)
	}
	wg.Wait()
	for d := minDepth; d <= maxDepth; d += 2 {
		fmt.Println(lines[d])
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.Check())
	c.Result("go-par", "binarytrees", start)
}
