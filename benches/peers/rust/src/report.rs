//! Report generator for benches/compare.sh.
//!
//! Usage: report <dir>
//! Reads <dir>/raw.tsv (written by compare.sh; columns: system workload run
//! wall_s rss_kb prog_wall_ms max_pause_us p99_pause_us max_gap_us p99_gap_us
//! status extra) and <dir>/meta.md (header), writes <dir>/report.md and SVG
//! charts (wall_grouped.svg, wall_<workload>.svg, pauses.svg).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const BASELINE: &str = "tricolor";

#[derive(Debug, Clone)]
struct Row {
    system: String,
    workload: String,
    wall_s: Option<f64>,
    rss_kb: Option<f64>,
    prog_ms: Option<f64>,
    max_pause: Option<f64>,
    p99_pause: Option<f64>,
    max_gap: Option<f64>,
    p99_gap: Option<f64>,
    status: String,
    extra: String,
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn read_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("report: cannot read {}: {e}", path.display());
        std::process::exit(1)
    });
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.starts_with("system\t") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let g = |i: usize| f.get(i).copied().unwrap_or("");
        rows.push(Row {
            system: g(0).to_string(),
            workload: g(1).to_string(),
            wall_s: num(g(3)),
            rss_kb: num(g(4)),
            prog_ms: num(g(5)),
            max_pause: num(g(6)),
            p99_pause: num(g(7)),
            max_gap: num(g(8)),
            p99_gap: num(g(9)),
            status: g(10).to_string(),
            extra: g(11).to_string(),
        });
    }
    rows
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

fn min_max(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Some((lo, hi))
}

/// Aggregated statistics of one (system, workload) cell.
#[derive(Default, Clone)]
struct Cell {
    ok_runs: usize,
    total_runs: usize,
    walls: Vec<f64>,
    rss: Vec<f64>,
    prog: Vec<f64>,
    max_pause: Vec<f64>,
    p99_pause: Vec<f64>,
    max_gap: Vec<f64>,
    p99_gap: Vec<f64>,
    extras: BTreeMap<String, Vec<String>>,
    problems: Vec<String>,
}

impl Cell {
    fn wall(&self) -> Option<f64> {
        median(&self.walls)
    }
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.prec$}"))
}

fn fmt_us(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
    }
}

const PALETTE: [RGBColor; 14] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(173, 73, 74),
    RGBColor(99, 121, 57),
    RGBColor(206, 109, 189),
];

/// One bar: value with optional whisker (lo, hi).
type Bar = Option<(f64, Option<(f64, f64)>)>;

