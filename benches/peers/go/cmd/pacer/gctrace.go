package main

// Reading the probe's own GODEBUG=gctrace=1 lines: the runtime prints them
// on fd 2, so while the probe runs fd 2 is a pipe whose reader passes every
// line on to the original stderr and keeps the figures of each gctrace line.

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// gcCycle holds the figures of one gctrace line that the probe uses.
type gcCycle struct {
	n       int     // cycle number (NumGC after the cycle)
	markMs  float64 // concurrent mark, wall clock (the B of A+B+C ms clock)
	bgCPUMs float64 // dedicated + fractional mark CPU (the F of D+E/F/G+H ms cpu)
	heap1MB int     // heap at mark termination (H1 of H0->H1->H2 MB)
	procs   int     // GOMAXPROCS
}

// gc N @T s U%: A+B+C ms clock, D+E/F/G+H ms cpu, H0->H1->H2 MB, GL MB goal, ..., P P
var gctraceRE = regexp.MustCompile(`^gc (\d+) @[0-9.]+s [0-9]+%: [0-9.]+\+([0-9.]+)\+[0-9.]+ ms clock, ` +
	`[0-9.]+\+[0-9.]+/([0-9.]+)/[0-9.]+\+[0-9.]+ ms cpu, \d+->(\d+)->\d+ MB, \d+ MB goal, .* (\d+) P`)

func parseGctrace(line string) (gcCycle, bool) {
	m := gctraceRE.FindStringSubmatch(line)
	if m == nil {
		return gcCycle{}, false
	}
	n, _ := strconv.Atoi(m[1])
	b, _ := strconv.ParseFloat(m[2], 64)
	f, _ := strconv.ParseFloat(m[3], 64)
	h1, _ := strconv.Atoi(m[4])
	p, _ := strconv.Atoi(m[5])
	return gcCycle{n: n, markMs: b, bgCPUMs: f, heap1MB: h1, procs: p}, true
}

// gctraceOn reports whether GODEBUG turns gctrace on (the last gctrace=
// item wins, as in the runtime's parser).
func gctraceOn(godebug string) bool {
	on := false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "gctrace="); ok {
			n, err := strconv.Atoi(v)
			on = err == nil && n > 0
		}
	}
	return on
}

type traceCapture struct {
	mu     sync.Mutex
	cycles []gcCycle
	w      *os.File
	orig   int
	done   chan struct{}
}

// startTraceCapture routes fd 2 through a pipe when gctrace is on; nil
// (nothing changed) when it is off or the pipe cannot be set up.
func startTraceCapture() *traceCapture {
	if !gctraceOn(os.Getenv("GODEBUG")) {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	orig, err := syscall.Dup(2)
	if err != nil {
		r.Close()
		w.Close()
		return nil
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		syscall.Close(orig)
		r.Close()
		w.Close()
		return nil
	}
	t := &traceCapture{w: w, orig: orig, done: make(chan struct{})}
	out := os.NewFile(uintptr(orig), "stderr")
	go func() {
		defer close(t.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			out.WriteString(line + "\n")
			if cy, ok := parseGctrace(line); ok {
				t.mu.Lock()
				t.cycles = append(t.cycles, cy)
				t.mu.Unlock()
			}
		}
		r.Close()
	}()
	return t
}

// stop puts the original stderr back on fd 2, waits for the reader to drain
// the pipe and returns the cycles seen.
func (t *traceCapture) stop() []gcCycle {
	if err := syscall.Dup3(t.orig, 2, 0); err != nil {
		return nil
	}
	t.w.Close()
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cycles
}
