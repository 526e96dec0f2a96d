#!/usr/bin/env bash
# Cross-system GC and scheduler benchmark harness for tricolor-gc (issues #4, #11).
#
#   benches/compare.sh [--quick] [--only <system,...>] [--workloads <w,...>] [--runs N] [--timeout S] [--nice N]
#
# Installs what a fresh Debian bookworm machine lacks (Go 1.23 from
# bookworm-backports, Go 1.26 from sid pinned to those two packages, libgc-dev),
# builds every peer in release mode, runs every system on every workload
# interleaved (runs outermost, then workloads, then systems), and writes
# target/bench-report/{raw.tsv,meta.md,report.md,sched.md,pacer.md,*.svg}.
# Workloads: binarytrees gcbench pauseprobe churn4 allocmicro sched pacer.
# See benches/README.md.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/benches/peers
OUT=$ROOT/target/bench-report
GO=/usr/lib/go-1.23/bin/go
GO126=/usr/lib/go-1.26/bin/go
JAVA_HEAP=2g

ALL_SYSTEMS=(tricolor tricolor-rt tricolor-pin go go126 go-par java-g1 java-parallel java-zgc c-boehm c-malloc rust-box rust-rc rust-gc dumpster gc-arena tokio may)
ALL_WORKLOADS=(binarytrees gcbench pauseprobe churn4 allocmicro sched pacer)
# The sched workload is five runs of one program per system (issue 11).
SCHED_PARTS=(sched-pingpong sched-spawn sched-fanout-1p sched-fanout-2p sched-parked)
# The pacer workload (issue 12, item 8): the pacer probe at GOGC=50/100/200
# and under GOMEMLIMIT=128MiB with a larger live set; the pacer-rt-* parts
# run tricolor's probe with --runtime (its mutator as a gc-runtime G).
PACER_PARTS=(pacer-gogc50 pacer-gogc100 pacer-gogc200 pacer-memlimit pacer-rt-gogc50 pacer-rt-gogc100 pacer-rt-gogc200 pacer-rt-memlimit)

QUICK=0
ONLY=""
ONLY_W=""
RUNS=""
TIMEOUT=""
NICE=""
CMDLINE="benches/compare.sh $*"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) ONLY=${2:?--only needs a list}; shift ;;
        --only=*) ONLY=${1#--only=} ;;
        --workloads) ONLY_W=${2:?--workloads needs a list}; shift ;;
        --workloads=*) ONLY_W=${1#--workloads=} ;;
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
        --nice) NICE=${2:?--nice needs a niceness}; shift ;;
        --nice=*) NICE=${1#--nice=} ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# The pacer runs last a fixed time (warm-up + --secs): unless --timeout says
# otherwise they get PACER_TIMEOUT, so a run that spirals does not hold the
# harness for the GC workloads' timeout.
PACER_TIMEOUT=${TIMEOUT:-120}
if [ "$QUICK" = 1 ]; then
    : "${RUNS:=3}" "${TIMEOUT:=300}"
    BT_ARGS=(18); GCB_ARGS=(14); PP_ARGS=(18 50000); CH_ARGS=(50000); AM_ARGS=(2000000)
    SP_PING=(100000); SP_SPAWN=(100000); SP_FAN=(64 5000000); SP_PARK=(100000)
    PA_ARGS=(--live-mb 64 --secs 3); PA_LIMIT_ARGS=(--live-mb 200 --secs 3)
else
    : "${RUNS:=5}" "${TIMEOUT:=1200}"
    BT_ARGS=(21); GCB_ARGS=(16); PP_ARGS=(20 500000); CH_ARGS=(200000); AM_ARGS=(10000000)
    SP_PING=(1000000); SP_SPAWN=(1000000); SP_FAN=(64 20000000); SP_PARK=(100000)
    PA_ARGS=(--live-mb 64 --secs 10); PA_LIMIT_ARGS=(--live-mb 200 --secs 10)
fi

WORKLOADS=()
if [ -n "$ONLY_W" ]; then
    IFS=, read -r -a wantw <<<"$ONLY_W"
    for w in "${wantw[@]}"; do
        found=0
        for a in "${ALL_WORKLOADS[@]}"; do [ "$a" = "$w" ] && found=1; done
        if [ $found = 0 ]; then echo "compare.sh: unknown workload '$w' (known: ${ALL_WORKLOADS[*]})" >&2; exit 2; fi
        WORKLOADS+=("$w")
    done
else
    WORKLOADS=("${ALL_WORKLOADS[@]}")
fi
# What the run loop iterates over: sched expands into its parts.
RUN_WORKLOADS=()
GC_WORKLOADS=0
PACER=0
for w in "${WORKLOADS[@]}"; do
    if [ "$w" = sched ]; then RUN_WORKLOADS+=("${SCHED_PARTS[@]}")
    elif [ "$w" = pacer ]; then RUN_WORKLOADS+=("${PACER_PARTS[@]}"); PACER=1
    else RUN_WORKLOADS+=("$w"); GC_WORKLOADS=1; fi
done
want_sched() { local w; for w in "${WORKLOADS[@]}"; do [ "$w" = sched ] && return 0; done; return 1; }
want_pacer() { [ $PACER = 1 ]; }

SYSTEMS=()
if [ -n "$ONLY" ]; then
    IFS=, read -r -a want <<<"$ONLY"
    for s in "${want[@]}"; do
        found=0
        for a in "${ALL_SYSTEMS[@]}"; do [ "$a" = "$s" ] && found=1; done
        if [ $found = 0 ]; then echo "compare.sh: unknown system '$s' (known: ${ALL_SYSTEMS[*]})" >&2; exit 2; fi
        SYSTEMS+=("$s")
    done
    # tricolor-gc is the baseline of every ratio: always include it.
    case ",$ONLY," in *,tricolor,*) ;; *) SYSTEMS=(tricolor "${SYSTEMS[@]}") ;; esac
else
    SYSTEMS=("${ALL_SYSTEMS[@]}")
fi

