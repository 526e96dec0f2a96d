#!/usr/bin/env bash
# Cross-system GC benchmark harness for tricolor-gc (issue #4).
#
#   benches/compare.sh [--quick] [--only <system,...>] [--runs N] [--timeout S]
#
# Installs what a fresh Debian bookworm machine lacks (Go 1.23 from
# bookworm-backports, libgc-dev), builds every peer in release mode, runs every
# system on every workload interleaved (runs outermost, then workloads, then
# systems), and writes target/bench-report/{raw.tsv,meta.md,report.md,*.svg}.
# See benches/README.md.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/benches/peers
OUT=$ROOT/target/bench-report
GO=/usr/lib/go-1.23/bin/go
JAVA_HEAP=2g

ALL_SYSTEMS=(tricolor tricolor-pin go go-par java-g1 java-parallel java-zgc c-boehm c-malloc rust-box rust-rc rust-gc dumpster gc-arena)
WORKLOADS=(binarytrees gcbench pauseprobe churn4 allocmicro)

QUICK=0
ONLY=""
RUNS=""
TIMEOUT=""
CMDLINE="benches/compare.sh $*"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) ONLY=${2:?--only needs a list}; shift ;;
        --only=*) ONLY=${1#--only=} ;;
        --runs) RUNS=${2:?--runs needs a number}; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    : "${RUNS:=3}" "${TIMEOUT:=300}"
    BT_ARGS=(18); GCB_ARGS=(14); PP_ARGS=(18 50000); CH_ARGS=(50000); AM_ARGS=(2000000)
else
    : "${RUNS:=5}" "${TIMEOUT:=1200}"
    BT_ARGS=(21); GCB_ARGS=(16); PP_ARGS=(20 500000); CH_ARGS=(200000); AM_ARGS=(10000000)
