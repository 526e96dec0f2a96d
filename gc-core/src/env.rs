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
    CONFIG.get_or_init(Config::from_env)
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
        Debug { gctrace: 1, gccheckmark: true, gcstoptheworld: 2, madvdontneed: false, gcpacertrace: true, clobberfree: false }
    )]
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

    #[test]
    fn parsers_never_panic() {
        const ALPHABET: &[&str] = &[
            "",
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
            "madvdontneed",
            "\u{fffd}",
            "é",
            "99999999999",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(state % 7) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                s.push_str(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
            }
            let _ = parse_byte_count(&s);
            let _ = parse_gc_percent(&s);
            let (_, warnings) = read(&[("GOGC", &s), ("GOMEMLIMIT", &s), ("GOMAXPROCS", &s), ("GODEBUG", &s)]);
            assert!(warnings.len() <= 3 + s.matches(',').count() + 1);
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
        };
        assert_eq!(d.debug, expected);
    }
}
