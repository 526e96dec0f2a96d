// Four-thread churn: a shared long-lived tree of depth 16; 4 goroutines each
// build and drop `iters` linked lists of 32 nodes whose nodes point into the
// shared tree. Usage: churn4 [iters=200000]
// TRICOLOR_GO_TRACE=path writes a runtime/trace of the run (off by default).
package main

import (
	"fmt"
	"sync"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

type ListNode struct {
	Next   *ListNode
	Shared *c.Node
	Val    int64
}

const threads = 4
const listLen = 32
const sharedDepth = 16

// pick walks 8 levels down the shared tree following the bits of k.
func pick(root *c.Node, k int) *c.Node {
	n := root
	for b := 0; b < 8; b++ {
		if k>>b&1 == 0 {
			n = n.Left
		} else {
			n = n.Right
		}
	}
	return n
}

func worker(shared *c.Node, iters int) int64 {
	var sum int64
	for i := 0; i < iters; i++ {
		var head *ListNode
		for j := 0; j < listLen; j++ {
			head = &ListNode{Next: head, Shared: pick(shared, i+j), Val: int64(j)}
		}
		for n := head; n != nil; n = n.Next {
			sum += n.Val
			if n.Shared.Left != nil {
				sum++
			}
		}
	}
	return sum
}

func main() {
	iters := c.IntArg(1, 200000)
	stopTrace := c.StartTrace()
	start := time.Now()
	shared := c.BottomUp(sharedDepth)
	sums := make([]int64, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			sums[t] = worker(shared, iters)
		}(t)
	}
	wg.Wait()
	var total int64
	for _, s := range sums {
		total += s
	}
	stopTrace()
	fmt.Printf("threads %d, iterations %d, shared nodes %d, check %d\n", threads, iters, shared.Check(), total)
	c.Result("go", "churn4", start)
}
