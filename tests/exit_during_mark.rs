//! Row 30 of docs/pointer-model.md: threads that exit while cycles mark.
//!
//! Each short-lived thread builds a chain of nodes and keeps handles to some
//! of them; it publishes the head in a shared slot (a barrier write while
//! marking is on), hands a few handles to the main thread, and exits. At exit
//! its root table passes to the fallback table, and its barrier buffer and
//! work cache are flushed. A third thread forces cycles all along, with the
//! checkmark verifier on. Every chain must stay intact, and every handle the
//! main thread received must stay alive, checked by payload and by an
//! outside-the-heap life record that the drop glue writes.
//!
//! Env: `TRICOLOR_EXIT_THREADS` (short-lived threads, default 300).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use tricolor_gc::{Gc, Member, Trace};

const MAX: usize = 1 << 20;
const CHAIN: usize = 200;

fn states() -> &'static [AtomicU8] {
    static S: OnceLock<Vec<AtomicU8>> = OnceLock::new();
    S.get_or_init(|| (0..MAX).map(|_| AtomicU8::new(0)).collect())
}
static NEXT: AtomicUsize = AtomicUsize::new(1);

#[derive(Trace)]
#[trace(no_pointers)]
struct Tag {
    id: usize,
}

impl Drop for Tag {
    fn drop(&mut self) {
        states()[self.id].store(2, Ordering::Release);
    }
}

#[derive(Trace)]
struct Node {
    tag: Tag,
    next: Member<Node>,
}

fn node(next: Option<&Gc<Node>>) -> Gc<Node> {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(id < MAX, "raise MAX");
    states()[id].store(1, Ordering::Release);
    Gc::new(Node { tag: Tag { id }, next: Member::from_opt(next) })
}

fn alive(n: &Node) {
    assert_eq!(states()[n.tag.id].load(Ordering::Acquire), 1, "node {} reachable but dropped", n.tag.id);
}

fn chain_len(head: &Gc<Node>) -> usize {
    let mut len = 0;
    let mut cur = Some(head.clone());
    while let Some(n) = cur {
        alive(&n);
        len += 1;
        cur = n.next.get();
    }
    len
}

#[test]
fn threads_exit_while_cycles_mark_and_lose_nothing() {
    std::env::set_var("GODEBUG", "gccheckmark=1");
    let threads: usize = std::env::var("TRICOLOR_EXIT_THREADS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let slots: Arc<Gc<[Member<Node>]>> = Arc::new((0..64).map(|_| Member::null()).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Acquire) {
                tricolor_gc::collect();
                n += 1;
            }
            n
        })
    };
    let (tx, rx) = mpsc::channel::<Gc<Node>>();
    let mut kept = Vec::new();
    for t in 0..threads {
        let slots = slots.clone();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut head = node(None);
            let mut handles = Vec::new();
            for i in 1..CHAIN {
                head = node(Some(&head));
                if i % 50 == 0 {
                    handles.push(head.clone());
                }
            }
            slots[t % 64].set(&head);
            for h in handles {
                tx.send(h).unwrap();
            }
            // Exit: the handles were moved out and `head` drops here, so the
            // chain is reachable only through the slot written above; this
            // thread's barrier buffer may still hold that write, and its root
            // segments pass to the fallback table.
        })
        .join()
        .expect("a short-lived thread failed");
        while let Ok(h) = rx.try_recv() {
            kept.push(h);
        }
    }
    stop.store(true, Ordering::Release);
    let cycles = collector.join().unwrap();
    for s in slots.iter() {
        if let Some(h) = s.get() {
            assert_eq!(chain_len(&h), CHAIN, "a published chain lost nodes");
        }
    }
    for h in &kept {
        alive(h);
        assert!(chain_len(h) >= 1);
    }
    assert_eq!(kept.len(), threads * ((CHAIN - 1) / 50));
    assert!(cycles >= 10, "only {cycles} cycles ran while threads came and went");
    eprintln!("exit_during_mark: {threads} threads exited beside {cycles} cycles");
}
