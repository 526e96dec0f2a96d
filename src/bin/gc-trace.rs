//! `gc-trace`: reads an execution trace written by `tricolor_gc::trace` (or
//! `TRICOLOR_TRACE=path`) and prints what the collector did.
//!
//! ```text
//! cargo run --release --features trace-tool --bin gc-trace -- summary trace.json
//! cargo run --release --features trace-tool --bin gc-trace -- mmu trace.json
//! cargo run --release --features trace-tool --bin gc-trace -- svg trace.json mmu.svg
//! ```
//!
//! * `summary`: per-phase totals (time and count of each slice name), the
//!   distribution of stops (p50, p99, max) and their sum.
//! * `mmu`: the minimum mutator utilisation for windows from 100 µs to 1 s
//!   (Go's `go tool trace` MMU view), as a table.
//! * `svg`: the same curve drawn as an SVG plot.
//!
//! Stops are the slices of category `stw` whose name starts with `stop:`;
//! the run spans from the first event to the last.

use plotters::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// A slice of the trace (times in µs, as the file has them).
struct Slice {
    name: String,
    cat: String,
    ts: f64,
    dur: f64,
}

struct Trace {
    slices: Vec<Slice>,
    start: f64,
    end: f64,
}

fn load(path: &str) -> Result<Trace, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))?;
    let events = v
        .get("traceEvents")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{path}: no traceEvents array (not a trace-event file)"))?;
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut slices = Vec::new();
    for e in events {
        let ph = e.get("ph").and_then(Value::as_str).unwrap_or("");
        let Some(ts) = e.get("ts").and_then(Value::as_f64) else { continue };
        let dur = e.get("dur").and_then(Value::as_f64).unwrap_or(0.0);
        start = start.min(ts);
        end = end.max(ts + dur);
        if ph == "X" {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            slices.push(Slice { name: s("name"), cat: s("cat"), ts, dur });
        }
    }
    if slices.is_empty() {
        return Err(format!("{path}: the trace holds no slices"));
    }
    Ok(Trace { slices, start, end })
}

impl Trace {
    fn stops(&self) -> Vec<(f64, f64)> {
        self.slices
            .iter()
            .filter(|s| s.cat == "stw" && s.name.starts_with("stop:"))
            .map(|s| (s.ts, s.ts + s.dur))
            .collect()
    }
}

/// The `q` quantile of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

fn summary(t: &Trace) {
    let mut by_name: BTreeMap<(&str, &str), (f64, usize)> = BTreeMap::new();
    for s in &t.slices {
        let e = by_name.entry((s.cat.as_str(), s.name.as_str())).or_default();
        e.0 += s.dur;
        e.1 += 1;
    }
    println!("run: {:.3} ms", (t.end - t.start) / 1000.0);
    println!("{:<10} {:<40} {:>12} {:>8}", "category", "slice", "total ms", "count");
    for ((cat, name), (total, n)) in &by_name {
        println!("{cat:<10} {name:<40} {:>12.3} {n:>8}", total / 1000.0);
    }
    let mut pauses: Vec<f64> = t.stops().iter().map(|(a, b)| b - a).collect();
    pauses.sort_by(f64::total_cmp);
    let sum: f64 = pauses.iter().sum();
    println!(
        "stops: {} in all, {:.3} ms total; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        pauses.len(),
        sum / 1000.0,
        quantile(&pauses, 0.5),
        quantile(&pauses, 0.99),
        pauses.last().copied().unwrap_or(0.0)
    );
}

/// Window lengths of the MMU curve, µs: 100 µs to 1 s, four per decade.
fn windows() -> Vec<f64> {
    let mut w = Vec::new();
    let mut x: f64 = 100.0;
    while x <= 1_000_000.0 * 1.0001 {
        w.push(x);
        x *= 10f64.powf(0.25);
    }
    w
}

fn curve(t: &Trace) -> Vec<(f64, f64)> {
    let stops = t.stops();
    windows().into_iter().map(|w| (w, tricolor_gc::trace::mmu(&stops, (t.start, t.end), w))).collect()
}

fn fmt_window(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

fn svg(t: &Trace, out: &str) -> Result<(), String> {
    let c = curve(t);
    let root = SVGBackend::new(out, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption("minimum mutator utilisation", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((100f64..1_000_000f64).log_scale(), 0f64..1f64)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("window")
        .y_desc("MMU")
        .x_label_formatter(&|x| fmt_window(*x))
        .draw()
        .map_err(|e| e.to_string())?;
    chart.draw_series(LineSeries::new(c, &BLUE)).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gc-trace summary|mmu TRACE.json | gc-trace svg TRACE.json [OUT.svg]";
    let (Some(cmd), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let t = match load(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gc-trace: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cmd.as_str() {
        "summary" => summary(&t),
        "mmu" => {
            println!("{:>10} {:>8}", "window", "MMU");
            for (w, u) in curve(&t) {
                println!("{:>10} {:>8.4}", fmt_window(w), u);
            }
        }
        "svg" => {
            let out = args.get(2).cloned().unwrap_or_else(|| "mmu.svg".into());
            if let Err(e) = svg(&t, &out) {
                eprintln!("gc-trace: {out}: {e}");
                return ExitCode::FAILURE;
            }
            println!("wrote {out}");
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
