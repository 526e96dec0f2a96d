package main

import "testing"

func TestParseGctrace(t *testing.T) {
	line := "gc 18 @3.263s 23%: 0.030+252+0.004 ms clock, 0.061+10/131/174+0.008 ms cpu, " +
		"152->179->90 MB, 179 MB goal, 0 MB stacks, 0 MB globals, 2 P"
	got, ok := parseGctrace(line)
	want := gcCycle{n: 18, markMs: 252, bgCPUMs: 131, heap1MB: 179, procs: 2}
	if !ok || got != want {
		t.Fatalf("parseGctrace = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := parseGctrace(line + " (forced)"); !ok {
		t.Fatal("a forced cycle's line must parse")
	}
	for _, bad := range []string{"", "pacer live slots 1, batches 2", "gc 1 @0.1s: 1+2+3 ms clock, 4 -> 5 -> 6 MB, 7 MB goal, 2 P"} {
		if _, ok := parseGctrace(bad); ok {
			t.Fatalf("parseGctrace(%q) matched", bad)
		}
	}
}

func TestGctraceOn(t *testing.T) {
	for env, want := range map[string]bool{
		"": false, "gctrace=1": true, "gctrace=0": false, "madvdontneed=1,gctrace=2": true,
		"gctrace=1,gctrace=0": false, "gctrace=x": false, "xgctrace=1": false,
	} {
		if got := gctraceOn(env); got != want {
			t.Errorf("gctraceOn(%q) = %v, want %v", env, got, want)
		}
	}
}
