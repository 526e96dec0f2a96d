//! The Go runtime's environment knobs: `GOGC`, `GOMEMLIMIT`, `GOMAXPROCS`
//! and the collector's `GODEBUG` keys, parsed as the Go 1.23 runtime parses
//! them (`readGOGC` and `readGOMEMLIMIT` in mgcpacer.go, `parseByteCount`
//! and `atoi32` in string.go, `schedinit` in proc.go, `parsegodebug` in
//! runtime1.go; documented in runtime/extern.go).
//!
//! Invariants:
//!
//! * **Read once, cached.** [`config`] reads the process environment on
//!   first use and caches the result for the life of the process; later
//!   changes to the environment are not seen (Go, too, reads these once at
//!   start-up).
//! * **Each bad value warns once.** A bad value produces exactly one line
//!   on stderr, `tricolor-gc: ignoring GOGC="abc": <reason>; using 100`,
//!   naming the variable (or `GODEBUG` key), the bad value and the value
//!   used instead, and the default then applies. A bad value never disturbs
//!   any other setting. The same line is never printed twice per process,
//!   however often [`Config::from_env`] is called.
//! * **Parsing never panics**, whatever the input: non-UTF-8 values, huge
//!   numbers, control characters (shown escaped, so the warning stays one
//!   line) and a closed stderr are all handled.
//!
//! Deliberate differences from Go:
//!
//! * Go throws (a fatal error) on a malformed `GOMEMLIMIT`; here it warns
//!   and means "no limit".
//! * Go silently ignores a bad `GOGC`, `GOMAXPROCS` or `GODEBUG` value;
//!   here each warns (the value used is the same as Go's).
//! * Go's `atoi` accepts a lone `-` as 0, so Go reads `GOGC=-` as 0 and
//!   `GOMEMLIMIT=-KiB` as 0; both are rejected here, as the documented
//!   grammar (`^[0-9]+(([KMGT]i)?B)?$` for byte counts) requires.
//! * The CPU count comes from [`std::thread::available_parallelism`], which
//!   on Linux also honours cgroup CPU quotas (Go 1.23's `ncpu` counts only
//!   the affinity mask).

use std::collections::BTreeSet;
use std::fmt::Display;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// "No memory limit": Go's `math.MaxInt64`, the value `readGOMEMLIMIT`
/// (mgcpacer.go) returns for an unset or `off` `GOMEMLIMIT`.
pub const NO_MEMORY_LIMIT: u64 = i64::MAX as u64;

/// Default `GOGC` percentage. Go: the fallback in `readGOGC` (mgcpacer.go).
const DEFAULT_GC_PERCENT: u32 = 100;

/// Go sets `debug.madvdontneed = 1` in `parsedebugvars` only on Linux.
const DEFAULT_MADVDONTNEED: bool = cfg!(target_os = "linux");

/// The runtime's environment configuration.
///
/// Go: the results of `readGOGC`, `readGOMEMLIMIT` (mgcpacer.go), the
/// `GOMAXPROCS` handling in `schedinit` (proc.go) and `parsedebugvars`
/// (runtime1.go).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `GOGC`: heap growth percentage that triggers the next cycle; `None`
    /// means collection is off (`GOGC=off` or a negative value). `Some(0)`
    /// is valid and means "collect continuously".
    /// Go: `gcController.gcPercent`, from `readGOGC` in mgcpacer.go.
    pub gc_percent: Option<u32>,
    /// `GOMEMLIMIT` in bytes; [`NO_MEMORY_LIMIT`] (Go's `math.MaxInt64`)
    /// means no limit. Go: `gcController.memoryLimit`, from `readGOMEMLIMIT`
    /// in mgcpacer.go.
    pub memory_limit: u64,
    /// `GOMAXPROCS`: number of processors (always at least 1); defaults to
    /// the CPU count. Go: `procs` in `schedinit` (proc.go).
    pub max_procs: usize,
    /// The collector's `GODEBUG` keys. Go: the `debug` variable
    /// (runtime1.go).
    pub debug: Debug,
}

/// The `GODEBUG` keys the collector honours; all other keys are ignored.
///
/// Go: fields of the `debug` variable, filled by `parsegodebug`
/// (runtime1.go). Go reads each value with `atoi32` and tests it as the
/// field docs say; values Go accepts are never rejected here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debug {
    /// `gctrace`: 0 is silent, 1 or more prints one summary line per cycle.
    /// Negative values act as 0 (Go tests `debug.gctrace > 0`).
    /// Go: `debug.gctrace`.
    pub gctrace: u32,
    /// `gccheckmark`: verify the concurrent mark with a second
    /// stop-the-world mark. On when the value is positive.
    /// Go: `debug.gccheckmark` (tested `> 0`).
    pub gccheckmark: bool,
    /// `gcstoptheworld`: 1 makes every cycle stop-the-world, 2 also makes
    /// sweeping stop-the-world; any other value is the normal concurrent
    /// mode (Go tests `== 1` and `== 2`; negatives are stored as 0).
    /// Go: `debug.gcstoptheworld`.
    pub gcstoptheworld: u32,
    /// `madvdontneed`: return memory with `MADV_DONTNEED` rather than
    /// `MADV_FREE`. On when non-zero; defaults to on on Linux and off
    /// elsewhere, as in Go. Go: `debug.madvdontneed` (tested `!= 0`).
    pub madvdontneed: bool,
    /// `gcpacertrace`: print the pacer's internal state. On when positive.
    /// Go: `debug.gcpacertrace` (tested `> 0`).
    pub gcpacertrace: bool,
    /// `clobberfree`: the sweeper overwrites every object it frees with a
    /// bad pattern, so a use after free shows garbage or crashes instead of
    /// reading stale but plausible data. On when positive.
    /// Go: `debug.clobberfree` (tested `!= 0`; here `> 0`).
    pub clobberfree: bool,
    /// `tricolorgctrace`: this collector's own line per cycle on stderr
    /// (objects marked, ragged-barrier restarts, mark-worker share, GC CPU
    /// limiter), beside or instead of Go's `gctrace` line, which keeps Go's
    /// format exactly. On when positive; not a Go key.
    pub tricolorgctrace: u32,
}

