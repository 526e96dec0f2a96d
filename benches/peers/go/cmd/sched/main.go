// Scheduler benchmarks (issue 11): the Go side of the `sched` workload of
// benches/compare.sh. The same four measurements exist for tricolor-gc's
// gc-runtime, tokio and may in benches/peers/rust-sched.
//
// Usage (GOMAXPROCS from the environment, as the harness sets it):
//
//	sched pingpong N   two goroutines bounce a token over two unbuffered
//	                   channels N times; µs per round trip
//	sched spawn N      spawn N goroutines (each writes one slot), join all
//	                   with a WaitGroup; µs per spawn+join
//	sched fanout T W   T tasks of W LCG iterations each, joined; ms (the
//	                   harness runs it with GOMAXPROCS=1 and =2)
//	sched parked N     N goroutines each blocked on a receive from its own
//	                   unbuffered channel; peak RSS (VmHWM) once all are
//	                   parked, then release and join
//
// Each prints a check line and, last, the harness's RESULT line.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	c "tricolor-gc/benches/peers/go/internal/common"
)

// LCG constants (Knuth's MMIX); every system of the benchmark uses them.
// The xorshift step before each LCG step keeps the loop non-linear, so no
// compiler can fold k steps into one multiply-add (LLVM reassociates a pure
// LCG loop that way, Go's compiler does not: the work would differ).
const (
	lcgMul = 6364136223846793005
	lcgAdd = 1442695040888963407
)

// work runs iters xorshift+LCG steps from seed: the fan-out's unit of CPU
// work.
func work(seed uint64, iters int) uint64 {
	x := seed
	for i := 0; i < iters; i++ {
		x ^= x >> 29
		x = x*lcgMul + lcgAdd
	}
	return x
}

// cpuTime is the process's user+system CPU time (getrusage RUSAGE_SELF).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runDelay sums, over the process's threads, the time they were runnable but
// waiting for a CPU (field 2 of /proc/self/task/*/schedstat): CPU time the
// machine denied the process, as opposed to an idle P.
func runDelay() time.Duration {
	files, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var ns int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if fs := strings.Fields(string(b)); len(fs) > 1 {
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			ns += v
		}
	}
	return time.Duration(ns)
}

// statusKB returns a "VmHWM"/"VmRSS" field of /proc/self/status in KiB.
func statusKB(key string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			f := strings.Fields(line[len(key)+1:])
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return -1
}

func pingpong(n int) {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < 1000; i++ { // warm-up
		ping <- i
		<-pong
	}
	start := time.Now()
	var sum uint64
	for i := 0; i < n; i++ {
		ping <- i
		sum += uint64(<-pong)
	}
	el := time.Since(start)
	close(ping)
	us := float64(el.Nanoseconds()) / 1e3 / float64(n)
	fmt.Printf("pingpong n %d, check %d\n", n, sum)
	fmt.Printf("%.3f us per round trip\n", us)
	c.Result("go", "sched-pingpong", start, "us_per_rtt="+c.Fmt(us), fmt.Sprintf("n=%d", n),
		fmt.Sprintf("procs=%d", runtime.GOMAXPROCS(0)), "go="+runtime.Version())
}

func spawn(n int) {
	out := make([]uint64, n)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			out[i] = 2*uint64(i) + 1
			wg.Done()
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	var sum uint64
	for _, v := range out {
		sum += v
	}
	us := float64(el.Nanoseconds()) / 1e3 / float64(n)
	fmt.Printf("spawn n %d, check %d\n", n, sum)
	fmt.Printf("%.3f us per spawn+join\n", us)
	c.Result("go", "sched-spawn", start, "us_per_spawn="+c.Fmt(us), fmt.Sprintf("n=%d", n),
		fmt.Sprintf("procs=%d", runtime.GOMAXPROCS(0)), "go="+runtime.Version())
}

func fanout(tasks, iters int) {
	out := make([]uint64, tasks)
	wait0 := runDelay()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(tasks)
	for i := 0; i < tasks; i++ {
		go func(i int) {
			out[i] = work(uint64(i), iters)
			wg.Done()
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	cpuMs := float64((cpuTime() - cpu0).Nanoseconds()) / 1e6
	waitMs := float64((runDelay() - wait0).Nanoseconds()) / 1e6
	var x uint64
	for _, v := range out {
		x ^= v
	}
	ms := float64(el.Nanoseconds()) / 1e6
	procs := runtime.GOMAXPROCS(0)
	fmt.Printf("fanout tasks %d, work %d, check %d\n", tasks, iters, x)
	fmt.Printf("%.1f ms on %d procs (%.2f cores busy, %.2f denied by the machine)\n", ms, procs, cpuMs/ms, waitMs/ms)
	c.Result("go", fmt.Sprintf("sched-fanout-%dp", procs), start, "fanout_ms="+c.Fmt(ms),
		"cpu_ms="+c.Fmt(cpuMs), "cores_used="+c.Fmt(cpuMs/ms),
		"run_delay_ms="+c.Fmt(waitMs), "cores_denied="+c.Fmt(waitMs/ms),
		fmt.Sprintf("procs=%d", procs), fmt.Sprintf("tasks=%d", tasks), fmt.Sprintf("work=%d", iters),
		"go="+runtime.Version())
}

func parked(n int) {
	start := time.Now()
	baseKB := statusKB("VmRSS")
	chans := make([]chan uint64, n)
	for i := range chans {
		chans[i] = make(chan uint64)
	}
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	var mu sync.Mutex
	var sum uint64
	for i := 0; i < n; i++ {
		go func(ch chan uint64) {
			started.Done()
			v := <-ch
			mu.Lock()
			sum += v
			mu.Unlock()
			done.Done()
		}(chans[i])
	}
	started.Wait()
	// Every goroutine has run up to its receive; give the last ones time to park.
	time.Sleep(50 * time.Millisecond)
	hwmKB := statusKB("VmHWM")
	rssKB := statusKB("VmRSS")
	for i, ch := range chans {
		ch <- uint64(i)
	}
	done.Wait()
	mb := hwmKB / 1024
	perG := (hwmKB - baseKB) / float64(n)
	fmt.Printf("parked n %d, check %d\n", n, sum)
	fmt.Printf("peak RSS %.1f MB with %d goroutines parked (%.2f KiB each above the %.1f MB base)\n", mb, n, perG, baseKB/1024)
	c.Result("go", "sched-parked", start, "peak_rss_mb="+c.Fmt(mb), "parked_rss_mb="+c.Fmt(rssKB/1024),
		"base_rss_mb="+c.Fmt(baseKB/1024), "kb_per_g="+c.Fmt(perG), fmt.Sprintf("n=%d", n),
		fmt.Sprintf("procs=%d", runtime.GOMAXPROCS(0)), "go="+runtime.Version())
}

func main() {
	sub := ""
	if len(os.Args) > 1 {
		sub = os.Args[1]
	}
	// Shift so IntArg(1, ...) is the sub-benchmark's first argument.
	if len(os.Args) > 1 {
		os.Args = os.Args[1:]
	}
	switch sub {
	case "pingpong":
		pingpong(c.IntArg(1, 1000000))
	case "spawn":
		spawn(c.IntArg(1, 1000000))
	case "fanout":
		fanout(c.IntArg(1, 64), c.IntArg(2, 20000000))
	case "parked":
		parked(c.IntArg(1, 100000))
	default:
		fmt.Fprintln(os.Stderr, "usage: sched pingpong N | spawn N | fanout T W | parked N")
		os.Exit(2)
	}
}
