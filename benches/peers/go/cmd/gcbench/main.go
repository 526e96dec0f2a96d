// GCBench (after Hans Boehm's GCBench.java). Usage: gcbench [depth=16]
// long-lived tree depth = depth, stretch = depth+2, trees of depth 4..depth step 2,
// long-lived array of 500000 doubles.
package main

import (
	"fmt"
	"os"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

type Node struct {
	Left, Right *Node
	I, J        int32
}

func treeSize(i int) int { return (1 << (i + 1)) - 1 }

func populate(depth int, n *Node) {
	if depth <= 0 {
		return
	}
	depth--
	n.Left = &Node{}
	n.Right = &Node{}
	populate(depth, n.Left)
	populate(depth, n.Right)
}

func makeTree(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{Left: makeTree(depth - 1), Right: makeTree(depth - 1)}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func main() {
	maxDepth := c.IntArg(1, 16)
	const minDepth = 4
	const arraySize = 500000
	longLivedDepth := maxDepth
	stretchDepth := maxDepth + 2
	start := time.Now()
	fmt.Println("Garbage Collector Test")
	fmt.Printf(" Stretching memory with a binary tree of depth %d\n", stretchDepth)
	_ = makeTree(stretchDepth)
	fmt.Printf(" Creating a long-lived binary tree of depth %d\n", longLivedDepth)
	longLived := &Node{}
	populate(longLivedDepth, longLived)
	fmt.Printf(" Creating a long-lived array of %d doubles\n", arraySize)
	array := make([]float64, arraySize)
	for i := 0; i < arraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	for d := minDepth; d <= maxDepth; d += 2 {
		iters := 2 * treeSize(stretchDepth) / treeSize(d)
		fmt.Printf("Creating %d trees of depth %d\n", iters, d)
		t0 := time.Now()
		for i := 0; i < iters; i++ {
			t := &Node{}
			populate(d, t)
		}
		fmt.Printf("\tTop down construction took %.1f msec\n", ms(time.Since(t0)))
		t0 = time.Now()
		for i := 0; i < iters; i++ {
			_ = makeTree(d)
		}
		fmt.Printf("\tBottom up construction took %.1f msec\n", ms(time.Since(t0)))
	}
	if longLived == nil || array[1000] != 1.0/1000 {
		fmt.Println("Failed")
		os.Exit(1)
	}
	fmt.Printf("Completed in %.1f msec\n", ms(time.Since(start)))
	c.Result("go", "gcbench", start)
}