impl Default for Debug {
    /// Go's defaults from `parsedebugvars` (runtime1.go): everything 0
    /// except `madvdontneed`, which is 1 on Linux.
    fn default() -> Debug {
        Debug {
            gctrace: 0,
            gccheckmark: false,
            gcstoptheworld: 0,
            madvdontneed: DEFAULT_MADVDONTNEED,
            gcpacertrace: false,
            clobberfree: false,
            tricolorgctrace: 0,
        }
    }
}

impl Default for Config {
    /// Go's defaults: `GOGC=100`, no memory limit, one processor per CPU,
    /// default `GODEBUG`. Go: `readGOGC`, `readGOMEMLIMIT` (mgcpacer.go),
    /// `schedinit` (proc.go), `parsedebugvars` (runtime1.go).
    fn default() -> Config {
        Config {
            gc_percent: Some(DEFAULT_GC_PERCENT),
            memory_limit: NO_MEMORY_LIMIT,
            max_procs: default_max_procs(),
            debug: Debug::default(),
        }
    }
}

impl Config {
    /// Reads the process environment, printing each bad value's warning to
    /// stderr (each distinct warning at most once per process).
    ///
    /// Prefer [`config`], which does this once and caches the result.
    /// Go: `readGOGC`, `readGOMEMLIMIT` (mgcpacer.go), `schedinit`
    /// (proc.go), `parsedebugvars` (runtime1.go).
    #[must_use]
    pub fn from_env() -> Config {
        let lookup = |name: &str| {
            // Non-UTF-8 values are kept (lossily) so that they are reported
            // as bad values rather than silently treated as unset.
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        };
        Config::from_lookup(&lookup, &mut |line| warn_stderr_once(&line))
    }

    /// Reads the variables through `lookup` and reports each bad value
    /// through `warn`, exactly once per bad value, as one line without a
    /// trailing newline. Pure: touches neither the environment nor stderr.
    ///
    /// An unset or empty variable means its default, without a warning (Go
    /// cannot tell the two apart either).
    /// Go: `readGOGC`, `readGOMEMLIMIT` (mgcpacer.go), `schedinit`
    /// (proc.go), `parsegodebug` (runtime1.go).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>, warn: &mut dyn FnMut(String)) -> Config {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut config = Config {
            gc_percent: Some(DEFAULT_GC_PERCENT),
            memory_limit: NO_MEMORY_LIMIT,
            max_procs: 0, // filled in below
            debug: Debug::default(),
        };

        if let Some(v) = get("GOGC") {
            match parse_gc_percent(&v) {
                Ok(p) => config.gc_percent = p,
                Err(reason) => warn(warning("GOGC", &v, &reason, DEFAULT_GC_PERCENT)),
            }
        }

        if let Some(v) = get("GOMEMLIMIT") {
            if v != "off" {
                match parse_byte_count(&v) {
                    Ok(n) => config.memory_limit = n,
                    Err(reason) => warn(warning("GOMEMLIMIT", &v, &reason, "off")),
                }
            }
        }

        let default_procs = default_max_procs();
        config.max_procs = default_procs;
        if let Some(v) = get("GOMAXPROCS") {
            match parse_max_procs(&v) {
                Ok(n) => config.max_procs = n,
                Err(reason) => warn(warning("GOMAXPROCS", &v, &reason, default_procs)),
            }
        }

        if let Some(v) = get("GODEBUG") {
            apply_godebug(&mut config.debug, &v, warn);
        }
        config
    }
}

/// The process-wide configuration: read from the environment on first use
/// (through a `OnceLock`), with warnings printed to stderr once, and then
/// cached for the life of the process.
///
/// Go: the runtime's globals set once at start-up by `gcinit`
/// (`readGOGC`, `readGOMEMLIMIT`), `schedinit` and `parsedebugvars`.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        // The first use of the collector: the origin of its CPU accounting.
        crate::gccpu::epoch();
        Config::from_env()
    })
}

/// Parses a `GOGC` value: `"off"` or a negative number is `Ok(None)`
/// (collection off); `0..=i32::MAX` is `Ok(Some(n))`. Anything else
/// (including the empty string, `+5`, `OFF`, surrounding blanks or a value
/// outside Go's `int32`) is an `Err` with the reason.
///
/// Go: `readGOGC` in mgcpacer.go (`"off"`, else `atoi32`).
///
/// # Errors
///
/// A one-phrase reason (e.g. `not a decimal integer`) for the warning line.
pub fn parse_gc_percent(s: &str) -> Result<Option<u32>, String> {
    if s == "off" {
        return Ok(None);
    }
    let n = go_atoi32(s)?;
    Ok(u32::try_from(n).ok())
}

/// Parses a byte count: a non-negative decimal integer with an optional
/// unit suffix `B`, `KiB`, `MiB`, `GiB` or `TiB` (case-sensitive; the
/// grammar is `^[0-9]+(([KMGT]i)?B)?$`), at most `i64::MAX` bytes. `"off"`
/// is not a byte count: the `GOMEMLIMIT` reader handles it.
///
/// Go: `parseByteCount` in string.go.
///
/// # Errors
///
/// A one-phrase reason (negative, fractional, unknown unit suffix, overflow,
/// ...) for the warning line.
///
/// # Examples
///
/// ```
/// assert_eq!(gc_core::env::parse_byte_count("1GiB"), Ok(1 << 30));
/// assert_eq!(gc_core::env::parse_byte_count("512MiB"), Ok(512 << 20));
/// assert!(gc_core::env::parse_byte_count("1.5GiB").is_err());
/// ```
pub fn parse_byte_count(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("empty byte count".to_string());
    }
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at(digits_end);
    if digits.is_empty() {
        let negative = s.strip_prefix('-').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        return Err(if negative {
            "negative byte counts are not allowed".to_string()
        } else {
            "byte count must start with a decimal digit".to_string()
        });
    }
    let multiplier: u64 = match suffix {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ if suffix.starts_with('.') => return Err("fractional byte counts are not allowed".to_string()),
        _ => return Err(format!("unknown unit suffix {suffix:?} (want B, KiB, MiB, GiB or TiB, case-sensitive)")),
    };
    let overflow = || "byte count overflows int64".to_string();
    let n = parse_decimal(digits).ok_or_else(overflow)?;
    let bytes = n.checked_mul(multiplier).ok_or_else(overflow)?;
    if bytes > NO_MEMORY_LIMIT {
        return Err(overflow());
    }
    Ok(bytes)
}

