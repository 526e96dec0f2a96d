//! Minimum mutator utilisation (Go: `internal/trace`'s MMU, the curve
//! `go tool trace` draws): for a window length `w`, the smallest fraction
//! of any window of length `w` inside the run that the collector's stops
//! left to the mutators.
//!
//! Invariants: pauses are treated as intervals that stop every mutator (this
//! collector's stops are stop-the-world); overlapping or unsorted input is
//! merged first; the result is exact, not sampled: the worst window either
//! starts where a pause starts or ends where one ends (moving a window that
//! does neither changes its paused time linearly, so an end point of the
//! move is at least as bad), and every such window is evaluated.

/// The minimum mutator utilisation, in `[0, 1]`, of windows of length
/// `window` inside `[start, end]`, given the stops as `(start, end)` pairs
/// (any unit, the same for all arguments). A window longer than the run is
/// the whole run.
///
/// ```
/// use gc_core::exectrace::mmu;
/// // One 1 ms pause in a 10 ms run: a 2 ms window holding it is half paused.
/// let u = mmu(&[(4.0, 5.0)], (0.0, 10.0), 2.0);
/// assert!((u - 0.5).abs() < 1e-12);
/// ```
pub fn mmu(pauses: &[(f64, f64)], (start, end): (f64, f64), window: f64) -> f64 {
    let span = end - start;
    // NaN or infinite bounds describe no run.
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let w = window.min(span).max(f64::MIN_POSITIVE);
    let merged = merge(pauses, start, end);
    if merged.is_empty() {
        return 1.0;
    }
    // prefix[i]: paused time of merged[..i].
    let mut prefix = Vec::with_capacity(merged.len() + 1);
    prefix.push(0.0);
    for &(a, b) in &merged {
        prefix.push(prefix.last().unwrap() + (b - a));
    }
    // Paused time in [0, t] (t inside the run).
    let paused_until = |t: f64| -> f64 {
        let i = merged.partition_point(|&(a, _)| a <= t);
        if i == 0 {
            return 0.0;
        }
        let (a, b) = merged[i - 1];
        prefix[i - 1] + (t.min(b) - a).max(0.0)
    };
    let mut worst: f64 = 0.0;
    // `end - w` may round below `start` when the window is the whole run.
    let last_start = (end - w).max(start);
    let mut consider = |s: f64| {
        let s = s.clamp(start, last_start);
        worst = worst.max(paused_until(s + w) - paused_until(s));
    };
    for &(a, b) in &merged {
        consider(a);
        consider(b - w);
    }
    (1.0 - worst / w).clamp(0.0, 1.0)
}

/// The pauses clipped to `[start, end]`, sorted and merged.
fn merge(pauses: &[(f64, f64)], start: f64, end: f64) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> =
        pauses.iter().map(|&(a, b)| (a.max(start), b.min(end))).filter(|&(a, b)| b > a).collect();
    v.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mmu;

    /// Brute force over a fine grid of window positions.
    fn brute(pauses: &[(f64, f64)], span: (f64, f64), w: f64) -> f64 {
        let steps = 20_000;
        let mut worst: f64 = 0.0;
        for k in 0..=steps {
            let s = span.0 + (span.1 - span.0 - w) * k as f64 / steps as f64;
            let p: f64 = pauses.iter().map(|&(a, b)| (b.min(s + w) - a.max(s)).max(0.0)).sum();
            worst = worst.max(p);
        }
        1.0 - worst / w
    }

    #[test]
    fn known_pauses() {
        // Two 1-unit pauses 3 units apart in [0, 20].
        let p = [(5.0, 6.0), (9.0, 10.0)];
        assert_eq!(mmu(&p, (0.0, 20.0), 1.0), 0.0);
        assert!((mmu(&p, (0.0, 20.0), 2.0) - 0.5).abs() < 1e-12);
        // A 5-unit window can hold both: 2 of 5 paused.
        assert!((mmu(&p, (0.0, 20.0), 5.0) - 0.6).abs() < 1e-12);
        // The whole run: 2 of 20.
        assert!((mmu(&p, (0.0, 20.0), 20.0) - 0.9).abs() < 1e-12);
        assert!((mmu(&p, (0.0, 20.0), 100.0) - 0.9).abs() < 1e-12);
        assert_eq!(mmu(&[], (0.0, 20.0), 1.0), 1.0);
        // A window as long as a run that starts off zero (rounding of
        // `end - w` below `start` used to make `clamp` panic).
        let u = mmu(&[(126.5, 127.0)], (126.198, 165.337), 1e6);
        assert!((u - (1.0 - 0.5 / (165.337 - 126.198))).abs() < 1e-9, "{u}");
        // Overlapping input merges.
        assert!((mmu(&[(5.0, 6.0), (5.5, 6.0)], (0.0, 20.0), 2.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn matches_brute_force() {
        let mut x = 12345u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1000) as f64 / 10.0
        };
        for _ in 0..30 {
            let mut p: Vec<(f64, f64)> = (0..6)
                .map(|_| {
                    let a = rnd();
                    (a, a + rnd() / 20.0)
                })
                .collect();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            let w = 1.0 + rnd() / 5.0;
            let exact = mmu(&p, (0.0, 110.0), w);
            let approx = brute(&super::merge(&p, 0.0, 110.0), (0.0, 110.0), w);
            assert!(exact <= approx + 1e-9, "exact {exact} above a sampled window {approx}");
            assert!(approx - exact < 1e-3 * 110.0 / w, "exact {exact}, brute {approx}");
        }
    }
}
