//! Proptest: a sequence of non-blocking operations on a buffered channel
//! against a `VecDeque` model (single-threaded, so every result is
//! determined).

use gc_runtime::chan::{channel, TryRecvError, TrySendError};
use proptest::prelude::*;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
enum Op {
    TrySend(u32),
    TryRecv,
    Send(u32),
    Recv,
    Close,
    Len,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u32>().prop_map(Op::TrySend),
        4 => Just(Op::TryRecv),
        2 => any::<u32>().prop_map(Op::Send),
        2 => Just(Op::Recv),
        1 => Just(Op::Close),
        1 => Just(Op::Len),
    ]
}

proptest! {
    #[test]
    fn buffered_channel_matches_a_vecdeque(cap in 0usize..6, ops in proptest::collection::vec(op(), 0..200)) {
        let (tx, rx) = channel::<u32>(cap);
        let mut model: VecDeque<u32> = VecDeque::new();
        let mut closed = false;
        for op in ops {
            match op {
                Op::TrySend(v) => {
                    let want = if closed {
                        Err(TrySendError::Closed(v))
                    } else if model.len() < cap {
                        model.push_back(v);
                        Ok(())
                    } else {
                        Err(TrySendError::Full(v))
                    };
                    prop_assert_eq!(tx.try_send(v), want);
                }
                Op::TryRecv => {
                    let want = match model.pop_front() {
                        Some(v) => Ok(v),
                        None if closed => Err(TryRecvError::Closed),
                        None => Err(TryRecvError::Empty),
                    };
                    prop_assert_eq!(rx.try_recv(), want);
                }
                // Blocking ops only where they cannot block.
                Op::Send(v) => {
                    if !closed && model.len() < cap {
                        tx.send(v);
                        model.push_back(v);
                    }
                }
                Op::Recv => {
                    if closed || !model.is_empty() {
                        prop_assert_eq!(rx.recv(), model.pop_front());
                    }
                }
                Op::Close => {
                    if !closed {
                        tx.close();
                        closed = true;
                    }
                }
                Op::Len => {
                    prop_assert_eq!(rx.len(), model.len());
                    prop_assert_eq!(tx.cap(), cap);
                    prop_assert_eq!(rx.is_closed(), closed);
                }
            }
        }
    }
}
