// To append to gc-runtime/src/api.rs once the chan branch is merged (and
// add `after` to the `pub use api::{...}` line of lib.rs). Not compiled
// until then: cargo builds only tests/*.rs and tests/*/main.rs.

/// A channel that receives the current time once, `d` from now (Go:
/// `time.After`): a one-shot timer on the current P's heap (outside a
/// runtime, the timer thread) whose callback does a non-blocking send into
/// a buffer of one.
pub fn after(d: Duration) -> crate::chan::Receiver<Instant> {
    let (tx, rx) = crate::chan::channel(1);
    let when = Instant::now().checked_add(d).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 40));
    drop(park::add_timer(
        when,
        Box::new(move || {
            let _ = tx.try_send(Instant::now());
        }),
    ));
    rx
}