/// Grouped bar chart: `groups` along x, one bar per series inside each group.
/// With `log`, values are plotted as log10 and the axis is labelled in the
/// original unit.
fn grouped_bars(
    path: &Path,
    title: &str,
    y_desc: &str,
    groups: &[String],
    series: &[(String, Vec<Bar>)],
    log: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let k = series.len().max(1);
    let slots_per_group = k + 1;
    let nslots = groups.len() * slots_per_group;
    if nslots == 0 {
        return Ok(());
    }
    let tr = |v: f64| if log { v.max(1e-3).log10() } else { v };
    let mut ymax: f64 = 0.0;
    let mut ymin: f64 = if log { f64::INFINITY } else { 0.0 };
    for (_, bars) in series {
        for (v, w) in bars.iter().flatten() {
            let hi = w.map_or(*v, |(_, h)| h.max(*v));
            let lo = w.map_or(*v, |(l, _)| l.min(*v));
            ymax = ymax.max(tr(hi));
            if log {
                ymin = ymin.min(tr(lo));
            }
        }
    }
    if !ymax.is_finite() || ymax <= 0.0 && !log {
        ymax = 1.0;
    }
    if log {
        ymin = if ymin.is_finite() { ymin.floor() } else { 0.0 };
        ymax = ymax.ceil().max(ymin + 1.0);
    } else {
        ymax *= 1.1;
    }
    let width = (220 + nslots * 26).clamp(700, 1600) as u32;
    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d((0..nslots).into_segmented(), ymin..ymax)?;
    let label_of = |v: &SegmentValue<usize>| -> String {
        match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                let g = i / slots_per_group;
                let s = i % slots_per_group;
                if s == k / 2 && g < groups.len() {
                    groups[g].clone()
                } else {
                    String::new()
                }
            }
            SegmentValue::Last => String::new(),
        }
    };
    let y_fmt = |v: &f64| -> String {
        if log {
            let x = 10f64.powf(*v);
            if x >= 1.0 {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        } else {
            format!("{v:.2}")
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(nslots)
        .x_label_formatter(&label_of)
        .y_label_formatter(&y_fmt)
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .draw()?;
    let base = if log { ymin } else { 0.0 };
    for (si, (name, bars)) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let rects: Vec<_> = bars
            .iter()
            .enumerate()
            .filter_map(|(gi, b)| {
                b.map(|(v, _)| {
                    let x = gi * slots_per_group + si;
                    Rectangle::new(
                        [(SegmentValue::Exact(x), base), (SegmentValue::Exact(x + 1), tr(v))],
                        color.filled(),
                    )
                })
            })
            .collect();
        chart
            .draw_series(rects)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        let whiskers: Vec<_> = bars
            .iter()
            .enumerate()
            .filter_map(|(gi, b)| {
                b.and_then(|(_, w)| w).map(|(lo, hi)| {
                    let x = gi * slots_per_group + si;
                    PathElement::new(
                        vec![(SegmentValue::CenterOf(x), tr(lo)), (SegmentValue::CenterOf(x), tr(hi))],
                        BLACK.stroke_width(2),
                    )
                })
            })
            .collect();
        chart.draw_series(whiskers)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/bench-report".into()));
    let rows = read_rows(&dir.join("raw.tsv"));
    let meta = std::fs::read_to_string(dir.join("meta.md")).unwrap_or_default();

    let mut systems: Vec<String> = Vec::new();
    let mut workloads: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    for r in &rows {
        if !systems.contains(&r.system) {
            systems.push(r.system.clone());
        }
        if !workloads.contains(&r.workload) {
            workloads.push(r.workload.clone());
        }
        let c = cells.entry((r.system.clone(), r.workload.clone())).or_default();
        c.total_runs += 1;
        if r.status == "ok" {
            c.ok_runs += 1;
            c.walls.extend(r.wall_s);
            c.rss.extend(r.rss_kb);
            c.prog.extend(r.prog_ms);
            c.max_pause.extend(r.max_pause);
            c.p99_pause.extend(r.p99_pause);
            c.max_gap.extend(r.max_gap);
            c.p99_gap.extend(r.p99_gap);
            for kv in r.extra.split_whitespace() {
                if let Some((k, v)) = kv.split_once('=') {
                    c.extras.entry(k.to_string()).or_default().push(v.to_string());
                }
            }
        } else if !c.problems.contains(&r.status) {
            c.problems.push(r.status.clone());
        }
    }

    let mut md = String::new();
    md.push_str("# tricolor-gc cross-system benchmark report\n\n");
    md.push_str(&meta);
    md.push_str("\n## Main table\n\n");
    md.push_str(
        "wall = process wall time from `/usr/bin/time` (includes runtime start-up such as the JVM's), \
         median over the ok runs, spread = min–max; RSS = peak resident set size (median); \
         max/p99 pause = GC stop-the-world pauses as reported by the system itself \
         (median over runs of each run's max and p99; n/a = the system cannot report them); \
         × tricolor = median wall / tricolor-gc's median wall (> 1 means slower than tricolor-gc); \
         × best = median wall / the fastest system's on that workload.\n\n",
    );
    md.push_str("| workload | system | ok runs | wall s | spread s | in-program ms | peak RSS MB | max pause µs | p99 pause µs | × tricolor | × best |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for w in &workloads {
        let best = systems
            .iter()
            .filter_map(|s| cells.get(&(s.clone(), w.clone())).and_then(Cell::wall))
            .fold(f64::INFINITY, f64::min);
        let base = cells.get(&(BASELINE.to_string(), w.clone())).and_then(Cell::wall);
        for s in &systems {
            let Some(c) = cells.get(&(s.clone(), w.clone())) else { continue };
            let wall = c.wall();
            let spread = min_max(&c.walls).map_or("—".into(), |(a, b)| format!("{a:.2}–{b:.2}"));
            let ratio = match (wall, base) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ => "n/a".into(),
            };
            let rbest = match wall {
                Some(a) if best.is_finite() && best > 0.0 => format!("{:.2}", a / best),
                _ => "n/a".into(),
            };
            let status = if c.ok_runs == 0 {
                format!("0/{} ({})", c.total_runs, c.problems.join("; "))
            } else if !c.problems.is_empty() {
                format!("{}/{} ({})", c.ok_runs, c.total_runs, c.problems.join("; "))
            } else {
                format!("{}/{}", c.ok_runs, c.total_runs)
            };
            let _ = writeln!(
                md,
                "| {w} | {s} | {status} | {} | {spread} | {} | {} | {} | {} | {ratio} | {rbest} |",
                fmt_opt(wall, 2),
                fmt_opt(median(&c.prog), 0),
                fmt_opt(median(&c.rss).map(|k| k / 1024.0), 0),
                fmt_us(median(&c.max_pause)),
                fmt_us(median(&c.p99_pause)),
            );
        }
    }

    // Pause probe: mutator-side gaps.
    if workloads.iter().any(|w| w == "pauseprobe") {
        md.push_str("\n## Pause probe: GC pauses and mutator-side gaps\n\n");
        md.push_str(
            "gap = time between consecutive iterations of the churn loop (each iteration builds a \
             127-node tree), measured by the program itself on every system; it includes GC pauses, \
             assists and sweeping done on the mutator thread. Values: median over runs; \
             the range column is the min–max of the per-run max gap.\n\n",
        );
        md.push_str("| system | max pause µs | p99 pause µs | max gap µs | max gap range µs | p99 gap µs |\n|---|---|---|---|---|---|\n");
        for s in &systems {
            let Some(c) = cells.get(&(s.clone(), "pauseprobe".to_string())) else { continue };
            if c.ok_runs == 0 {
                continue;
            }
            let range = min_max(&c.max_gap).map_or("—".into(), |(a, b)| format!("{a:.0}–{b:.0}"));
            let _ = writeln!(
                md,
                "| {s} | {} | {} | {} | {range} | {} |",
                fmt_us(median(&c.max_pause)),
                fmt_us(median(&c.p99_pause)),
                fmt_us(median(&c.max_gap)),
                fmt_us(median(&c.p99_gap)),
            );
        }
    }

    // Extra RESULT fields (ns/alloc, variants, ...).
    md.push_str("\n## Other reported fields\n\n");
    md.push_str("Numeric fields: median over ok runs. Other fields: the distinct values.\n\n");
    md.push_str("| workload | system | fields |\n|---|---|---|\n");
    for w in &workloads {
        for s in &systems {
            let Some(c) = cells.get(&(s.clone(), w.clone())) else { continue };
            if c.extras.is_empty() {
                continue;
            }
            let mut parts = Vec::new();
            for (k, vs) in &c.extras {
                let nums: Vec<f64> = vs.iter().filter_map(|v| num(v)).collect();
                if nums.len() == vs.len() {
                    let m = median(&nums).unwrap();
                    parts.push(if m.fract() == 0.0 { format!("{k}={m:.0}") } else { format!("{k}={m:.2}") });
                } else {
                    let mut d = vs.clone();
                    d.sort();
                    d.dedup();
                    parts.push(format!("{k}={}", d.join(",")));
                }
            }
            let _ = writeln!(md, "| {w} | {s} | {} |", parts.join(" "));
        }
    }

    // Problems.
    let mut problems = String::new();
    for s in &systems {
        for w in &workloads {
            if let Some(c) = cells.get(&(s.clone(), w.clone())) {
                for p in &c.problems {
                    let _ = writeln!(problems, "- **{s}** / {w}: {p}");
                }
            }
        }
    }
    md.push_str("\n## Not built, failed, skipped\n\n");
    if problems.is_empty() {
        md.push_str("Every requested system built and ran every workload it supports.\n");
    } else {
        md.push_str(&problems);
    }
    md.push_str(
        "\nSystems absent from a workload's rows do not implement it \
         (go-par and c-malloc are binary-trees variants only).\n",
    );

    // Charts.
    let mut charts = Vec::new();
    // Grouped: wall relative to the fastest system per workload.
    let series: Vec<(String, Vec<Bar>)> = systems
        .iter()
        .map(|s| {
            let bars = workloads
                .iter()
                .map(|w| {
                    let best = systems
                        .iter()
                        .filter_map(|t| cells.get(&(t.clone(), w.clone())).and_then(Cell::wall))
                        .fold(f64::INFINITY, f64::min);
                    let c = cells.get(&(s.clone(), w.clone()))?;
                    let m = c.wall()?;
                    let mm = min_max(&c.walls).map(|(a, b)| (a / best, b / best));
                    Some((m / best, mm))
                })
                .collect();
            (s.clone(), bars)
        })
        .filter(|(_, b): &(String, Vec<Bar>)| b.iter().any(Option::is_some))
        .collect();
    let p = dir.join("wall_grouped.svg");
    match grouped_bars(
        &p,
        "Wall time per workload, relative to the fastest system (median, whiskers min–max)",
        "wall / fastest median",
        &workloads,
        &series,
        false,
    ) {
        Ok(()) => charts.push(("Wall time per workload (relative)", p)),
        Err(e) => eprintln!("report: {}: {e}", p.display()),
    }
    for w in &workloads {
        let series: Vec<(String, Vec<Bar>)> = systems
            .iter()
            .filter_map(|s| {
                let c = cells.get(&(s.clone(), w.clone()))?;
                let m = c.wall()?;
                Some((s.clone(), vec![Some((m, min_max(&c.walls)))]))
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let p = dir.join(format!("wall_{w}.svg"));
        match grouped_bars(&p, &format!("{w}: wall time (median, whiskers min–max)"), "seconds", &[w.clone()], &series, false) {
            Ok(()) => charts.push(("Wall time", p)),
            Err(e) => eprintln!("report: {}: {e}", p.display()),
        }
    }
    // Pauses: pause probe, per system, four measures, log scale.
    let measures = ["max pause", "p99 pause", "max gap", "p99 gap"];
    let pp: Vec<&String> = systems
        .iter()
        .filter(|s| cells.get(&((*s).clone(), "pauseprobe".into())).is_some_and(|c| c.ok_runs > 0))
        .collect();
    if !pp.is_empty() {
        let groups: Vec<String> = pp.iter().map(|s| (*s).clone()).collect();
        let series: Vec<(String, Vec<Bar>)> = measures
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let bars = pp
                    .iter()
                    .map(|s| {
                        let c = &cells[&((*s).clone(), "pauseprobe".to_string())];
                        let v = match mi {
                            0 => &c.max_pause,
                            1 => &c.p99_pause,
                            2 => &c.max_gap,
                            _ => &c.p99_gap,
                        };
                        median(v).map(|x| (x, min_max(v)))
                    })
                    .collect();
                (m.to_string(), bars)
            })
            .collect();
        let p = dir.join("pauses.svg");
        match grouped_bars(
            &p,
            "Pause probe: GC pauses (system-reported) and mutator gaps, µs (log scale; whiskers min–max over runs)",
            "microseconds (log)",
            &groups,
            &series,
            true,
        ) {
            Ok(()) => charts.push(("Pause probe", p)),
            Err(e) => eprintln!("report: {}: {e}", p.display()),
        }
    }
    md.push_str("\n## Charts\n\n");
    for (t, p) in &charts {
        let name = p.file_name().unwrap().to_string_lossy();
        let _ = writeln!(md, "- {t}: [{name}]({name})");
    }
    let out = dir.join("report.md");
    std::fs::write(&out, md).expect("write report.md");
    println!("wrote {} and {} charts", out.display(), charts.len());
}