want() { local s; for s in "${SYSTEMS[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
want_any() { local s; for s in "$@"; do want "$s" && return 0; done; return 1; }
log() { printf '[compare] %s\n' "$*" >&2; }

mkdir -p "$OUT/logs"
rm -f "$OUT"/*.svg "$OUT/report.md" "$OUT/sched.md" "$OUT/pacer.md"

# ---------------------------------------------------------------- install
apt_updated=0
apt_install() { # apt_install [-t suite] pkg...
    if [ "$(id -u)" != 0 ]; then log "not root: cannot apt-get install $*"; return 1; fi
    if [ $apt_updated = 0 ]; then apt-get update -q >"$OUT/logs/apt-update.log" 2>&1; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$OUT/logs/apt-install.log" 2>&1
}

if want_any go go-par && [ ! -x "$GO" ]; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding bookworm-backports apt source"
        echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/bookworm-backports.list
        apt_updated=0
    fi
    log "installing golang-1.23-go from bookworm-backports"
    apt_install -t bookworm-backports golang-1.23-go || log "golang-1.23-go install failed (see $OUT/logs/apt-install.log)"
fi
# Go 1.26 comes from Debian sid, pinned so that nothing else does: the sid
# source is added with a pin of -1 for every sid package (never installed nor
# upgraded from sid by a plain apt-get) and 100 for golang-1.26-go and
# golang-1.26-src (below bookworm's 500), golang-1.26-go is installed with an
# explicit -t sid, and only after a dry run shows that apt takes nothing from
# sid but those two packages: -t sid lifts all of sid to 990 for that one
# command, whatever the pins say, so the dry run is the guard (the Go
# toolchain is statically linked; if sid ever wanted a newer libc or anything
# else, the script says so and installs nothing).
SID_LIST=/etc/apt/sources.list.d/sid-golang.list
SID_PREF=/etc/apt/preferences.d/sid-golang.pref
install_go126() {
    if [ "$(id -u)" != 0 ]; then log "not root: cannot install golang-1.26-go"; return 1; fi
    local pref
    pref=$(printf 'Package: *\nPin: release n=sid\nPin-Priority: -1\n\nPackage: golang-1.26-go golang-1.26-src\nPin: release n=sid\nPin-Priority: 100\n')
    if [ "$(cat "$SID_PREF" 2>/dev/null)" != "$pref" ]; then
        log "pinning Debian sid: -1 for every package, 100 for golang-1.26-go/-src ($SID_PREF)"
        printf '%s\n' "$pref" >"$SID_PREF"
    fi
    if [ ! -e "$SID_LIST" ]; then
        log "adding a Debian sid apt source ($SID_LIST), pinned"
        echo 'deb http://deb.debian.org/debian sid main' >"$SID_LIST"
        apt_updated=0
    fi
    if [ $apt_updated = 0 ]; then apt-get update -q >"$OUT/logs/apt-update.log" 2>&1; apt_updated=1; fi
    local sim extra
    sim=$(apt-get install -s -t sid golang-1.26-go 2>&1)
    printf '%s\n' "$sim" >"$OUT/logs/apt-go126-dry-run.log"
    extra=$(printf '%s\n' "$sim" | grep -E '^(Inst|Remv) ' | grep -vE '^Inst golang-1\.26-(go|src) ' | grep -E 'unstable|sid|^Remv' || true)
    if ! printf '%s\n' "$sim" | grep -qE '^Inst golang-1\.26-go '; then
        log "apt offers no golang-1.26-go from sid (see $OUT/logs/apt-go126-dry-run.log)"; return 1
    fi
    if [ -n "$extra" ]; then
        log "NOT installing golang-1.26-go: apt would also take from sid or remove: $(printf '%s' "$extra" | cut -d' ' -f1-2 | tr '\n' ' ')"
        return 1
    fi
    log "installing golang-1.26-go from sid (dry run: only golang-1.26-go and golang-1.26-src come from sid)"
    apt_install -t sid golang-1.26-go
}
if want_any go126 && [ ! -x "$GO126" ]; then
    install_go126 || log "golang-1.26-go not installed (see $OUT/logs/)"
fi
if want_any c-boehm && [ $GC_WORKLOADS = 1 ] && ! dpkg -s libgc-dev >/dev/null 2>&1; then
    log "installing libgc-dev"
    apt_install libgc-dev || log "libgc-dev install failed"
fi
if [ ! -x /usr/bin/time ]; then log "installing GNU time"; apt_install time || true; fi
if want_any java-g1 java-parallel java-zgc && [ $GC_WORKLOADS = 1 ] && ! command -v javac >/dev/null; then
    log "installing openjdk-17-jdk-headless"
    apt_install openjdk-17-jdk-headless || log "JDK install failed"
fi

# ---------------------------------------------------------------- build
declare -A BUILD_ERR=()
fail_build() { # fail_build "<reason>" system...
    local reason=$1; shift
    local s; for s in "$@"; do BUILD_ERR[$s]=$reason; done
}

if want_any tricolor tricolor-rt tricolor-pin && { [ $GC_WORKLOADS = 1 ] || want_pacer; }; then
    log "building tricolor-gc examples (cargo build --release --examples)"
    if ! (cd "$ROOT" && cargo build --release --examples) >"$OUT/logs/build-tricolor.log" 2>&1; then
        fail_build "not built: cargo build --release --examples failed ($(grep -m1 '^error' "$OUT/logs/build-tricolor.log" | tr '\t' ' ' | cut -c1-120))" tricolor tricolor-rt tricolor-pin
    fi
fi
if want_any go go-par; then
    log "building Go peers"
    if [ ! -x "$GO" ]; then
        fail_build "not built: $GO missing" go go-par
    else
        mkdir -p "$PEERS/go/bin"
        for c in "$PEERS"/go/cmd/*; do
            if ! (cd "$PEERS/go" && GOFLAGS=-mod=mod "$GO" build -o "bin/$(basename "$c")" "./cmd/$(basename "$c")") >>"$OUT/logs/build-go.log" 2>&1; then
                fail_build "not built: go build ./cmd/$(basename "$c") failed" go go-par
            fi
        done
    fi
fi
if want_any go126; then
    log "building Go peers with Go 1.26"
    if [ ! -x "$GO126" ]; then
        fail_build "not built: $GO126 missing (golang-1.26-go from sid)" go126
    else
        mkdir -p "$PEERS/go/bin/go126"
        for c in "$PEERS"/go/cmd/*; do
            if ! (cd "$PEERS/go" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO126" build -o "bin/go126/$(basename "$c")" "./cmd/$(basename "$c")") >>"$OUT/logs/build-go126.log" 2>&1; then
                fail_build "not built: go1.26 build ./cmd/$(basename "$c") failed" go126
            fi
        done
    fi
fi
# The sched workload's Rust programs: one binary per system, each built alone
# (see benches/peers/rust-sched/Cargo.toml). A tricolor sched binary that does
# not build (gc-runtime's scheduler not there yet) makes skipped rows.
declare -A SCHED_ERR=()
RS=$PEERS/rust-sched
if want_sched; then
    for s in tokio may tricolor; do
        want "$s" || continue
        log "building the $s sched peer (benches/peers/rust-sched, --features $s)"
        if ! (cd "$RS" && cargo build --release --target-dir "$RS/target" --no-default-features --features "$s" --bin "sched-$s") \
            >"$OUT/logs/build-rust-sched-$s.log" 2>&1; then
            why="$(grep -m1 '^error' "$OUT/logs/build-rust-sched-$s.log" | tr '\t' ' ' | cut -c1-120)"
            if [ "$s" = tricolor ]; then
                SCHED_ERR[$s]="skipped: sched-tricolor did not build (gc-runtime scheduler missing? $why; see logs/build-rust-sched-tricolor.log)"
                log "tricolor sched peer did not build: its sched rows are skipped ($why)"
            else
                SCHED_ERR[$s]="not built: cargo build --bin sched-$s failed ($why)"
                log "$s sched peer did not build ($why)"
            fi
        fi
    done
fi
if want_any java-g1 java-parallel java-zgc && [ $GC_WORKLOADS = 1 ]; then
    log "building Java peers"
    mkdir -p "$PEERS/java/bin"
    if ! javac -d "$PEERS/java/bin" "$PEERS"/java/*.java >"$OUT/logs/build-java.log" 2>&1; then
        fail_build "not built: javac failed" java-g1 java-parallel java-zgc
    fi
fi
if want_any c-boehm c-malloc && [ $GC_WORKLOADS = 1 ]; then
    log "building C peers"
    if ! make -C "$PEERS/c-boehm" >"$OUT/logs/build-c.log" 2>&1; then
        fail_build "not built: make failed (libgc-dev missing?)" c-boehm c-malloc
    fi
fi
log "building Rust peers and the report generator"
if ! (cd "$PEERS/rust" && cargo build --release) >"$OUT/logs/build-rust.log" 2>&1; then
    fail_build "not built: cargo build in benches/peers/rust failed" rust-box rust-rc rust-gc dumpster gc-arena
fi

# ---------------------------------------------------------------- map count
# Runtimes whose coroutine stacks are separate mmaps with an mprotect'd guard
# page (may; gc-runtime on kernels without MADV_GUARD_INSTALL) use two memory
# mappings per live task, and Linux's default
# vm.max_map_count of 65530 stops them near 32 000 live tasks, well short of
# the 10^5 parked ones the sched workload asks for (Go's heap-allocated stacks
# use none). As root the harness raises the limit to 1048576 (the default of
# Fedora 39+ and Arch) for its runs and puts the old value back at exit;
# SCHED_KEEP_MAP_COUNT=1 leaves it alone (may's parked/spawn rows then fail).
MAPCOUNT_OLD=""
MAPCOUNT_NOTE=""
if want_sched && [ "${SCHED_KEEP_MAP_COUNT:-0}" != 1 ]; then
    cur=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)
    if [ "$cur" -lt 1048576 ]; then
        if [ "$(id -u)" = 0 ] && sysctl -qw vm.max_map_count=1048576 2>/dev/null; then
            MAPCOUNT_OLD=$cur
            MAPCOUNT_NOTE=" (raised by compare.sh from $cur; restored at exit)"
            log "vm.max_map_count raised from $cur to 1048576 for the sched runs (restored at exit)"
        else
            MAPCOUNT_NOTE=" (could not raise it: tasks on guarded mmap stacks stop near $((cur / 2)))"
            log "vm.max_map_count is $cur and could not be raised: runtimes with mmap'd guarded stacks may fail the 10^5-task rows"
        fi
    fi
fi
restore_map_count() { [ -n "$MAPCOUNT_OLD" ] && sysctl -qw vm.max_map_count="$MAPCOUNT_OLD"; }

# ---------------------------------------------------------------- versions
crate_version() { # crate [lockfile] (default: the GC peers' Cargo.lock)
    awk -v n="$1" '$0=="name = \""n"\"" {getline; gsub(/version = |"/,""); print; exit}' "${2:-$PEERS/rust/Cargo.lock}" 2>/dev/null
}
version_of() {
    case "$1" in
        tricolor) echo "tricolor-gc $(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1) @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(rustc --version)" ;;
        tricolor-rt) echo "tricolor-gc @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), the same examples with their mutators as gc-runtime Gs (TRICOLOR_RUNTIME=1, GOMAXPROCS=2)" ;;
        tricolor-pin) echo "tricolor-gc @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), binary-trees with pin + Ref (examples/binary_trees_pinned.rs)" ;;
        go|go-par) echo "$("$GO" version 2>/dev/null || echo 'go missing'), GOMAXPROCS=2 GOGC=100$([ "$1" = go-par ] && echo ', goroutine per depth')" ;;
        go126) echo "$("$GO126" version 2>/dev/null || echo 'go 1.26 missing') (Debian sid $(dpkg-query -W -f='${Version}' golang-1.26-go 2>/dev/null)), GOMAXPROCS=2 GOGC=100" ;;
        tokio) echo "tokio $(crate_version tokio "$RS/Cargo.lock") multi-thread runtime, worker_threads = GOMAXPROCS, tokio::sync::mpsc bounded(1); sched workload only" ;;
        may) echo "may $(crate_version may "$RS/Cargo.lock"), workers = GOMAXPROCS, default stack size, may::sync::mpsc; sched workload only" ;;
        java-*) local gc=${1#java-}; case $gc in g1) gc=G1;; parallel) gc=Parallel;; zgc) gc=Z;; esac
            echo "$(java -version 2>&1 | sed -n 2p), -Xmx$JAVA_HEAP -XX:+Use${gc}GC" ;;
        c-boehm) echo "$(gcc --version | head -1), -O2, libgc $(dpkg-query -W -f='${Version}' libgc-dev 2>/dev/null), GC_THREADS (parallel mark)" ;;
        c-malloc) echo "$(gcc --version | head -1), -O2, glibc malloc/free" ;;
        rust-box) echo "$(rustc --version), Box (no GC)" ;;
        rust-rc) echo "$(rustc --version), Rc (no GC)" ;;
        rust-gc) echo "gc $(crate_version gc), $(rustc --version)" ;;
        dumpster) echo "dumpster $(crate_version dumpster) (unsync::Gc; sync::Gc for churn4), $(rustc --version)" ;;
        gc-arena) echo "gc-arena $(crate_version gc-arena) (collect_debt after each unit), $(rustc --version)" ;;
    esac
}
{
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "- command: \`$CMDLINE\` (runs: $RUNS, timeout per run: ${TIMEOUT}s)"
    [ -n "$NICE" ] && echo "- every run at niceness $NICE (\`nice -n $NICE\`, in its own session whose autogroup has nice $NICE)"
    echo "- load average before the runs (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
    echo "- workloads: ${WORKLOADS[*]}"
    echo "- sizes: binarytrees ${BT_ARGS[*]}; gcbench ${GCB_ARGS[*]}; pauseprobe ${PP_ARGS[*]}; churn4 ${CH_ARGS[*]}; allocmicro ${AM_ARGS[*]}; sched: pingpong ${SP_PING[*]}, spawn ${SP_SPAWN[*]}, fanout ${SP_FAN[*]} (GOMAXPROCS=1 and 2), parked ${SP_PARK[*]} (others at GOMAXPROCS=2)"
    if want_pacer; then echo "- pacer: ${PA_ARGS[*]} at GOGC=50/100/200, ${PA_LIMIT_ARGS[*]} at GOGC=100 GOMEMLIMIT=128MiB; GOMAXPROCS=2 GODEBUG=gctrace=1; timeout per pacer run ${PACER_TIMEOUT}s"; fi
    if want_sched; then echo "- vm.max_map_count during the runs: $(cat /proc/sys/vm/max_map_count 2>/dev/null)${MAPCOUNT_NOTE:-}"; fi
    echo "- systems:"
    for s in "${SYSTEMS[@]}"; do echo "  - **$s**: $(version_of "$s")"; done
} >"$OUT/meta.md"

# ---------------------------------------------------------------- run
supports() { # system workload
    case "$2" in
        sched-*) case "$1" in tricolor|go|go126|tokio|may) return 0 ;; *) return 1 ;; esac ;;
        pacer-rt-*) [ "$1" = tricolor ]; return ;;
        pacer-*) case "$1" in tricolor|go|go126) return 0 ;; *) return 1 ;; esac ;;
    esac
    case "$1" in
        go-par|c-malloc|tricolor-pin) [ "$2" = binarytrees ] ;;
        tricolor-rt) case "$2" in binarytrees|pauseprobe|churn4) return 0 ;; *) return 1 ;; esac ;;
        tokio|may) return 1 ;;
        *) return 0 ;;
    esac
}
args_of() {
    case "$1" in
        binarytrees) echo "${BT_ARGS[*]}" ;; gcbench) echo "${GCB_ARGS[*]}" ;;
        pauseprobe) echo "${PP_ARGS[*]}" ;; churn4) echo "${CH_ARGS[*]}" ;; allocmicro) echo "${AM_ARGS[*]}" ;;
        sched-pingpong) echo "pingpong ${SP_PING[*]}" ;; sched-spawn) echo "spawn ${SP_SPAWN[*]}" ;;
        sched-fanout-*) echo "fanout ${SP_FAN[*]}" ;; sched-parked) echo "parked ${SP_PARK[*]}" ;;
    esac
}
procs_of() { # sched part -> GOMAXPROCS
    case "$1" in sched-fanout-1p) echo 1 ;; *) echo 2 ;; esac
}
# Sets CMD (array) and BIN (the executable that must exist) for system/workload.
# $3: temp file for the JVM's safepoint log.
command_for() {
    local s=$1 w=$2 splog=$3
    local -a a; read -r -a a <<<"$(args_of "$w")"
    case "$w" in
        sched-*)
            local p; p=$(procs_of "$w")
            case "$s" in
                tricolor|tokio|may) BIN=$RS/target/release/sched-$s; CMD=(env GOMAXPROCS="$p" "$BIN" "${a[@]}") ;;
                go) BIN=$PEERS/go/bin/sched; CMD=(env GOMAXPROCS="$p" GOGC=100 "$BIN" "${a[@]}") ;;
                go126) BIN=$PEERS/go/bin/go126/sched; CMD=(env GOMAXPROCS="$p" GOGC=100 "$BIN" "${a[@]}") ;;
            esac
            return ;;
        pacer-*)
            # gctrace on: each probe reads its own gctrace lines (overshoot_cycle, Go's mark_worker_fraction).
            local part=${w#pacer-}
            local -a penv=(GOMAXPROCS=2 GODEBUG=gctrace=1) rt=()
            case $part in rt-*) rt=(--runtime); part=${part#rt-} ;; esac
            case $part in
                gogc*) penv+=(GOGC="${part#gogc}"); a=("${PA_ARGS[@]}") ;;
                memlimit) penv+=(GOGC=100 GOMEMLIMIT=128MiB); a=("${PA_LIMIT_ARGS[@]}") ;;
            esac
            case "$s" in
                tricolor) BIN=$ROOT/target/release/examples/pacer_probe; CMD=(env "${penv[@]}" "$BIN" "${a[@]}" "${rt[@]}") ;;
                go) BIN=$PEERS/go/bin/pacer; CMD=(env "${penv[@]}" "$BIN" "${a[@]}") ;;
                go126) BIN=$PEERS/go/bin/go126/pacer; CMD=(env "${penv[@]}" "$BIN" "${a[@]}") ;;
            esac
            return ;;
    esac
    case "$s" in
        tricolor|tricolor-rt)
            local ex; case $w in binarytrees) ex=binary_trees;; pauseprobe) ex=pause_probe;; allocmicro) ex=alloc_micro;; *) ex=$w;; esac
            BIN=$ROOT/target/release/examples/$ex; CMD=("$BIN" "${a[@]}")
            [ "$s" = tricolor-rt ] && CMD=(env TRICOLOR_RUNTIME=1 GOMAXPROCS=2 "$BIN" "${a[@]}") ;;
        tricolor-pin) BIN=$ROOT/target/release/examples/binary_trees_pinned; CMD=("$BIN" "${a[@]}") ;;
        go) BIN=$PEERS/go/bin/$w; CMD=(env GOMAXPROCS=2 GOGC=100 "$BIN" "${a[@]}") ;;
        go126) BIN=$PEERS/go/bin/go126/$w; CMD=(env GOMAXPROCS=2 GOGC=100 "$BIN" "${a[@]}") ;;
        go-par) BIN=$PEERS/go/bin/binarytrees-par; CMD=(env GOMAXPROCS=2 GOGC=100 "$BIN" "${a[@]}") ;;
        java-*)
            local cls gc=${s#java-}
            case $w in binarytrees) cls=BinaryTrees;; gcbench) cls=GCBench;; pauseprobe) cls=PauseProbe;; churn4) cls=Churn4;; allocmicro) cls=AllocMicro;; esac
            case $gc in g1) gc=G1;; parallel) gc=Parallel;; zgc) gc=Z;; esac
            BIN=$PEERS/java/bin/$cls.class
            CMD=(java -Xmx$JAVA_HEAP -XX:+Use${gc}GC "-Xlog:safepoint:file=$splog" "-Dpause.log=$splog" "-Dsystem=$s" -cp "$PEERS/java/bin" "$cls" "${a[@]}") ;;
        c-boehm) BIN=$PEERS/c-boehm/bin/$w; CMD=("$BIN" "${a[@]}") ;;
        c-malloc) BIN=$PEERS/c-boehm/bin/binarytrees_malloc; CMD=("$BIN" "${a[@]}") ;;
        rust-box|rust-rc|rust-gc|dumpster|gc-arena) BIN=$PEERS/rust/target/release/$s; CMD=("$BIN" "$w" "${a[@]}") ;;
    esac
}

expected_output() { # workload -> lines every system must print
    local w=$1
    case $w in
        binarytrees)
            local n=${BT_ARGS[0]} min=4 max stretch d it
            max=$(( n > min + 2 ? n : min + 2 )); stretch=$((max + 1))
            printf 'stretch tree of depth %d\t check: %d\n' $stretch $(( (1 << (stretch + 1)) - 1 ))
            for ((d = min; d <= max; d += 2)); do
                it=$((1 << (max - d + min)))
                printf '%d\t trees of depth %d\t check: %d\n' $it $d $(( it * ((1 << (d + 1)) - 1) ))
            done
            printf 'long lived tree of depth %d\t check: %d\n' $max $(( (1 << (max + 1)) - 1 )) ;;
        pauseprobe)
            printf 'live nodes %d, iterations %d, check %d\n' $(( (1 << (PP_ARGS[0] - 6)) * 127 )) "${PP_ARGS[1]}" $(( PP_ARGS[1] * 127 )) ;;
        churn4)
            printf 'threads 4, iterations %d, shared nodes %d, check %d\n' "${CH_ARGS[0]}" $(( (1 << 17) - 1 )) $(( 4 * CH_ARGS[0] * 528 )) ;;
        sched-pingpong) printf 'pingpong n %d, check %d\n' "${SP_PING[0]}" $(( SP_PING[0] * (SP_PING[0] - 1) / 2 )) ;;
        sched-spawn) printf 'spawn n %d, check %d\n' "${SP_SPAWN[0]}" $(( SP_SPAWN[0] * SP_SPAWN[0] )) ;;
        sched-parked) printf 'parked n %d, check %d\n' "${SP_PARK[0]}" $(( SP_PARK[0] * (SP_PARK[0] - 1) / 2 )) ;;
    esac
}
# The fan-out's checksum (xor of 64 LCG results) is not computed here: every
# system must print the one the first ok run printed.
FANOUT_CHECK=""
check_output() { # workload stdout-file -> 0 if correct
    local w=$1 f=$2
    case $w in
        binarytrees) diff -q <(grep -v '^RESULT' "$f") <(expected_output binarytrees) >/dev/null ;;
        pauseprobe|churn4|sched-pingpong|sched-spawn|sched-parked) grep -qxF "$(expected_output "$w")" "$f" ;;
        pacer-*) grep -q '^pacer live slots [0-9]*, batches [0-9]*' "$f" && grep '^RESULT ' "$f" | grep -qE ' cycles=[1-9]' ;;
        sched-fanout-*)
            local got; got=$(grep -m1 "^fanout tasks ${SP_FAN[0]}, work ${SP_FAN[1]}, check " "$f") || return 1
            [ -z "$FANOUT_CHECK" ] && FANOUT_CHECK=$got
            [ "$got" = "$FANOUT_CHECK" ] ;;
        gcbench) grep -q '^Completed in' "$f" && ! grep -q '^Failed' "$f" ;;
        *) return 0 ;;
    esac
}

field() { # key result-line
    local kv
    for kv in $2; do case $kv in "$1="*) echo "${kv#*=}"; return ;; esac; done
}
extra_fields() { # result-line -> fields other than the standard ones
    local kv out=()
    for kv in $1; do
        case ${kv%%=*} in RESULT|system|workload|wall_ms|max_pause_us|p99_pause_us|max_gap_us|p99_gap_us) ;; *) out+=("$kv") ;; esac
    done
    echo "${out[*]}"
}

RAW=$OUT/raw.tsv
printf 'system\tworkload\trun\twall_s\trss_kb\tprog_wall_ms\tmax_pause_us\tp99_pause_us\tmax_gap_us\tp99_gap_us\tstatus\textra\n' >"$RAW"
row() { # system workload run wall rss prog maxp p99p maxg p99g status extra
    local IFS=$'\t'
    echo "$*" | tr -d '\r' >>"$RAW"
}

# --nice N runs every benchmark process (not the builds) at niceness N: on a
# machine shared with other work, a negative N (root only) lets the runs have
# the cores they ask for; meta.md records it. With CFS autogroups (Debian's
# default) niceness only counts within a session, so each run gets a session
# of its own (setsid) whose autogroup is set to N as well.
NICE_CMD=()
if [ -n "$NICE" ]; then
    NICE_CMD=(setsid --wait sh -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$NICE")
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; restore_map_count' EXIT
started=$(date +%s)
for ((run = 1; run <= RUNS; run++)); do
    for w in "${RUN_WORKLOADS[@]}"; do
        for s in "${SYSTEMS[@]}"; do
            supports "$s" "$w" || continue
            # tricolor's sched binary is built apart from its GC examples.
            case "$w" in sched-*) case "$s" in tricolor|tokio|may) berr=${SCHED_ERR[$s]:-} ;; *) berr=${BUILD_ERR[$s]:-} ;; esac ;; *) berr=${BUILD_ERR[$s]:-} ;; esac
            if [ -n "$berr" ]; then
                row "$s" "$w" "$run" "" "" "" "" "" "" "" "$berr" ""
                continue
            fi
            splog=$TMP/safepoint.log
            rm -f "$splog"*
            command_for "$s" "$w" "$splog"
            if [ ! -e "$BIN" ]; then
                row "$s" "$w" "$run" "" "" "" "" "" "" "" "not built: ${BIN#$ROOT/} missing" ""
                continue
            fi
            base=$OUT/logs/$s.$w.$run
            log "run $run/$RUNS $w $s"
            to=$TIMEOUT; case "$w" in pacer-*) to=$PACER_TIMEOUT ;; esac
            "${NICE_CMD[@]}" timeout "$to" /usr/bin/time -f '%e %M' -o "$TMP/time" "${CMD[@]}" >"$base.out" 2>"$base.err"
            rc=$?
            read -r wall rss <"$TMP/time" 2>/dev/null || { wall=""; rss=""; }
            # GNU time prints "Command exited with non-zero status N" first on failure.
            if ! [[ "$wall" =~ ^[0-9.]+$ ]]; then read -r wall rss < <(tail -1 "$TMP/time" 2>/dev/null) || true; fi
            res=$(grep '^RESULT ' "$base.out" | tail -1)
            # The RESULT line belongs on stdout; accept it from stderr too, but flag it.
            if [ -z "$res" ] && grep -q '^RESULT ' "$base.err"; then
                res="$(grep '^RESULT ' "$base.err" | tail -1) result_on=stderr"
            fi
            status=ok
            if [ $rc = 124 ]; then status="timeout after ${to}s"
            elif [ $rc != 0 ]; then status="failed: exit $rc: $(tail -1 "$base.err" | tr '\t' ' ' | cut -c1-120)"
            elif [ -z "$res" ]; then status="failed: no RESULT line"
            elif [ -n "$(field skipped "$res")" ]; then status="skipped: $(field skipped "$res")"
            elif ! check_output "$w" "$base.out"; then status="wrong output (see ${base#$ROOT/}.out)"
            fi
            row "$s" "$w" "$run" "$wall" "$rss" "$(field wall_ms "$res")" "$(field max_pause_us "$res")" \
                "$(field p99_pause_us "$res")" "$(field max_gap_us "$res")" "$(field p99_gap_us "$res")" \
                "$status" "$(extra_fields "$res")"
            [ "$status" = ok ] || log "  -> $status"
        done
    done
done
log "runs finished in $(( $(date +%s) - started ))s"

# ---------------------------------------------------------------- sched report
# sched.md: the scheduler table (one metric per sub-benchmark, read from the
# RESULT fields in raw.tsv), appended to report.md below.
sched_vals() { # system part key -> one value per ok run, "run value" lines
    awk -F'\t' -v s="$1" -v w="$2" -v k="$3" '$1==s && $2==w && $11=="ok" {
        n = split($12, f, " "); for (i = 1; i <= n; i++) if (index(f[i], k "=") == 1) print $3, substr(f[i], length(k) + 2) }' "$RAW"
}
stats() { # numbers on stdin -> "n median min max" (nothing if none)
    sort -g | awk '{v[NR] = $1} END { if (NR == 0) exit;
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%d %.6g %.6g %.6g\n", NR, m, v[1], v[NR] }'
}
metric_vals() { # system metric -> values, one per line
    case "$2" in
        pingpong) sched_vals "$1" sched-pingpong us_per_rtt | cut -d' ' -f2 ;;
        spawn) sched_vals "$1" sched-spawn us_per_spawn | cut -d' ' -f2 ;;
        fan1) sched_vals "$1" sched-fanout-1p fanout_ms | cut -d' ' -f2 ;;
        fan2) sched_vals "$1" sched-fanout-2p fanout_ms | cut -d' ' -f2 ;;
        cores2) sched_vals "$1" sched-fanout-2p cores_used | cut -d' ' -f2 ;;
        denied2) sched_vals "$1" sched-fanout-2p cores_denied | cut -d' ' -f2 ;;
        speedup) # per run: 1P time / 2P time of the same repetition
            join <(sched_vals "$1" sched-fanout-1p fanout_ms | sort -k1,1) <(sched_vals "$1" sched-fanout-2p fanout_ms | sort -k1,1) |
                awk '$3 > 0 {printf "%.6g\n", $2 / $3}' ;;
        rss) sched_vals "$1" sched-parked peak_rss_mb | cut -d' ' -f2 ;;
        kbg) sched_vals "$1" sched-parked kb_per_g | cut -d' ' -f2 ;;
    esac
}
metric_part() { case "$1" in pingpong) echo sched-pingpong ;; spawn) echo sched-spawn ;; fan1) echo sched-fanout-1p ;; fan2|cores2|denied2|speedup) echo sched-fanout-2p ;; rss|kbg) echo sched-parked ;; esac; }
metric_name() {
    case "$1" in
        pingpong) echo "ping-pong, µs per round trip (${SP_PING[0]} trips)" ;;
        spawn) echo "spawn+join, µs per task (${SP_SPAWN[0]} tasks)" ;;
        fan1) echo "fan-out ${SP_FAN[0]}×${SP_FAN[1]} steps, 1 P, ms" ;;
        fan2) echo "fan-out, 2 Ps, ms" ;;
        cores2) echo "fan-out, 2 Ps: cores busy (CPU time / wall)" ;;
        denied2) echo "fan-out, 2 Ps: cores denied (run delay / wall)" ;;
        speedup) echo "fan-out speedup 2 P / 1 P (per run)" ;;
        rss) echo "peak RSS, ${SP_PARK[0]} tasks parked, MB" ;;
        kbg) echo "KiB per parked task above the base RSS" ;;
    esac
}
fmt_metric() { # metric value
    case "$1" in pingpong|spawn) LC_ALL=C printf '%.3f' "$2" ;; speedup|kbg|cores2|denied2) LC_ALL=C printf '%.2f' "$2" ;; *) LC_ALL=C printf '%.1f' "$2" ;; esac
}
median_of() { metric_vals "$1" "$2" | stats | cut -d' ' -f2; }
ratio() { # a b -> a/b or n/a
    if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; else printf 'n/a'; fi
}
sched_report() {
    local f=$OUT/sched.md m s st n med lo hi ok total part base gobase
    local metrics=(pingpong spawn fan1 fan2 cores2 denied2 speedup rss kbg)
    local ssys=()
    for s in "${SYSTEMS[@]}"; do supports "$s" sched-pingpong && ssys+=("$s"); done
    {
        echo "## sched: the scheduler workload (issue 11)"
        echo
        echo "Each figure is the program's own measurement (RESULT fields), median over the ok runs, spread = min–max."
        echo "Ping-pong, spawn+join and parked run at GOMAXPROCS=2 (tokio: 2 worker threads; may: 2 workers);"
        echo "fan-out runs once at 1 and once at 2, and the speedup is each repetition's 1 P time over its 2 P time."
        echo "× tricolor / × go = median ÷ tricolor's / Go 1.23's median (for times and RSS, > 1 = more than that system;"
        echo "for the speedup, > 1 = scales better). Cores busy = the process's CPU time over the 2 P fan-out's wall time;"
        echo "cores denied = the run delay of its threads (runnable, kept off a CPU by other load: /proc/self/task/*/schedstat)"
        echo "over the same wall time. A speedup below 2 with cores denied near 0 is the scheduler's (an idle P);"
        echo "with cores denied well above 0 the machine did not give the run its two cores, whatever the scheduler."
        echo "Peak RSS is VmHWM read once every task is parked."
        echo "Load average after the runs (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
        echo
        echo "| system | ping-pong µs/RTT | spawn+join µs | fan-out 1P ms | fan-out 2P ms | 2P cores busy | 2P cores denied | speedup 2P/1P | parked peak RSS MB | KiB/task |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        for s in "${ssys[@]}"; do
            local line="| $s |"
            for m in "${metrics[@]}"; do
                med=$(median_of "$s" "$m")
                if [ -n "$med" ]; then line+=" $(fmt_metric "$m" "$med") |"; else line+=" — |"; fi
            done
            echo "$line"
        done
        echo
        echo "| measurement | system | ok runs | median | min–max | × tricolor | × go |"
        echo "|---|---|---|---|---|---|---|"
        for m in "${metrics[@]}"; do
            part=$(metric_part "$m")
            base=$(median_of tricolor "$m")
            gobase=$(median_of go "$m")
            for s in "${ssys[@]}"; do
                total=$(awk -F'\t' -v s="$s" -v w="$part" '$1==s && $2==w' "$RAW" | wc -l)
                [ "$total" = 0 ] && continue
                st=$(metric_vals "$s" "$m" | stats)
                if [ -z "$st" ]; then
                    echo "| $(metric_name "$m") | $s | 0/$total | — | — | n/a | n/a |"
                    continue
                fi
                read -r n med lo hi <<<"$st"
                echo "| $(metric_name "$m") | $s | $n/$total | $(fmt_metric "$m" "$med") | $(fmt_metric "$m" "$lo")–$(fmt_metric "$m" "$hi") | $(ratio "$med" "$base") | $(ratio "$med" "$gobase") |"
            done
        done
        echo
        echo "Goals of issue 11 for tricolor (against the Go versions measured here):"
        echo
        local t g goal
        for g in go go126; do
            want "$g" || continue
            for m in pingpong spawn; do
                t=$(median_of tricolor "$m"); goal=$(median_of "$g" "$m")
                if [ -z "$t" ] || [ -z "$goal" ]; then echo "- $(metric_name "$m") ≤ $g's: n/a (not measured)"
                else echo "- $(metric_name "$m") ≤ $g's ($(fmt_metric "$m" "$goal")): tricolor $(fmt_metric "$m" "$t") → $(awk -v a="$t" -v b="$goal" 'BEGIN { print (a <= b) ? "met" : "not met" }')"; fi
            done
            t=$(median_of tricolor rss); goal=$(median_of "$g" rss)
            if [ -z "$t" ] || [ -z "$goal" ]; then echo "- parked peak RSS ≤ 1.7 × $g's: n/a (not measured)"
            else echo "- parked peak RSS ≤ 1.7 × $g's ($(awk -v b="$goal" 'BEGIN { printf "%.1f", 1.7 * b }') MB): tricolor $(fmt_metric rss "$t") → $(awk -v a="$t" -v b="$goal" 'BEGIN { print (a <= 1.7 * b) ? "met" : "not met" }')"; fi
        done
        t=$(median_of tricolor speedup)
        if [ -z "$t" ]; then echo "- fan-out speedup ≥ 1.9: n/a (not measured)"
        else echo "- fan-out speedup ≥ 1.9: tricolor $(fmt_metric speedup "$t") → $(awk -v a="$t" 'BEGIN { print (a >= 1.9) ? "met" : "not met" }')"; fi
        local probs
        probs=$(awk -F'\t' '$2 ~ /^sched-/ && $11 != "ok" { print "- **" $1 "** / " $2 ": " $11 }' "$RAW" | sort -u)
        if [ -n "$probs" ]; then echo; echo "Not built, failed or skipped:"; echo; echo "$probs"; fi
    } >"$f"
}
if want_sched; then sched_report; log "wrote $OUT/sched.md"; fi