/// `GOMAXPROCS`: a positive Go `int32`. Go (`schedinit`) silently ignores
/// anything else; we report it.
fn parse_max_procs(s: &str) -> Result<usize, String> {
    let n = go_atoi32(s)?;
    if n <= 0 {
        return Err("must be positive".to_string());
    }
    usize::try_from(n).map_err(|_| "out of range".to_string())
}

/// Go's `parsegodebug` (runtime1.go) for the keys in [`Debug`]: items are
/// comma-separated and applied left to right (a later item overrides an
/// earlier one); an item without `=` and an unknown key are ignored
/// silently; a known key with a value `atoi32` rejects keeps its current
/// value (the default, unless an earlier item set it) and warns.
fn apply_godebug(debug: &mut Debug, godebug: &str, warn: &mut dyn FnMut(String)) {
    for item in godebug.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        let current: u32 = match key {
            "gctrace" => debug.gctrace,
            "gccheckmark" => debug.gccheckmark.into(),
            "gcstoptheworld" => debug.gcstoptheworld,
            "madvdontneed" => debug.madvdontneed.into(),
            "gcpacertrace" => debug.gcpacertrace.into(),
            "clobberfree" => debug.clobberfree.into(),
            "tricolorgctrace" => debug.tricolorgctrace,
            _ => continue,
        };
        let n = match go_atoi32(value) {
            Ok(n) => n,
            Err(reason) => {
                warn(warning(&format!("GODEBUG {key}"), value, &reason, current));
                continue;
            }
        };
        let non_negative = u32::try_from(n).unwrap_or(0);
        match key {
            "gctrace" => debug.gctrace = non_negative,
            "gccheckmark" => debug.gccheckmark = n > 0,
            "gcstoptheworld" => debug.gcstoptheworld = non_negative,
            "madvdontneed" => debug.madvdontneed = n != 0,
            "gcpacertrace" => debug.gcpacertrace = n > 0,
            "clobberfree" => debug.clobberfree = n > 0,
            "tricolorgctrace" => debug.tricolorgctrace = non_negative,
            _ => {}
        }
    }
}

/// Go's `atoi32` (string.go): an optional `-` then decimal digits, within
/// `int32`. Unlike Go, a lone `-` is rejected rather than read as 0.
fn go_atoi32(s: &str) -> Result<i32, String> {
    if s.is_empty() {
        return Err("empty value".to_string());
    }
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a decimal integer".to_string());
    }
    let out_of_range = || "out of range for int32".to_string();
    let magnitude = i64::try_from(parse_decimal(digits).ok_or_else(out_of_range)?).map_err(|_| out_of_range())?;
    let n = if negative { -magnitude } else { magnitude };
    i32::try_from(n).map_err(|_| out_of_range())
}

/// Decimal ASCII digits to `u64`; `None` on overflow. The caller has
/// checked that `digits` is non-empty and all ASCII digits.
fn parse_decimal(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
}

fn default_max_procs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The one-line warning. `{:?}` quotes the value and escapes control
/// characters, so the line stays one line whatever the value holds.
fn warning(name: &str, value: &str, reason: &str, used: impl Display) -> String {
    format!("tricolor-gc: ignoring {name}={value:?}: {reason}; using {used}")
}

