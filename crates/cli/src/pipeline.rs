//! Ordered parallel map: items from one producer are processed on worker threads and handed to the consumer in
//! input order. At most `window` items are in flight (queued, being processed or waiting for an earlier one), so
//! memory stays bounded however long the input is.

use std::collections::BTreeMap;

use crossbeam_channel::bounded;

/// Runs `work` over `items` on `threads` threads and calls `sink` with the results in input order.
/// `sink` returns `false` to stop early (e.g. the output pipe closed).
pub fn ordered_map<I, O, W, S>(
    items: impl Iterator<Item = I> + Send,
    threads: usize,
    work: W,
    mut sink: S,
) where
    I: Send,
    O: Send,
    W: Fn(I) -> O + Sync,
    S: FnMut(O) -> bool,
{
    let threads = threads.max(1);
    let window = threads * 4 + 16;
    let (job_tx, job_rx) = bounded::<(u64, I)>(threads * 2);
    let (done_tx, done_rx) = bounded::<(u64, O)>(window);
    // One token per item in flight; the producer takes one before dispatching, the consumer returns it.
    let (token_tx, token_rx) = bounded::<()>(window);
    for _ in 0..window {
        let _ = token_tx.send(());
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (seq, item) in (0u64..).zip(items) {
                if token_rx.recv().is_err() || job_tx.send((seq, item)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let work = &work;
            scope.spawn(move || {
                for (seq, item) in job_rx {
                    if done_tx.send((seq, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        'outer: for (seq, out) in &done_rx {
            pending.insert(seq, out);
            while let Some(out) = pending.remove(&next) {
                next += 1;
                if !sink(out) {
                    break 'outer;
                }
                let _ = token_tx.send(());
            }
        }
        // Stop the producer and workers if the sink gave up early.
        drop(token_tx);
        drop(done_rx);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_stops_early() {
        let mut seen = Vec::new();
        ordered_map(
            0..1000u32,
            4,
            |x| x * 2,
            |y| {
                seen.push(y);
                true
            },
        );
        assert_eq!(seen, (0..1000).map(|x| x * 2).collect::<Vec<_>>());
        let mut count = 0;
        ordered_map(
            0..1_000_000u32,
            2,
            |x| x,
            |_| {
                count += 1;
                count < 10
            },
        );
        assert_eq!(count, 10);
    }
}