# ---------------------------------------------------------------- pacer report
# pacer.md: the pacer probe's figures (RESULT fields in raw.tsv), one row per
# setting and system, appended to report.md below.
pacer_vals() { # system part key -> numeric values over the ok runs, one per line
    sched_vals "$1" "$2" "$3" | cut -d' ' -f2 | grep -E '^[0-9.]+$'
}
pacer_cell() { # system part key printf-format -> "median (min–max)" or —
    local st n med lo hi
    st=$(pacer_vals "$1" "$2" "$3" | stats)
    if [ -z "$st" ]; then printf '—'; return; fi
    read -r n med lo hi <<<"$st"
    if [ "$n" = 1 ]; then LC_ALL=C printf "$4" "$med"
    else LC_ALL=C printf "$4 ($4–$4)" "$med" "$lo" "$hi"; fi
}
pacer_report() {
    local f=$OUT/pacer.md set s sys part label total ok k
    {
        echo "## pacer: the pacer probe (issue 12, item 8)"
        echo
        echo "\`examples/pacer_probe.rs\` and \`benches/peers/go/cmd/pacer\`: a live set kept at ${PA_ARGS[1]} MiB (${PA_LIMIT_ARGS[1]} MiB for the"
        echo "GOMEMLIMIT row) while one mutator churns 64-byte nodes in batches of 1024 allocations (a quarter replace live"
        echo "chains, the rest is short-lived garbage), as fast as it can, for ${PA_ARGS[3]} s after 1 s of warm-up;"
        echo "GOMAXPROCS=2 GODEBUG=gctrace=1. Each cell is the median over the ok runs, (min–max) over the runs."
        echo "*overshoot* = the largest HeapAlloc sampled every 10 ms between batches ÷ the goal (NextGC) of that sample;"
        echo "*per cycle* = Go's definition: the largest heap at mark termination (H1 of the cycle's gctrace line, whole MB,"
        echo "read by each probe from its own stderr) ÷ that cycle's goal (the goal sampled while it ran) over the cycles"
        echo "completed in the window. *stall* = a batch's time beyond the run's median batch"
        echo "(p99 and max over every batch of the run). *GC CPU* = Go's GCCPUFraction (cumulative, idle marking excluded);"
        echo "*mark workers* = the median over the window's cycles of dedicated + fractional mark CPU ÷ (concurrent-mark wall ×"
        echo "GOMAXPROCS); — where the system does not report it. *alloc* = MiB allocated per second of the window."
        echo "Load average after the runs (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
        echo
        echo "| setting | system | ok runs | overshoot | per cycle | peak heap MB | goal MB | GC CPU | mark workers | stall p99 ms | stall max ms | cycles | alloc MiB/s |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        for set in gogc50 gogc100 gogc200 memlimit; do
            case $set in gogc*) label="GOGC=${set#gogc}" ;; memlimit) label="GOMEMLIMIT=128MiB, GOGC=100, ${PA_LIMIT_ARGS[1]} MiB live" ;; esac
            for s in tricolor tricolor-rt go go126; do
                case $s in tricolor-rt) part=pacer-rt-$set; sys=tricolor ;; *) part=pacer-$set; sys=$s ;; esac
                want "$sys" || continue
                total=$(awk -F'\t' -v s="$sys" -v w="$part" '$1==s && $2==w' "$RAW" | wc -l)
                [ "$total" = 0 ] && continue
                ok=$(awk -F'\t' -v s="$sys" -v w="$part" '$1==s && $2==w && $11=="ok"' "$RAW" | wc -l)
                echo "| $label | $([ $s = tricolor-rt ] && echo 'tricolor (runtime)' || echo "$s") | $ok/$total" \
                    "| $(pacer_cell "$sys" "$part" overshoot %.3f) | $(pacer_cell "$sys" "$part" overshoot_cycle %.3f)" \
                    "| $(pacer_cell "$sys" "$part" peak_heap_mb %.1f) | $(pacer_cell "$sys" "$part" goal_mb %.1f)" \
                    "| $(pacer_cell "$sys" "$part" gc_cpu_fraction %.3f) | $(pacer_cell "$sys" "$part" mark_worker_fraction %.3f)" \
                    "| $(pacer_cell "$sys" "$part" stall_p99_ms %.2f) | $(pacer_cell "$sys" "$part" stall_max_ms %.1f)" \
                    "| $(pacer_cell "$sys" "$part" cycles %.0f) | $(pacer_cell "$sys" "$part" alloc_mb_s %.0f) |"
            done
        done
        echo
        echo "Goals of issue 12 for tricolor (every ok run, both modes): overshoot per cycle ≤ 1.05 and stall p99 ≤ 5 ms at GOGC=50/100/200;"
        echo "the GOMEMLIMIT run finishes with GC CPU near 50 %."
        echo
        local worst
        for s in tricolor tricolor-rt; do
            want tricolor || continue
            local pre=pacer-; [ $s = tricolor-rt ] && pre=pacer-rt-
            for k in overshoot_cycle stall_p99_ms; do
                worst=$(for set in gogc50 gogc100 gogc200; do pacer_vals tricolor "$pre$set" "$k"; done | sort -g | tail -1)
                local lim=1.05; [ $k = stall_p99_ms ] && lim=5
                if [ -z "$worst" ]; then echo "- $s $k ≤ $lim: n/a (not measured)"
                else echo "- $s $k ≤ $lim: worst run $worst → $(awk -v a="$worst" -v b="$lim" 'BEGIN { print (a <= b) ? "met" : "not met" }')"; fi
            done
            local st; st=$(awk -F'\t' -v w="${pre}memlimit" '$1=="tricolor" && $2==w { print $11 }' "$RAW" | sort | uniq -c | sed 's/^ *//' | paste -sd, -)
            echo "- $s GOMEMLIMIT run: statuses ${st:-none}; GC CPU $(pacer_cell tricolor "${pre}memlimit" gc_cpu_fraction %.3f)"
        done
        local probs
        probs=$(awk -F'\t' '$2 ~ /^pacer-/ && $11 != "ok" { print "- **" $1 "** / " $2 ": " $11 }' "$RAW" | sort -u)
        if [ -n "$probs" ]; then echo; echo "Not built, failed or timed out:"; echo; echo "$probs"; fi
    } >"$f"
}
if want_pacer; then pacer_report; log "wrote $OUT/pacer.md"; fi

# ---------------------------------------------------------------- report
REPORT=$PEERS/rust/target/release/report
if [ -x "$REPORT" ]; then
    "$REPORT" "$OUT"
    if [ -f "$OUT/sched.md" ] && [ -f "$OUT/report.md" ]; then { echo; cat "$OUT/sched.md"; } >>"$OUT/report.md"; fi
    if [ -f "$OUT/pacer.md" ] && [ -f "$OUT/report.md" ]; then { echo; cat "$OUT/pacer.md"; } >>"$OUT/report.md"; fi
else
    log "report generator not built; raw results are in $RAW"
    exit 1
fi
