#!/usr/bin/env bash
# Go's minimum mutator utilisation beside tricolor-gc's (issue 13).
#
#   benches/go_mmu.sh [--runs N] [--no-ours] [--keep-traces] [--nice N]
#
# Builds the Go peers pauseprobe and churn4 with Go 1.23 and Go 1.26, runs
# them (GOMAXPROCS=2 GOGC=100, as compare.sh) with TRICOLOR_GO_TRACE=file,
# and reads each trace's MMU from `go tool trace` itself, headless: the tool
# serves the trace on 127.0.0.1, and its MMU page's data endpoint
# (`/mmu?mode=details&window=NS&flags=...`, internal/trace/traceviewer/mmu.go)
# lists the worst windows of a length, computed exactly by internal/trace's
# MMUCurve; the smallest is the MMU. Windows 100 µs, 1 ms, 10 ms, 100 ms, 1 s.
# Three figures per Go trace:
#   stw            flags=stw: the stop-the-world ranges only (comparable to
#                  ours, which counts the collector's stops)
#   default        flags=stw|background|assist, the MMU page's default
#                  ("System" view: a P running a mark worker or an assist
#                  counts as 1/GOMAXPROCS of the mutator lost), by the
#                  go tool trace that ships with that Go
#   default-fixed  the same flags, by cmd/trace built from the same Go's
#                  source with one line added to internal/trace's
#                  MutatorUtilizationV2 (`go build -overlay`): shipped, it
#                  counts a mark worker's P once more on every run after its
#                  first and never uncounts it (its goroutine stays marked
#                  and the label each run carries adds again), so
#                  the series sticks at 0 and ends early (see docs/design.md,
#                  "Execution trace, MMU and metrics (issue 13)")
# and two checks, rebuilt by this script's own code from `go tool trace -d`
# text: the stw figure with the exact algorithm of
# gc-core/src/exectrace/mmu.rs (the worst window starts or ends at a stop's
# edge), and the default figure from its own model of which P is lost to
# the collector when; the largest difference from the tool's is printed.
# tricolor-gc's own rows (unless --no-ours): TRICOLOR_TRACE=file
# examples/pause_probe 18 100000 and examples/churn4 50000, then
# `gc-trace mmu file`. Runs are interleaved: run, then workload, then system.
# Writes $OUT/raw.tsv and $OUT/table.md (OUT defaults to
# ${CARGO_TARGET_DIR:-target}/go-mmu) and prints the table: median and
# (min–max) over the runs per cell. Needs go (1.23 and/or 1.26), curl, jq,
# python3; no network (cmd/trace is in GOROOT).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/benches/peers/go
GO123=${GO123:-/usr/lib/go-1.23/bin/go}
GO126=${GO126:-/usr/lib/go-1.26/bin/go}
TGT=${CARGO_TARGET_DIR:-$ROOT/target}
case $TGT in /*) ;; *) TGT=$ROOT/$TGT ;; esac
OUT=${GO_MMU_OUT:-$TGT/go-mmu}
RUNS=3
OURS=1
KEEP=0
NICE=10
PP_ARGS=(18 100000)
CH_ARGS=(50000)
WINDOWS_NS=(100000 1000000 10000000 100000000 1000000000)
CMDLINE="benches/go_mmu.sh $*"

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --no-ours) OURS=0 ;;
        --keep-traces) KEEP=1 ;;
        --nice) NICE=${2:?--nice needs a niceness}; shift ;;
        --nice=*) NICE=${1#--nice=} ;;
        -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
        *) echo "go_mmu.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
case $RUNS in ''|*[!0-9]*|0) echo "go_mmu.sh: --runs wants a positive integer, not '$RUNS'" >&2; exit 2 ;; esac
for t in curl jq python3; do
    command -v "$t" >/dev/null || { echo "go_mmu.sh: $t is missing" >&2; exit 1; }
done

mkdir -p "$OUT/bin" "$OUT/tools" "$OUT/traces" "$OUT/logs"
log() { printf '[go_mmu %s] %s\n' "$(date +%T)" "$*" >&2; }
RAW=$OUT/raw.tsv
printf 'system\tworkload\trun\tfigure\twindow_ns\tmmu\n' >"$RAW"

# --- helper: exact MMU from a `go tool trace -d` dump, and the table -------
HELPER=$OUT/go_mmu_helper.py
cat >"$HELPER" <<'PY'
"""go_mmu.sh's helper. `stw DUMP W...`: the MMU of each window W (ns) from
the GC stop-the-world ranges of a `go tool trace -d` dump, computed exactly
as gc-core/src/exectrace/mmu.rs does, over the span go tool trace uses (the
first GOMAXPROCS metric to the last event). `ours GCTRACE_OUT W...`: picks
W's rows from `gc-trace mmu`. `table RAW`: the markdown table."""
import bisect, re, statistics, sys

def mmu(pauses, start, end, w):
    span = end - start
    if span <= 0:
        return 1.0
    w = max(min(w, span), 1e-300)
    v = sorted((max(a, start), min(b, end)) for a, b in pauses)
    merged = []
    for a, b in v:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if not merged:
        return 1.0
    starts = [a for a, _ in merged]
    prefix = [0.0]
    for a, b in merged:
        prefix.append(prefix[-1] + (b - a))
    def paused_until(t):
        i = bisect.bisect_right(starts, t)
        if i == 0:
            return 0.0
        a, b = merged[i - 1]
        return prefix[i - 1] + max(min(t, b) - a, 0.0)
    last = max(end - w, start)
    worst = 0.0
    for a, b in merged:
        for s in (a, b - w):
            s = min(max(s, start), last)
            worst = max(worst, paused_until(s + w) - paused_until(s))
    return min(max(1.0 - worst / w, 0.0), 1.0)

def stw(dump, windows):
    time_re = re.compile(r' Time=(\d+)')
    name_re = re.compile(r' Name="([^"]*)"')
    start = end = None
    pauses, open_at = [], None
    with open(dump, errors="replace") as f:
        for line in f:
            if line[:1] in " \t" or " Time=" not in line:
                continue
            m = time_re.search(line)
            if not m:
                continue
            t = int(m.group(1))
            end = t
            if start is None and ' Metric ' in line and '/sched/gomaxprocs:threads' in line:
                start = t
            if ' Range' in line:
                n = name_re.search(line)
                if not n or not n.group(1).startswith("stop-the-world") or "GC" not in n.group(1):
                    continue
                if ' RangeBegin ' in line or ' RangeActive ' in line:
                    open_at = t
                elif ' RangeEnd ' in line and open_at is not None:
                    pauses.append((open_at, t))
                    open_at = None
    if start is None or end is None:
        sys.exit(f"{dump}: no GOMAXPROCS metric or no events")
    for w in windows:
        print(w, f"{mmu(pauses, float(start), float(end), float(w)):.6f}")
    print("longest", max((b - a for a, b in pauses), default=0))

def mmu_curve(changes, start, end, w):
    """Exact MMU of a piecewise-constant utilisation: changes is a sorted
    list of (time, util from then on), the first at start. The lost time
    of [s, s+w] is piecewise linear in s with corners where s or s+w meets
    a change, so the worst window starts or ends at one."""
    span = end - start
    if span <= 0:
        return 1.0
    w = max(min(w, span), 1e-300)
    times = [t for t, _ in changes]
    lost = [0.0]  # lost time in [start, times[i]]
    for i in range(1, len(changes)):
        lost.append(lost[-1] + (1.0 - changes[i - 1][1]) * (times[i] - times[i - 1]))
    def lost_until(t):
        i = bisect.bisect_right(times, t) - 1
        return lost[i] + (1.0 - changes[i][1]) * (t - times[i])
    last = max(end - w, start)
    worst = 0.0
    for t in times:
        for s in (t, t - w):
            s = min(max(s, start), last)
            worst = max(worst, lost_until(s + w) - lost_until(s))
    return min(max(1.0 - worst / w, 0.0), 1.0)

HEAD = re.compile(r'^M=-?\d+ P=(-?\d+) G=(-?\d+) (\w+) Time=(\d+)')

def default(dump, windows):
    """The MMU page's default (STW + background workers + assists, System
    view), rebuilt from the dump without go's code: a P is lost to the
    collector while an executing goroutine on it runs a mark worker whose
    current run is labelled other than "GC (idle)", or is inside a mark
    assist; every P is lost during a GC stop-the-world range; utilisation
    is the fraction of Ps not lost."""
    nprocs = start = end = None
    stw = 0
    on_p = {}          # executing goroutine -> its P
    worker = set()     # goroutines whose current run is a counted mark worker
    assist = set()     # goroutines inside a mark assist
    lost_by = {}       # P -> goroutines on it doing GC work
    changes = []
    def util():
        if stw > 0:
            return 0.0
        return 1.0 - sum(1 for v in lost_by.values() if v) / nprocs
    def refresh(g):
        for v in lost_by.values():
            v.discard(g)
        if g in on_p and (g in worker or g in assist):
            lost_by.setdefault(on_p[g], set()).add(g)
    with open(dump, errors="replace") as f:
        for line in f:
            m = HEAD.match(line)
            if not m:
                continue
            p, g, kind, t = int(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4))
            end = t
            if kind == "Metric" and "/sched/gomaxprocs:threads" in line:
                nprocs = int(re.search(r'Uint64\((\d+)\)', line).group(1))
                if start is None:
                    start = t
            elif kind in ("RangeBegin", "RangeActive", "RangeEnd"):
                name = re.search(r' Name="([^"]*)"', line).group(1)
                if name.startswith("stop-the-world") and "GC" in name:
                    stw += -1 if kind == "RangeEnd" else 1
                elif name == "GC mark assist":
                    sg = int(re.search(r'Scope=Goroutine\((\d+)\)', line).group(1))
                    (assist.discard if kind == "RangeEnd" else assist.add)(sg)
                    refresh(sg)
            elif kind == "StateTransition" and "GoID=" in line:
                tm = re.search(r'GoID=(\d+) (\w+)->(\w+)', line)
                sg, new = int(tm.group(1)), tm.group(3)
                if new in ("Running", "Syscall"):
                    on_p[sg] = p
                else:
                    on_p.pop(sg, None)
                    worker.discard(sg)
                refresh(sg)
            elif kind == "Label":
                lab = re.search(r' Label="([^"]*)"', line).group(1)
                if lab.startswith("GC ") and lab != "GC (idle)":
                    worker.add(g)
                    refresh(g)
            if nprocs is None:
                continue
            u = util()
            if not changes or changes[-1][1] != u:
                if changes and changes[-1][0] == t:
                    changes[-1] = (t, min(u, changes[-1][1]))
                else:
                    changes.append((t, u))
    if start is None or not changes:
        sys.exit(f"{dump}: no GOMAXPROCS metric or no events")
    for w in windows:
        print(w, f"{mmu_curve(changes, float(start), float(end), float(w)):.6f}")

def ours(path, windows):
    rows = {}
    for line in open(path):
        m = re.match(r'stops: .* max ([\d.]+) µs', line)
        if m:
            print("longest", round(float(m.group(1)) * 1000))
        m = re.match(r'\s*([\d.]+) (µs|ms|s)\s+([\d.]+)\s*$', line)
        if m:
            us = float(m.group(1)) * {"µs": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
            rows[us] = float(m.group(3))
    for w in windows:
        us = int(w) / 1000
        hit = [v for k, v in rows.items() if abs(k - us) <= 0.01 * us]
        if not hit:
            sys.exit(f"{path}: no row for window {us} µs")
        print(w, hit[0])

LABELS = {
    "tricolor/stops": "tricolor-gc, stops (`gc-trace mmu`)",
    "go123/stw": "Go 1.23, STW (`go tool trace`, flags=stw)",
    "go126/stw": "Go 1.26, STW (`go tool trace`, flags=stw)",
    "go123/default-fixed": "Go 1.23, STW+background+assist (cmd/trace + 1-line fix)",
    "go126/default-fixed": "Go 1.26, STW+background+assist (cmd/trace + 1-line fix)",
    "go123/default": "Go 1.23, STW+background+assist (`go tool trace` as shipped)",
    "go126/default": "Go 1.26, STW+background+assist (`go tool trace` as shipped)",
}

def fmt(x):
    if x == 0:
        return "0"
    if x < 0.005:
        return "<0.01"
    if x >= 0.995:
        return f"{x:.3f}"
    return f"{x:.2f}"

def win(ns):
    ns = int(ns)
    return f"{ns // 1000} µs" if ns < 10**6 else (f"{ns // 10**6} ms" if ns < 10**9 else f"{ns // 10**9} s")

def table(raw):
    cells, checks, windows, runs, longest = {}, [], [], set(), {}
    for i, line in enumerate(open(raw)):
        if i == 0:
            continue
        sysname, wl, run, fig, w, v = line.rstrip("\n").split("\t")
        if v == "":
            continue
        runs.add(run)
        if w == "longest":
            if fig in ("stops", "stw"):
                longest.setdefault((wl, sysname), []).append(float(v) / 1e6)
            continue
        if w not in windows:
            windows.append(w)
        if fig.endswith("-check"):
            checks.append((fig, sysname, wl, run, w, float(v)))
            continue
        cells.setdefault((wl, f"{sysname}/{fig}"), {}).setdefault(w, []).append(float(v))
    windows.sort(key=int)
    print("| workload | figure | " + " | ".join(win(w) for w in windows) + " | longest stop, ms |")
    print("|---|---|" + "---|" * len(windows) + "---|")
    for wl in ("pauseprobe", "churn4"):
        for key in LABELS:
            row = cells.get((wl, key))
            if not row:
                continue
            out = []
            for w in windows:
                v = sorted(row.get(w, []))
                if not v:
                    out.append("–")
                elif len(v) == 1 or v[0] == v[-1]:
                    out.append(fmt(statistics.median(v)))
                else:
                    out.append(f"{fmt(statistics.median(v))} ({fmt(v[0])}–{fmt(v[-1])})")
            n = max(len(x) for x in row.values())
            sysname, fig = key.split("/")
            lo = sorted(longest.get((wl, sysname), [])) if fig in ("stops", "stw") else []
            ls = "" if not lo else (f"{statistics.median(lo):.2f}" if len(lo) == 1 else
                                    f"{statistics.median(lo):.2f} ({lo[0]:.2f}–{lo[-1]:.2f})")
            print(f"| {wl} | {LABELS[key]}, n={n} | " + " | ".join(out) + f" | {ls} |")
    # Pair each check with the same run's figure from the tool.
    by_run = {}
    for line in list(open(raw))[1:]:
        s, wl, r, fig, w, v = line.rstrip("\n").split("\t")
        if v != "":
            by_run[(fig, s, wl, r, w)] = float(v)
    for check, against, what in (
            ("stw-check", "stw", "STW figure (gc-core/src/exectrace/mmu.rs's exact algorithm) and `go tool trace`'s"),
            ("default-check", "default-fixed", "STW+background+assist figure and the fixed cmd/trace's")):
        diffs = [abs(v - by_run[(against, s, wl, r, w)]) for c, s, wl, r, w, v in checks
                 if c == check and (against, s, wl, r, w) in by_run]
        if diffs:
            print(f"\ncheck: rebuilt from `go tool trace -d` by go_mmu.sh's own code, the {what} "
                  f"differ by at most {max(diffs):.2g} ({len(diffs)} cells)")

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "stw":
        stw(sys.argv[2], sys.argv[3:])
    elif cmd == "default":
        default(sys.argv[2], sys.argv[3:])
    elif cmd == "ours":
        ours(sys.argv[2], sys.argv[3:])
    elif cmd == "table":
        table(sys.argv[2])
    else:
        sys.exit(f"unknown helper command {cmd}")
PY

# --- build --------------------------------------------------------------------
declare -A GOBIN=([go123]=$GO123 [go126]=$GO126)
declare -A SHIPPED=() FIXED=() DUMPFLAG=()
SYSTEMS=()
for s in go123 go126; do
    g=${GOBIN[$s]}
    if [ ! -x "$g" ]; then log "$g missing: no $s rows"; continue; fi
    v=$(GOTOOLCHAIN=local "$g" env GOVERSION)
    log "building the Go peers with $v"
    mkdir -p "$OUT/bin/$s"
    if ! (cd "$PEERS" && GOTOOLCHAIN=local GOFLAGS=-mod=mod nice -n "$NICE" "$g" build -o "$OUT/bin/$s/" ./cmd/pauseprobe ./cmd/churn4) >"$OUT/logs/build-$s.log" 2>&1; then
        log "go build failed for $s (see $OUT/logs/build-$s.log): no $s rows"; continue
    fi
    # The trace tool as `go tool trace` runs it (1.23 ships it prebuilt; from
    # 1.25 go builds it on first use and caches it): -n prints its path.
    SHIPPED[$s]=$(cd "$PEERS" && GOTOOLCHAIN=local nice -n "$NICE" "$g" tool -n trace 2>>"$OUT/logs/build-$s.log" | tail -1)
    if [ ! -x "${SHIPPED[$s]}" ]; then log "no go tool trace for $s: no $s rows"; continue; fi
    # -d takes a number before 1.24 and a mode name after.
    usage=$("${SHIPPED[$s]}" -h 2>&1)
    case $usage in *'modes: wire, parsed'*) DUMPFLAG[$s]=-d=parsed ;; *) DUMPFLAG[$s]=-d=1 ;; esac
    # The fixed tool: internal/trace/gc.go with `delete(bgMark, g)` after the
    # decrement when a goroutine doing GC work stops running.
    groot=$(GOTOOLCHAIN=local "$g" env GOROOT)
    src=$groot/src/internal/trace/gc.go
    sed '/\/\/ Stopped running while doing GC things\./{n;s/^\(\s*\)ps\[ev\.Proc()\]\.gc--$/&\n\1delete(bgMark, g)/}' "$src" >"$OUT/tools/gc-$s.go"
    if [ "$(diff "$src" "$OUT/tools/gc-$s.go" | grep -c '^> .*delete(bgMark, g)$')" != 1 ]; then
        log "$src: the one-line fix does not apply (MutatorUtilizationV2 changed?): no default-fixed rows for $s"
    else
        printf '{"Replace":{"%s":"%s"}}\n' "$src" "$OUT/tools/gc-$s.go" >"$OUT/tools/overlay-$s.json"
        if (cd "$PEERS" && GOTOOLCHAIN=local nice -n "$NICE" "$g" build -overlay "$OUT/tools/overlay-$s.json" -o "$OUT/tools/trace-fixed-$s" cmd/trace) >>"$OUT/logs/build-$s.log" 2>&1; then
            FIXED[$s]=$OUT/tools/trace-fixed-$s
        else
            log "building the fixed cmd/trace failed for $s (see $OUT/logs/build-$s.log)"
        fi
    fi
    SYSTEMS+=("$s")
done
if [ "$OURS" = 1 ]; then
    log "building tricolor-gc's pause_probe, churn4 and gc-trace (CARGO_TARGET_DIR=$TGT)"
    if (cd "$ROOT" && CARGO_TARGET_DIR=$TGT nice -n "$NICE" cargo build --release --example pause_probe --example churn4 \
        && CARGO_TARGET_DIR=$TGT nice -n "$NICE" cargo build --release --features trace-tool --bin gc-trace) >"$OUT/logs/build-tricolor.log" 2>&1; then
        SYSTEMS=(tricolor "${SYSTEMS[@]}")
    else
        log "cargo build failed (see $OUT/logs/build-tricolor.log): no tricolor rows"
    fi
fi
[ ${#SYSTEMS[@]} -gt 0 ] || { log "nothing to run"; exit 1; }

# --- reading a Go trace through go tool trace's MMU endpoint --------------------
SERVER_PID=""
ADDR=""
stop_server() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; fi; }
trap stop_server EXIT
# serve TOOL TRACE LOG: starts the viewer on a free port and sets ADDR to
# its address once it answers (the tool parses the whole trace first).
serve() {
    # BROWSER=true: the tool's "open a browser" step runs `true` and goes on.
    BROWSER=true nice -n "$NICE" "$1" -http=127.0.0.1:0 "$2" >"$3" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 2400); do
        ADDR=$(sed -n 's/.*listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$3" | head -1)
        if [ -n "$ADDR" ] && curl -s -o /dev/null "$ADDR/mmu"; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; return 1; }
        sleep 0.25
    done
    stop_server; return 1
}
# mmu_of ADDR FLAGS WINDOW_NS: the smallest utilisation among the worst windows.
mmu_of() {
    curl -sf --max-time 600 "$1/mmu?mode=details&window=$3&flags=$2" | jq -e '[.[].MutatorUtil] | min'
}
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }
go_figures() { # system workload run trace
    local s=$1 wl=$2 r=$3 tr=$4 w v t tool fig flags name
    for tool in shipped fixed; do
        if [ $tool = shipped ]; then t=${SHIPPED[$s]}; else t=${FIXED[$s]:-}; [ -n "$t" ] || continue; fi
        if ! serve "$t" "$tr" "$OUT/logs/viewer-$s-$wl-$r-$tool.log"; then
            log "$s $wl run $r: go tool trace did not serve $tr (see $OUT/logs/viewer-$s-$wl-$r-$tool.log)"; continue
        fi
        for fig in stw default; do
            [ $tool = fixed ] && [ $fig = stw ] && continue  # the fix touches mark workers only
            if [ $fig = stw ]; then flags=stw; else flags='stw|background|assist'; fi
            name=$fig; [ $tool = fixed ] && name=default-fixed
            for w in "${WINDOWS_NS[@]}"; do
                v=$(mmu_of "$ADDR" "$flags" "$w") || { log "$s $wl run $r: no MMU for $flags at $w ns"; v=""; }
                record "$s" "$wl" "$r" "$name" "$w" "$v"
            done
        done
        stop_server
    done
    # The checks: both figures rebuilt from the -d dump by our own code.
    if "${SHIPPED[$s]}" "${DUMPFLAG[$s]}" "$tr" >"$OUT/traces/$s-$wl-$r.dump" 2>&1; then
        for fig in stw default; do
            python3 "$HELPER" $fig "$OUT/traces/$s-$wl-$r.dump" "${WINDOWS_NS[@]}" | while read -r w v; do
                # The longest GC stop-the-world range (ns) goes with the stw row.
                if [ "$w" = longest ]; then record "$s" "$wl" "$r" stw "$w" "$v"; else record "$s" "$wl" "$r" $fig-check "$w" "$v"; fi
            done
        done
    else
        log "$s $wl run $r: go tool trace ${DUMPFLAG[$s]} failed"
    fi
    rm -f "$OUT/traces/$s-$wl-$r.dump"
}

# --- runs -----------------------------------------------------------------------
log "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$RUNS"); do
    for wl in pauseprobe churn4; do
        if [ $wl = pauseprobe ]; then args=("${PP_ARGS[@]}"); ex=pause_probe; else args=("${CH_ARGS[@]}"); ex=churn4; fi
        for s in "${SYSTEMS[@]}"; do
            if [ "$s" = tricolor ]; then
                tr=$OUT/traces/$s-$wl-$r.json
                log "run $r/$RUNS: $s $wl ${args[*]}"
                if ! TRICOLOR_TRACE=$tr nice -n "$NICE" "$TGT/release/examples/$ex" "${args[@]}" >"$OUT/logs/run-$s-$wl-$r.log" 2>&1; then
                    log "$s $wl run $r failed (see $OUT/logs/run-$s-$wl-$r.log)"; continue
                fi
                if "$TGT/release/gc-trace" mmu "$tr" >"$OUT/logs/mmu-$s-$wl-$r.txt" 2>&1 \
                    && "$TGT/release/gc-trace" summary "$tr" >>"$OUT/logs/mmu-$s-$wl-$r.txt" 2>&1; then
                    python3 "$HELPER" ours "$OUT/logs/mmu-$s-$wl-$r.txt" "${WINDOWS_NS[@]}" | while read -r w v; do
                        record "$s" "$wl" "$r" stops "$w" "$v"
                    done
                else
                    log "gc-trace mmu $tr failed (see $OUT/logs/mmu-$s-$wl-$r.txt)"
                fi
            else
                tr=$OUT/traces/$s-$wl-$r.trace
                log "run $r/$RUNS: $s $wl ${args[*]}"
                if ! TRICOLOR_GO_TRACE=$tr GOMAXPROCS=2 GOGC=100 nice -n "$NICE" "$OUT/bin/$s/$wl" "${args[@]}" >"$OUT/logs/run-$s-$wl-$r.log" 2>&1; then
                    log "$s $wl run $r failed (see $OUT/logs/run-$s-$wl-$r.log)"; continue
                fi
                go_figures "$s" "$wl" "$r" "$tr"
            fi
            [ "$KEEP" = 1 ] || rm -f "$tr"
        done
    done
done
log "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

{
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores by \`$CMDLINE\` ($RUNS runs; median (min–max)):"
    echo "pauseprobe ${PP_ARGS[*]}, churn4 ${CH_ARGS[*]}; Go peers at GOMAXPROCS=2 GOGC=100."
    for s in "${SYSTEMS[@]}"; do
        case $s in
            tricolor) echo "- tricolor: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null), $(rustc --version)" ;;
            *) echo "- $s: $(GOTOOLCHAIN=local "${GOBIN[$s]}" version)" ;;
        esac
    done
    echo
    python3 "$HELPER" table "$RAW"
} | tee "$OUT/table.md"
