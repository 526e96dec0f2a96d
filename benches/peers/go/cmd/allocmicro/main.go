// Alloc micro: allocate n objects of 16, 64 and 256 bytes of payload, each
// stored into a 1024-entry ring (so it escapes and soon dies); ns/alloc.
// Usage: allocmicro [n=10000000]
package main

import (
	"fmt"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

var ring16 [1024]*[2]uint64
var ring64 [1024]*[8]uint64
var ring256 [1024]*[32]uint64

func main() {
	n := c.IntArg(1, 10000000)
	start := time.Now()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		p := new([2]uint64)
		p[0] = uint64(i)
		ring16[i&1023] = p
	}
	ns16 := float64(time.Since(t0).Nanoseconds()) / float64(n)
	t0 = time.Now()
	for i := 0; i < n; i++ {
		p := new([8]uint64)
		p[0] = uint64(i)
		ring64[i&1023] = p
	}
	ns64 := float64(time.Since(t0).Nanoseconds()) / float64(n)
	t0 = time.Now()
	for i := 0; i < n; i++ {
		p := new([32]uint64)
		p[0] = uint64(i)
		ring256[i&1023] = p
	}
	ns256 := float64(time.Since(t0).Nanoseconds()) / float64(n)
	var s uint64
	for i := 0; i < 1024; i++ {
		s += ring16[i][0] + ring64[i][0] + ring256[i][0]
	}
	fmt.Printf("n %d, check %d\n", n, s)
	fmt.Printf("16B %.2f ns/alloc, 64B %.2f ns/alloc, 256B %.2f ns/alloc\n", ns16, ns64, ns256)
	c.Result("go", "allocmicro", start, "ns_per_alloc_16="+c.Fmt(ns16), "ns_per_alloc_64="+c.Fmt(ns64), "ns_per_alloc_256="+c.Fmt(ns256))
}
