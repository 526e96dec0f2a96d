package common

// Opt-in execution trace for the peers (the Go side of tricolor-gc's
// TRICOLOR_TRACE): TRICOLOR_GO_TRACE=path writes a runtime/trace file of the
// measured part, which benches/go_mmu.sh reads with `go tool trace` for Go's
// minimum mutator utilisation. Unset or empty: no trace, and nothing else
// changes (one getenv at start). A path that cannot be created, or a trace
// that cannot start, warns once on stderr and the run goes on untraced; a
// failed close warns too, so a short file is never taken for a whole trace.

import (
	"fmt"
	"os"
	"runtime/trace"
)

// TraceEnv names the environment variable that turns tracing on.
const TraceEnv = "TRICOLOR_GO_TRACE"

// StartTrace starts a runtime/trace to the file named by TRICOLOR_GO_TRACE,
// if set, and returns the function that stops it and closes the file (a
// no-op when tracing is off). Call the returned function before printing
// the RESULT line, so the trace's flush is not part of anything measured
// after it.
func StartTrace() (stop func()) {
	path := os.Getenv(TraceEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v; running without a trace\n", TraceEnv, path, err)
		return func() {}
	}
	if err := trace.Start(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: trace.Start: %v; running without a trace\n", TraceEnv, path, err)
		f.Close()
		os.Remove(path)
		return func() {}
	}
	return func() {
		trace.Stop()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "%s=%q: closing the trace: %v (the file may be truncated)\n", TraceEnv, path, err)
		}
	}
}