/// Prints `line` to stderr unless this process already printed it. Never
/// panics: a poisoned lock is recovered and write errors are dropped.
fn warn_stderr_once(line: &str) {
    if first_time(line) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// Records `line` as printed; true the first time only.
fn first_time(line: &str) -> bool {
    static PRINTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut printed = PRINTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    printed.insert(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::collections::HashMap;

    /// Runs `from_lookup` over `vars`, returning the config and warnings.
    fn read(vars: &[(&str, &str)]) -> (Config, Vec<String>) {
        let map: HashMap<String, String> = vars.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = move |name: &str| map.get(name).cloned();
        let mut warnings = Vec::new();
        let config = Config::from_lookup(&lookup, &mut |w| warnings.push(w));
        (config, warnings)
    }

    fn cpus() -> usize {
        default_max_procs()
    }

    // ---- parse_byte_count (Go's parseByteCount) ----

    #[rstest]
    #[case("0", 0)]
    #[case("1", 1)]
    #[case("1048576", 1 << 20)]
    #[case("0B", 0)]
    #[case("10B", 10)]
    #[case("1KiB", 1 << 10)]
    #[case("512MiB", 512 << 20)]
    #[case("1GiB", 1 << 30)]
    #[case("2TiB", 2 << 40)]
    #[case("007MiB", 7 << 20)]
    #[case("0TiB", 0)]
    #[case("9223372036854775807", NO_MEMORY_LIMIT)]
    #[case("9223372036854775807B", NO_MEMORY_LIMIT)]
    #[case("8388607TiB", 8388607 << 40)]
    #[case("9007199254740991KiB", 9007199254740991 << 10)]
    fn byte_count_accepted(#[case] s: &str, #[case] want: u64) {
        assert_eq!(parse_byte_count(s), Ok(want));
    }

    #[rstest]
    #[case("", "empty")]
    #[case("off", "must start with a decimal digit")]
    #[case("-1", "negative")]
    #[case("-1GiB", "negative")]
    #[case("-0", "negative")]
    #[case("-KiB", "must start with a decimal digit")]
    #[case("1.5GiB", "fractional")]
    #[case("1.0", "fractional")]
    #[case("1gib", "unknown unit suffix")]
    #[case("1kib", "unknown unit suffix")]
    #[case("1GB", "unknown unit suffix")]
    #[case("1KB", "unknown unit suffix")]
    #[case("1K", "unknown unit suffix")]
    #[case("1b", "unknown unit suffix")]
    #[case("1iB", "unknown unit suffix")]
    #[case("1MiBB", "unknown unit suffix")]
    #[case("1PiB", "unknown unit suffix")]
    #[case("1e9", "unknown unit suffix")]
    #[case("0x10", "unknown unit suffix")]
    #[case("1 MiB", "unknown unit suffix")]
    #[case("1 ", "unknown unit suffix")]
    #[case(" 1", "must start with a decimal digit")]
    #[case("+1", "must start with a decimal digit")]
    #[case("B", "must start with a decimal digit")]
    #[case("KiB", "must start with a decimal digit")]
    #[case("9223372036854775808", "overflows")]
    #[case("9223372036854775808B", "overflows")]
    #[case("18446744073709551616", "overflows")]
    #[case("99999999999999999999999999", "overflows")]
    #[case("8388608TiB", "overflows")]
    #[case("99999999999TiB", "overflows")]
    #[case("9007199254740992KiB", "overflows")]
    fn byte_count_rejected(#[case] s: &str, #[case] reason: &str) {
        let err = parse_byte_count(s).unwrap_err();
        assert!(err.contains(reason), "{s:?}: {err:?} should mention {reason:?}");
    }

    // ---- parse_gc_percent (Go's readGOGC) ----

    #[rstest]
    #[case("off", None)]
    #[case("100", Some(100))]
    #[case("50", Some(50))]
    #[case("0", Some(0))]
    #[case("-0", Some(0))]
    #[case("007", Some(7))]
    #[case("2147483647", Some(i32::MAX as u32))]
    #[case("-1", None)]
    #[case("-100", None)]
    #[case("-2147483648", None)]
    fn gc_percent_accepted(#[case] s: &str, #[case] want: Option<u32>) {
        assert_eq!(parse_gc_percent(s), Ok(want));
    }

    #[rstest]
    #[case("")]
    #[case("abc")]
    #[case("OFF")]
    #[case("Off")]
    #[case("on")]
    #[case("-")]
    #[case("+50")]
    #[case(" 50")]
    #[case("50 ")]
    #[case("50%")]
    #[case("1.5")]
    #[case("1e3")]
    #[case("0x10")]
    #[case("--1")]
    #[case("2147483648")]
    #[case("-2147483649")]
    #[case("99999999999999999999999")]
    fn gc_percent_rejected(#[case] s: &str) {
        assert!(parse_gc_percent(s).is_err(), "{s:?} should be rejected");
    }

    // ---- GOGC through the reader ----

    #[rstest]
    #[case(None, Some(100))]
    #[case(Some(""), Some(100))]
    #[case(Some("off"), None)]
    #[case(Some("50"), Some(50))]
    #[case(Some("0"), Some(0))]
    #[case(Some("-1"), None)]
    #[case(Some("400"), Some(400))]
    fn gogc_read(#[case] value: Option<&str>, #[case] want: Option<u32>) {
        let vars: Vec<_> = value.map(|v| ("GOGC", v)).into_iter().collect();
        let (config, warnings) = read(&vars);
        assert_eq!(config.gc_percent, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gogc_bad_value_warns_with_exact_format() {
        let (config, warnings) = read(&[("GOGC", "abc")]);
        assert_eq!(config.gc_percent, Some(100));
        assert_eq!(warnings, ["tricolor-gc: ignoring GOGC=\"abc\": not a decimal integer; using 100"]);
    }

    // ---- GOMEMLIMIT through the reader ----

    #[rstest]
    #[case(None, NO_MEMORY_LIMIT)]
    #[case(Some(""), NO_MEMORY_LIMIT)]
    #[case(Some("off"), NO_MEMORY_LIMIT)]
    #[case(Some("1GiB"), 1 << 30)]
    #[case(Some("512MiB"), 512 << 20)]
    #[case(Some("1048576"), 1 << 20)]
    #[case(Some("10B"), 10)]
    #[case(Some("0"), 0)]
    fn gomemlimit_read(#[case] value: Option<&str>, #[case] want: u64) {
        let vars: Vec<_> = value.map(|v| ("GOMEMLIMIT", v)).into_iter().collect();
        let (config, warnings) = read(&vars);
        assert_eq!(config.memory_limit, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[rstest]
    #[case("-1")]
    #[case("1.5GiB")]
    #[case("1gib")]
    #[case("OFF")]
    #[case("99999999999TiB")]
    #[case("9223372036854775808")]
    fn gomemlimit_bad_value_warns(#[case] value: &str) {
        let (config, warnings) = read(&[("GOMEMLIMIT", value)]);
        assert_eq!(config.memory_limit, NO_MEMORY_LIMIT);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let prefix = format!("tricolor-gc: ignoring GOMEMLIMIT={value:?}: ");
        assert!(warnings[0].starts_with(&prefix), "{warnings:?}");
        assert!(warnings[0].ends_with("; using off"), "{warnings:?}");
    }

    // ---- GOMAXPROCS ----

    #[rstest]
    #[case("1", 1)]
    #[case("4", 4)]
    #[case("128", 128)]
    #[case("007", 7)]
    #[case("2147483647", i32::MAX as usize)]
    fn gomaxprocs_accepted(#[case] value: &str, #[case] want: usize) {
        let (config, warnings) = read(&[("GOMAXPROCS", value)]);
        assert_eq!(config.max_procs, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gomaxprocs_unset_or_empty_is_cpu_count() {
        assert_eq!(read(&[]), (Config::default(), vec![]));
        assert_eq!(read(&[("GOMAXPROCS", "")]).0.max_procs, cpus());
        assert!(cpus() >= 1);
    }

    #[rstest]
    #[case("0", "must be positive")]
    #[case("-1", "must be positive")]
    #[case("-0", "must be positive")]
    #[case("abc", "not a decimal integer")]
    #[case("1.5", "not a decimal integer")]
    #[case("+4", "not a decimal integer")]
    #[case(" 4", "not a decimal integer")]
    #[case("2147483648", "out of range for int32")]
    fn gomaxprocs_rejected(#[case] value: &str, #[case] reason: &str) {
        let (config, warnings) = read(&[("GOMAXPROCS", value)]);
        assert_eq!(config.max_procs, cpus());
        assert_eq!(warnings, [format!("tricolor-gc: ignoring GOMAXPROCS={value:?}: {reason}; using {}", cpus())]);
    }

    // ---- GODEBUG ----

    fn debug_with(f: impl FnOnce(&mut Debug)) -> Debug {
        let mut d = Debug::default();
        f(&mut d);
        d
    }

    #[rstest]
    #[case("", Debug::default())]
    #[case("gctrace=1,gccheckmark=1", debug_with(|d| { d.gctrace = 1; d.gccheckmark = true }))]
    #[case("gctrace=2", debug_with(|d| d.gctrace = 2))]
    #[case("gctrace=0", Debug::default())]
    #[case("gctrace=-1", Debug::default())]
    #[case("gccheckmark=0", Debug::default())]
    #[case("gccheckmark=2", debug_with(|d| d.gccheckmark = true))]
    #[case("gccheckmark=-1", Debug::default())]
    #[case("gcstoptheworld=1", debug_with(|d| d.gcstoptheworld = 1))]
    #[case("gcstoptheworld=2", debug_with(|d| d.gcstoptheworld = 2))]
    #[case("gcstoptheworld=-2", Debug::default())]
    #[case("madvdontneed=0", debug_with(|d| d.madvdontneed = false))]
    #[case("clobberfree=1", debug_with(|d| d.clobberfree = true))]
    #[case("madvdontneed=1", debug_with(|d| d.madvdontneed = true))]
    #[case("madvdontneed=-1", debug_with(|d| d.madvdontneed = true))]
    #[case("gcpacertrace=1", debug_with(|d| d.gcpacertrace = true))]
    #[case("gcpacertrace=0", Debug::default())]
    // unknown keys, malformed items and case-mismatched keys are ignored
    #[case("foo=bar,gctrace=1,asyncpreemptoff=1", debug_with(|d| d.gctrace = 1))]
    #[case("gctrace", Debug::default())]
    #[case("gctrace,gcpacertrace=1", debug_with(|d| d.gcpacertrace = true))]
    #[case("GCTRACE=1", Debug::default())]
    #[case(" gctrace=1", Debug::default())]
    #[case("=1", Debug::default())]
    #[case(",,gctrace=1,", debug_with(|d| d.gctrace = 1))]
    // left to right: later items override earlier ones
    #[case("gctrace=1,gctrace=0", Debug::default())]
    #[case("gctrace=0,gctrace=3", debug_with(|d| d.gctrace = 3))]
    #[case(
        "gctrace=1,gccheckmark=1,gcstoptheworld=2,madvdontneed=0,gcpacertrace=1",
        Debug { gctrace: 1, gccheckmark: true, gcstoptheworld: 2, madvdontneed: false, gcpacertrace: true, clobberfree: false, tricolorgctrace: 0 }
    )]
    #[case("tricolorgctrace=1", debug_with(|d| d.tricolorgctrace = 1))]
    #[case("gctrace=1,tricolorgctrace=2", debug_with(|d| { d.gctrace = 1; d.tricolorgctrace = 2 }))]
    #[case("tricolorgctrace=-1", Debug::default())]
    fn godebug_accepted(#[case] value: &str, #[case] want: Debug) {
        let (config, warnings) = read(&[("GODEBUG", value)]);
        assert_eq!(config.debug, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[rstest]
    #[case("gctrace=x", "gctrace", "x", Debug::default(), "0")]
    #[case("gctrace=", "gctrace", "", Debug::default(), "0")]
    #[case("gctrace= 1", "gctrace", " 1", Debug::default(), "0")]
    #[case("gctrace=1.0", "gctrace", "1.0", Debug::default(), "0")]
    #[case("gctrace=1,gctrace=x", "gctrace", "x", debug_with(|d| d.gctrace = 1), "1")]
    #[case("gccheckmark=yes", "gccheckmark", "yes", Debug::default(), "0")]
    #[case("gcstoptheworld=99999999999", "gcstoptheworld", "99999999999", Debug::default(), "0")]
    #[case("madvdontneed=true", "madvdontneed", "true",
           Debug::default(), if DEFAULT_MADVDONTNEED { "1" } else { "0" })]
    #[case("gcpacertrace=on", "gcpacertrace", "on", Debug::default(), "0")]
    #[case("tricolorgctrace=yes", "tricolorgctrace", "yes", Debug::default(), "0")]
    #[case("gctrace=x,gccheckmark=1", "gctrace", "x", debug_with(|d| d.gccheckmark = true), "0")]
    fn godebug_bad_value_warns_and_keeps_value(
        #[case] godebug: &str,
        #[case] key: &str,
        #[case] bad: &str,
        #[case] want: Debug,
        #[case] used: &str,
    ) {
        let (config, warnings) = read(&[("GODEBUG", godebug)]);
        assert_eq!(config.debug, want);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let prefix = format!("tricolor-gc: ignoring GODEBUG {key}={bad:?}: ");
        assert!(warnings[0].starts_with(&prefix), "{warnings:?}");
        assert!(warnings[0].ends_with(&format!("; using {used}")), "{warnings:?}");
    }

    // ---- isolation and warning counts ----

    #[test]
    fn bad_value_of_one_variable_does_not_disturb_the_others() {
        let good =
            [("GOGC", "50"), ("GOMEMLIMIT", "512MiB"), ("GOMAXPROCS", "3"), ("GODEBUG", "gctrace=1,gcpacertrace=1")];
        let want = Config {
            gc_percent: Some(50),
            memory_limit: 512 << 20,
            max_procs: 3,
            debug: debug_with(|d| {
                d.gctrace = 1;
                d.gcpacertrace = true
            }),
        };
        assert_eq!(read(&good), (want.clone(), vec![]));
        let bad = [
            ("GOGC", "abc"),
            ("GOMEMLIMIT", "1.5GiB"),
            ("GOMAXPROCS", "0"),
            ("GODEBUG", "gctrace=1,gccheckmark=x,gcpacertrace=1"),
        ];
        for (i, &(bad_name, bad_value)) in bad.iter().enumerate() {
            let mut vars = good;
            vars[i] = (bad_name, bad_value);
            let (config, warnings) = read(&vars);
            let mut expected = want.clone();
            match bad_name {
                "GOGC" => expected.gc_percent = Some(100),
                "GOMEMLIMIT" => expected.memory_limit = NO_MEMORY_LIMIT,
                "GOMAXPROCS" => expected.max_procs = cpus(),
                _ => {} // gccheckmark keeps its default; the rest still apply
            }
            assert_eq!(config, expected, "bad {bad_name}");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains(&format!("ignoring {bad_name}")), "{warnings:?}");
        }
    }

    #[rstest]
    #[case(&[], 0)]
    #[case(&[("GOGC", "abc")], 1)]
    #[case(&[("GOGC", "abc"), ("GOMEMLIMIT", "1gib")], 2)]
    #[case(&[("GODEBUG", "gctrace=x,gctrace=y,gccheckmark=z,unknown=w,bad")], 3)]
    #[case(&[("GOGC", "abc"), ("GOMEMLIMIT", "-1"), ("GOMAXPROCS", "x"), ("GODEBUG", "gctrace=x,gcstoptheworld=y")], 5)]
    #[case(&[("GOGC", "off"), ("GOMEMLIMIT", "off"), ("GOMAXPROCS", "2"), ("GODEBUG", "x=y")], 0)]
    fn warn_is_called_once_per_bad_value(#[case] vars: &[(&str, &str)], #[case] count: usize) {
        let (_, warnings) = read(vars);
        assert_eq!(warnings.len(), count, "{warnings:?}");
        for w in &warnings {
            assert!(w.starts_with("tricolor-gc: ignoring "), "{w:?}");
            assert!(!w.contains('\n'), "{w:?}");
        }
    }

    #[test]
    fn warning_stays_on_one_line_for_control_characters() {
        let (config, warnings) = read(&[("GOGC", "1\n2\r\u{0}\"")]);
        assert_eq!(config.gc_percent, Some(100));
        assert_eq!(warnings.len(), 1);
        assert!(!warnings[0].contains(['\n', '\r', '\0']), "{warnings:?}");
    }

    #[test]
    fn stderr_warnings_are_deduplicated() {
        let line = "tricolor-gc: test line for first_time";
        assert!(first_time(line));
        assert!(!first_time(line));
        assert!(first_time("tricolor-gc: another test line"));
    }

    // ---- properties (proptest): the parsers against independent models ----
    //
    // Each model below restates the documented grammar with std's own
    // integer parsing (and `i128`/`u128` headroom) instead of the hand-written
    // digit loop under test, so a wrong bound, a lost sign or a mis-scaled
    // unit shows up as a disagreement, not only a panic.

    use proptest::prelude::*;

    /// The byte-count unit suffixes with their multipliers.
    const UNITS: [(&str, u64); 6] =
        [("", 1), ("B", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)];
    /// The GODEBUG keys the collector reads.
    const KEYS: [&str; 6] = ["gctrace", "gccheckmark", "gcstoptheworld", "madvdontneed", "gcpacertrace", "clobberfree"];

    /// Model of `go_atoi32`: `-?[0-9]+` whose value fits an `i32`.
    fn model_atoi32(s: &str) -> Option<i32> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let significant = digits.trim_start_matches('0');
        if significant.len() > 12 {
            return None; // far outside i32 whatever the digits
        }
        let magnitude: i128 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
        i32::try_from(if s.starts_with('-') { -magnitude } else { magnitude }).ok()
    }

    /// Model of `parse_byte_count`: `^[0-9]+(([KMGT]i)?B)?$`, at most `i64::MAX`.
    fn model_byte_count(s: &str) -> Option<u64> {
        let end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
        let (digits, suffix) = s.split_at(end);
        let &(_, mult) = UNITS.iter().find(|(u, _)| *u == suffix)?;
        if digits.is_empty() {
            return None;
        }
        let significant = digits.trim_start_matches('0');
        if significant.len() > 25 {
            return None;
        }
        let n: u128 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
        let bytes = n * u128::from(mult);
        (bytes <= i64::MAX as u128).then_some(bytes as u64)
    }

    /// Model of `parse_gc_percent`.
    fn model_gc_percent(s: &str) -> Option<Option<u32>> {
        if s == "off" {
            return Some(None);
        }
        model_atoi32(s).map(|n| u32::try_from(n).ok())
    }

    /// Model of `parse_max_procs`.
    fn model_max_procs(s: &str) -> Option<usize> {
        model_atoi32(s).filter(|&n| n > 0).map(|n| n as usize)
    }

    /// Model of `apply_godebug` from the defaults: the resulting keys and the
    /// number of warnings (one per known key with a value `atoi32` rejects).
    fn model_godebug(s: &str) -> (Debug, usize) {
        let mut d = Debug::default();
        let mut warnings = 0;
        for item in s.split(',') {
            let Some(eq) = item.find('=') else { continue };
            let (key, value) = (&item[..eq], &item[eq + 1..]);
            if !KEYS.contains(&key) {
                continue;
            }
            let Some(n) = model_atoi32(value) else {
                warnings += 1;
                continue;
            };
            match key {
                "gctrace" => d.gctrace = n.max(0) as u32,
                "gccheckmark" => d.gccheckmark = n > 0,
                "gcstoptheworld" => d.gcstoptheworld = n.max(0) as u32,
                "madvdontneed" => d.madvdontneed = n != 0,
                "gcpacertrace" => d.gcpacertrace = n > 0,
                _ => d.clobberfree = n > 0,
            }
        }
        (d, warnings)
    }

    /// Decimal text around the interesting bounds: int32, int64, uint64,
    /// leading zeros, long digit runs.
    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u64..300).prop_map(|n| n.to_string()),
            any::<u32>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            prop::sample::select(vec![
                "2147483647",
                "2147483648",
                "4294967295",
                "4294967296",
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551615",
                "18446744073709551616",
                "8388607",
                "8388608",
                "9007199254740991",
                "9007199254740992",
            ])
            .prop_map(String::from),
            (-20i64..20).prop_map(|d| ((i64::MAX as i128) + i128::from(d)).to_string()),
            (-20i64..20).prop_map(|d| ((8_388_607i128 << 40) + i128::from(d)).to_string()),
            "0{1,6}[0-9]{0,6}",
            "[0-9]{15,45}",
        ]
    }

    /// Candidate values: signed numbers with unit suffixes (valid and not),
    /// keywords, token soup, arbitrary Unicode and lossy non-UTF-8.
    fn value() -> impl Strategy<Value = String> {
        let sign = prop::sample::select(vec!["", "", "", "-", "+", "--", " ", "-+"]);
        let suffix = prop::sample::select(vec![
            "", "", "", "B", "KiB", "MiB", "GiB", "TiB", "kib", "KB", "K", "Ki", "PiB", "iB", "b", "MiBB", ".5", ".0",
            ".5GiB", " ", "%", "e3", "x", "\u{e9}", "\u{fffd}", "\n", "\0", "\u{2212}", "\u{0661}",
        ]);
        let token = prop::sample::select(vec![
            "0",
            "1",
            "9",
            "-",
            "+",
            ".",
            " ",
            "B",
            "i",
            "K",
            "M",
            "G",
            "T",
            "k",
            "b",
            "off",
            "=",
            ",",
            "gctrace",
            "99999999999",
            "\u{e9}",
            "\u{1f600}",
        ]);
        prop_oneof![
            4 => (sign, number(), suffix).prop_map(|(a, n, u)| format!("{a}{n}{u}")),
            1 => prop::sample::select(vec!["", "off", "OFF", "Off", " off", "off ", "-", "B", "KiB"]).prop_map(String::from),
            2 => prop::collection::vec(token, 0..8).prop_map(|t| t.concat()),
            1 => any::<String>(),
            1 => any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    }

    /// A GODEBUG string: items of known, unknown and mis-spelt keys with
    /// candidate values (free of commas), bare keys and empty items.
    fn godebug() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "gctrace",
            "gccheckmark",
            "gcstoptheworld",
            "madvdontneed",
            "gcpacertrace",
            "clobberfree",
            "GCTRACE",
            " gctrace",
            "gctrace ",
            "asyncpreemptoff",
            "",
        ]);
        let item = prop_oneof![
            6 => (key.clone(), value()).prop_map(|(k, v)| format!("{k}={}", v.replace(',', ""))),
            1 => key.prop_map(String::from),
            1 => Just(String::new()),
            1 => Just("=".to_string()),
        ];
        prop::collection::vec(item, 0..7).prop_map(|items| items.join(","))
    }

    fn optional(s: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
        prop::option::weighted(0.8, s)
    }

    /// The warning line for `name` and `value`, as the reader must print it.
    fn assert_warning(warnings: &[String], name: &str, value: &str, used: &str) {
        let want_prefix = format!("tricolor-gc: ignoring {name}={value:?}: ");
        let w = warnings.iter().find(|w| w.starts_with(&want_prefix));
        let w = w.unwrap_or_else(|| panic!("no warning for {name}={value:?} in {warnings:?}"));
        assert!(w.ends_with(&format!("; using {used}")), "{w:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn byte_count_agrees_with_the_grammar(s in value()) {
            let got = parse_byte_count(&s);
            prop_assert_eq!(got.clone().ok(), model_byte_count(&s), "{:?} -> {:?}", s, got);
            if let Err(reason) = got {
                prop_assert!(!reason.is_empty() && !reason.contains('\n'));
            }
        }

        #[test]
        fn byte_counts_round_trip(bytes in prop_oneof![0..=i64::MAX as u64, 0u64..(1 << 24)], zeros in 0usize..3) {
            // The largest unit that divides exactly, then every smaller one.
            for &(unit, mult) in UNITS.iter().rev().filter(|(_, m)| bytes % m == 0) {
                let s = format!("{}{}{unit}", "0".repeat(zeros), bytes / mult);
                prop_assert_eq!(parse_byte_count(&s), Ok(bytes), "{:?}", s);
            }
            // One unit more than fits overflows instead of wrapping.
            let (unit, mult) = UNITS[5];
            let over = i64::MAX as u64 / mult + 1 + bytes % 1000;
            let s = format!("{over}{unit}");
            prop_assert!(parse_byte_count(&s).is_err(), "{:?}", s);
        }

        #[test]
        fn gc_percent_agrees_with_atoi32(s in value()) {
            let got = parse_gc_percent(&s);
            prop_assert_eq!(got.clone().ok(), model_gc_percent(&s), "{:?} -> {:?}", s, got);
        }

        #[test]
        fn gc_percent_round_trips(n in any::<i32>()) {
            let want = u32::try_from(n).ok();
            prop_assert_eq!(parse_gc_percent(&n.to_string()), Ok(want));
            // Beyond int32 in either direction: rejected, never wrapped.
            prop_assert!(parse_gc_percent(&(i64::from(n) + (1i64 << 32)).to_string()).is_err());
        }

        #[test]
        fn godebug_agrees_with_the_model(s in godebug()) {
            let (config, warnings) = read(&[("GODEBUG", &s)]);
            let (want, count) = model_godebug(&s);
            prop_assert_eq!(config.debug, want, "GODEBUG={:?}", s);
            prop_assert_eq!(warnings.len(), count, "GODEBUG={:?}: {:?}", s, warnings);
            for w in &warnings {
                prop_assert!(w.starts_with("tricolor-gc: ignoring GODEBUG ") && !w.contains(['\n', '\r']), "{:?}", w);
            }
            // Nothing else moves.
            prop_assert_eq!((config.gc_percent, config.memory_limit, config.max_procs), (Some(100), NO_MEMORY_LIMIT, cpus()));
        }

        /// Any mix of the four variables: valid values are used, each
        /// invalid one falls back to its default with exactly one warning
        /// naming it, and never disturbs the others.
        #[test]
        fn reader_uses_valid_values_and_defaults_bad_ones(
            gogc in optional(value()),
            limit in optional(prop_oneof![value(), Just("off".to_string())]),
            procs in optional(value()),
            debug in optional(godebug()),
        ) {
            let mut vars = Vec::new();
            for (name, v) in [("GOGC", &gogc), ("GOMEMLIMIT", &limit), ("GOMAXPROCS", &procs), ("GODEBUG", &debug)] {
                if let Some(v) = v {
                    vars.push((name, v.as_str()));
                }
            }
            let (config, warnings) = read(&vars);
            let set = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
            let mut want_warnings = 0;

            let want_gogc = match set(&gogc) {
                None => Some(DEFAULT_GC_PERCENT),
                Some(v) => model_gc_percent(&v).unwrap_or_else(|| {
                    want_warnings += 1;
                    assert_warning(&warnings, "GOGC", &v, "100");
                    Some(DEFAULT_GC_PERCENT)
                }),
            };
            let want_limit = match set(&limit) {
                None => NO_MEMORY_LIMIT,
                Some(v) if v == "off" => NO_MEMORY_LIMIT,
                Some(v) => model_byte_count(&v).unwrap_or_else(|| {
                    want_warnings += 1;
                    assert_warning(&warnings, "GOMEMLIMIT", &v, "off");
                    NO_MEMORY_LIMIT
                }),
            };
            let want_procs = match set(&procs) {
                None => cpus(),
                Some(v) => model_max_procs(&v).unwrap_or_else(|| {
                    want_warnings += 1;
                    assert_warning(&warnings, "GOMAXPROCS", &v, &cpus().to_string());
                    cpus()
                }),
            };
            let want_debug = match set(&debug) {
                None => Debug::default(),
                Some(v) => {
                    let (d, n) = model_godebug(&v);
                    want_warnings += n;
                    d
                }
            };
            let want = Config { gc_percent: want_gogc, memory_limit: want_limit, max_procs: want_procs, debug: want_debug };
            prop_assert_eq!(&config, &want, "{:?}", vars);
            prop_assert_eq!(warnings.len(), want_warnings, "{:?}: {:?}", vars, warnings);
            for w in &warnings {
                prop_assert!(w.starts_with("tricolor-gc: ignoring ") && !w.contains(['\n', '\r', '\0']), "{:?}", w);
            }
        }

        /// A configuration written out as the variables Go documents reads
        /// back unchanged, without warnings.
        #[test]
        fn written_config_reads_back(
            gogc in prop::option::of(0..=i32::MAX as u32),
            off_spelling in any::<bool>(),
            limit in prop_oneof![Just(NO_MEMORY_LIMIT), 0..=NO_MEMORY_LIMIT, (0u64..4096).prop_map(|n| n << 20)],
            procs in prop_oneof![1usize..=512, 1..=i32::MAX as usize],
            gctrace in prop_oneof![0u32..3, 0..=i32::MAX as u32],
            stw in 0u32..3,
            flags in any::<[bool; 4]>(),
            magnitude in 1..=i32::MAX,
            noise in prop::sample::select(vec!["", "asyncpreemptoff=1,", "gctrace,", ",", "foo=bar,", "GCTRACE=9,"]),
        ) {
            let [gccheckmark, madvdontneed, gcpacertrace, clobberfree] = flags;
            let want = Config {
                gc_percent: gogc,
                memory_limit: limit,
                max_procs: procs,
                debug: Debug { gctrace, gccheckmark, gcstoptheworld: stw, madvdontneed, gcpacertrace, clobberfree, tricolorgctrace: 0 },
            };
            // Booleans in any spelling Go accepts for them.
            let positive = |on: bool| if on { magnitude } else { -(magnitude - 1) };
            let non_zero = |on: bool| if on { -magnitude } else { 0 };
            let gogc_text = match gogc {
                Some(n) => n.to_string(),
                None if off_spelling => "off".to_string(),
                None => (-magnitude).to_string(),
            };
            let limit_text = match UNITS.iter().rev().find(|(_, m)| limit % m == 0) {
                _ if limit == NO_MEMORY_LIMIT && off_spelling => "off".to_string(),
                Some((unit, mult)) => format!("{}{unit}", limit / mult),
                None => unreachable!("B divides everything"),
            };
            let godebug = format!(
                "{noise}gctrace={gctrace},gccheckmark={},gcstoptheworld={stw},madvdontneed={},gcpacertrace={},clobberfree={}",
                positive(gccheckmark), non_zero(madvdontneed), positive(gcpacertrace), positive(clobberfree),
            );
            let procs_text = procs.to_string();
            let vars = [("GOGC", gogc_text.as_str()), ("GOMEMLIMIT", &limit_text), ("GOMAXPROCS", &procs_text), ("GODEBUG", &godebug)];
            prop_assert_eq!(read(&vars), (want, vec![]), "{:?}", vars);
        }
    }

    #[test]
    fn config_is_read_once_and_cached() {
        let first: *const Config = config();
        let second: *const Config = config();
        assert_eq!(first, second);
        assert!(config().max_procs >= 1);
    }

    #[test]
    fn defaults_are_gos() {
        let d = Config::default();
        assert_eq!(d.gc_percent, Some(100));
        assert_eq!(d.memory_limit, NO_MEMORY_LIMIT);
        assert_eq!(d.memory_limit, i64::MAX as u64);
        assert_eq!(d.max_procs, cpus());
        let expected = Debug {
            gctrace: 0,
            gccheckmark: false,
            gcstoptheworld: 0,
            madvdontneed: cfg!(target_os = "linux"),
            gcpacertrace: false,
            clobberfree: false,
            tricolorgctrace: 0,
        };
        assert_eq!(d.debug, expected);
    }
}