fi

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
rm -f "$OUT"/*.svg "$OUT/report.md"

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
if want_any c-boehm && ! dpkg -s libgc-dev >/dev/null 2>&1; then
    log "installing libgc-dev"
    apt_install libgc-dev || log "libgc-dev install failed"
fi
if [ ! -x /usr/bin/time ]; then log "installing GNU time"; apt_install time || true; fi
if want_any java-g1 java-parallel java-zgc && ! command -v javac >/dev/null; then
    log "installing openjdk-17-jdk-headless"
    apt_install openjdk-17-jdk-headless || log "JDK install failed"
fi

# ---------------------------------------------------------------- build
declare -A BUILD_ERR=()
fail_build() { # fail_build "<reason>" system...
    local reason=$1; shift
    local s; for s in "$@"; do BUILD_ERR[$s]=$reason; done
}

if want_any tricolor tricolor-pin; then
    log "building tricolor-gc examples (cargo build --release --examples)"
    if ! (cd "$ROOT" && cargo build --release --examples) >"$OUT/logs/build-tricolor.log" 2>&1; then
        fail_build "not built: cargo build --release --examples failed ($(grep -m1 '^error' "$OUT/logs/build-tricolor.log" | tr '\t' ' ' | cut -c1-120))" tricolor tricolor-pin
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
if want_any java-g1 java-parallel java-zgc; then
    log "building Java peers"
    mkdir -p "$PEERS/java/bin"
    if ! javac -d "$PEERS/java/bin" "$PEERS"/java/*.java >"$OUT/logs/build-java.log" 2>&1; then
        fail_build "not built: javac failed" java-g1 java-parallel java-zgc
    fi
fi
if want_any c-boehm c-malloc; then
    log "building C peers"
    if ! make -C "$PEERS/c-boehm" >"$OUT/logs/build-c.log" 2>&1; then
        fail_build "not built: make failed (libgc-dev missing?)" c-boehm c-malloc
    fi
fi
log "building Rust peers and the report generator"
if ! (cd "$PEERS/rust" && cargo build --release) >"$OUT/logs/build-rust.log" 2>&1; then
    fail_build "not built: cargo build in benches/peers/rust failed" rust-box rust-rc rust-gc dumpster gc-arena
fi

# ---------------------------------------------------------------- versions
crate_version() { # from the peers' Cargo.lock
    awk -v n="$1" '$0=="name = \""n"\"" {getline; gsub(/version = |"/,""); print; exit}' "$PEERS/rust/Cargo.lock" 2>/dev/null
}
version_of() {
    case "$1" in
        tricolor) echo "tricolor-gc $(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1) @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(rustc --version)" ;;
        tricolor-pin) echo "tricolor-gc @ $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), binary-trees with pin + Ref (examples/binary_trees_pinned.rs)" ;;
        go|go-par) echo "$("$GO" version 2>/dev/null || echo 'go missing'), GOMAXPROCS=2 GOGC=100$([ "$1" = go-par ] && echo ', goroutine per depth')" ;;
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
    echo "- sizes: binarytrees ${BT_ARGS[*]}; gcbench ${GCB_ARGS[*]}; pauseprobe ${PP_ARGS[*]}; churn4 ${CH_ARGS[*]}; allocmicro ${AM_ARGS[*]}"
    echo "- systems:"
    for s in "${SYSTEMS[@]}"; do echo "  - **$s**: $(version_of "$s")"; done
} >"$OUT/meta.md"

# ---------------------------------------------------------------- run
supports() { # system workload
    case "$1" in go-par|c-malloc|tricolor-pin) [ "$2" = binarytrees ] ;; *) return 0 ;; esac
}
args_of() {
    case "$1" in
        binarytrees) echo "${BT_ARGS[*]}" ;; gcbench) echo "${GCB_ARGS[*]}" ;;
        pauseprobe) echo "${PP_ARGS[*]}" ;; churn4) echo "${CH_ARGS[*]}" ;; allocmicro) echo "${AM_ARGS[*]}" ;;
    esac
}
# Sets CMD (array) and BIN (the executable that must exist) for system/workload.
# $3: temp file for the JVM's safepoint log.
command_for() {
    local s=$1 w=$2 splog=$3
    local -a a; read -r -a a <<<"$(args_of "$w")"
    case "$s" in
        tricolor)
            local ex; case $w in binarytrees) ex=binary_trees;; pauseprobe) ex=pause_probe;; allocmicro) ex=alloc_micro;; *) ex=$w;; esac
            BIN=$ROOT/target/release/examples/$ex; CMD=("$BIN" "${a[@]}") ;;
        tricolor-pin) BIN=$ROOT/target/release/examples/binary_trees_pinned; CMD=("$BIN" "${a[@]}") ;;
        go) BIN=$PEERS/go/bin/$w; CMD=(env GOMAXPROCS=2 GOGC=100 "$BIN" "${a[@]}") ;;
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
    esac
}
check_output() { # workload stdout-file -> 0 if correct
    local w=$1 f=$2
    case $w in
        binarytrees) diff -q <(grep -v '^RESULT' "$f") <(expected_output binarytrees) >/dev/null ;;
        pauseprobe|churn4) grep -qxF "$(expected_output "$w")" "$f" ;;
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

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
started=$(date +%s)
for ((run = 1; run <= RUNS; run++)); do
    for w in "${WORKLOADS[@]}"; do
        for s in "${SYSTEMS[@]}"; do
            supports "$s" "$w" || continue
            if [ -n "${BUILD_ERR[$s]:-}" ]; then
                row "$s" "$w" "$run" "" "" "" "" "" "" "" "${BUILD_ERR[$s]}" ""
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
            timeout "$TIMEOUT" /usr/bin/time -f '%e %M' -o "$TMP/time" "${CMD[@]}" >"$base.out" 2>"$base.err"
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
            if [ $rc = 124 ]; then status="timeout after ${TIMEOUT}s"
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

# ---------------------------------------------------------------- report
REPORT=$PEERS/rust/target/release/report
if [ -x "$REPORT" ]; then
    "$REPORT" "$OUT"
else
    log "report generator not built; raw results are in $RAW"
    exit 1
fi
