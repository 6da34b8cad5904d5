//! An ordered parallel map: the per-series work of a selection (decoding its samples and
//! applying a range function or a selector's step walk) runs on worker threads, and the results
//! are handed to one consumer on the calling thread in the series' original order.
//!
//! Keeping the consumer single-threaded and in order is what keeps answers bit-identical to a
//! serial evaluation: aggregations fold series in the same order, duplicate-labelset checks see
//! them in the same order, and the first error in series order is the one returned. Workers
//! claim batches of consecutive series (consecutive series share a block's compressed group)
//! and may run at most [`WINDOW_PER_WORKER`] batches per worker ahead of the consumer, which
//! bounds the results held: they are not counted against the query's `max_samples` until
//! consumed, but each series is checked against it on its own and at most
//! `workers × WINDOW_PER_WORKER × MAX_BATCH` series' results wait at once. The consumer
//! stopping for any reason (an error, a limit, its own timeout) stops the workers at their
//! next series.

use crate::Error;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Batches a worker may complete ahead of the consumer.
const WINDOW_PER_WORKER: usize = 4;
/// Series per batch, at most: small enough to share work evenly, large enough that the
/// hand-over (a lock and a wake-up) is negligible next to decoding the series.
const MAX_BATCH: usize = 256;
/// Series per batch, at least.
const MIN_BATCH: usize = 8;

/// Results of finished batches, by batch number, and the consumer's progress.
struct State<T> {
    ready: HashMap<usize, Vec<Result<T, Error>>>,
    /// Batches the consumer has taken.
    taken: usize,
    /// A worker panicked: its batch will never arrive.
    worker_died: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    /// Set when the consumer is done (finished or failed): workers stop.
    stop: AtomicBool,
    next_batch: AtomicUsize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A poisoned lock means a worker panicked; `worker_died` reports that.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        self.changed.wait(g).unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops the workers when the consumer returns, however it returns.
struct StopOnDrop<'a, T>(&'a Shared<T>);

impl<T> Drop for StopOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
        let _g = self.0.lock();
        self.0.changed.notify_all();
    }
}

/// Tells the consumer a worker died, so it does not wait for its batch forever.
struct ReportPanic<'a, T>(&'a Shared<T>);

impl<T> Drop for ReportPanic<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().worker_died = true;
            self.0.changed.notify_all();
        }
    }
}

/// Computes `work(i)` for `i` in `0..n` on `workers` threads and calls `consume(i, result)` on
/// the calling thread in ascending `i`. Stops at the first error in index order (from `work` or
/// `consume`) and returns it, as a serial loop would.
pub(crate) fn ordered_map<T: Send>(
    n: usize,
    workers: usize,
    work: impl Fn(usize) -> Result<T, Error> + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), Error>,
) -> Result<(), Error> {
    let workers = workers.max(1);
    let batch = (n / (workers * 16)).clamp(MIN_BATCH, MAX_BATCH);
    let batches = n.div_ceil(batch);
    let window = workers * WINDOW_PER_WORKER;
    let shared = Shared {
        state: Mutex::new(State {
            ready: HashMap::new(),
            taken: 0,
            worker_died: false,
        }),
        changed: Condvar::new(),
        stop: AtomicBool::new(false),
        next_batch: AtomicUsize::new(0),
    };
    let work = &work;
    let shared = &shared;
    std::thread::scope(|scope| {
        for _ in 0..workers.min(batches) {
            scope.spawn(move || {
                let _report = ReportPanic(shared);
                loop {
                    let b = shared.next_batch.fetch_add(1, Ordering::Relaxed);
                    if b >= batches {
                        return;
                    }
                    {
                        let mut g = shared.lock();
                        while b >= g.taken + window && !shared.stop.load(Ordering::Relaxed) {
                            g = shared.wait(g);
                        }
                    }
                    let lo = b * batch;
                    let hi = (lo + batch).min(n);
                    let mut out = Vec::with_capacity(hi - lo);
                    for i in lo..hi {
                        if shared.stop.load(Ordering::Relaxed) {
                            return;
                        }
                        // A panic becomes this series' error, so the query fails with an
                        // answer instead of the scope re-raising it on the calling thread.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(i)))
                            .unwrap_or_else(|_| {
                                Err(Error::Execution(format!(
                                    "internal error evaluating series {i}: a query worker panicked"
                                )))
                            });
                        let failed = r.is_err();
                        out.push(r);
                        if failed {
                            break;
                        }
                    }
                    shared.lock().ready.insert(b, out);
                    shared.changed.notify_all();
                }
            });
        }
        let _stop = StopOnDrop(shared);
        for b in 0..batches {
            let results = {
                let mut g = shared.lock();
                let results = loop {
                    if let Some(r) = g.ready.remove(&b) {
                        break r;
                    }
                    if g.worker_died {
                        return Err(Error::Execution("a query worker thread failed".into()));
                    }
                    g = shared.wait(g);
                };
                g.taken = b + 1;
                shared.changed.notify_all();
                results
            };
            for (k, r) in results.into_iter().enumerate() {
                consume(b * batch + k, r?)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order() {
        for workers in 1..=4 {
            for n in [0usize, 1, 7, 8, 9, 100, 1000, 5000] {
                let mut got = Vec::new();
                ordered_map(
                    n,
                    workers,
                    |i| Ok(i * 3),
                    |i, v| {
                        assert_eq!(v, i * 3);
                        got.push(i);
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(got, (0..n).collect::<Vec<_>>(), "n {n} workers {workers}");
            }
        }
    }

    #[test]
    fn the_first_error_in_order_wins() {
        let mut seen = 0usize;
        let err = ordered_map(
            3000,
            3,
            |i| {
                if i == 1234 || i == 2500 {
                    Err(Error::Execution(format!("bad {i}")))
                } else {
                    Ok(i)
                }
            },
            |i, _| {
                seen = i + 1;
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            Error::Execution("bad 1234".into()).to_string()
        );
        assert_eq!(seen, 1234);
    }

    #[test]
    fn a_consumer_error_stops_everything() {
        let calls = AtomicUsize::new(0);
        let err = ordered_map(
            100_000,
            2,
            |i| {
                calls.fetch_add(1, Ordering::Relaxed);
                Ok(i)
            },
            |i, _| {
                if i == 10 {
                    Err(Error::Execution("enough".into()))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::Execution(m) if m == "enough"));
        // Workers stop within their window: far from all 100k series were computed.
        assert!(calls.load(Ordering::Relaxed) < 50_000);
    }

    #[test]
    fn a_panicking_series_fails_the_query_without_a_panic() {
        let mut consumed = 0usize;
        let err = ordered_map(
            2000,
            2,
            |i| {
                if i == 700 {
                    panic!("bug in a range function");
                }
                Ok(i)
            },
            |_, _| {
                consumed += 1;
                Ok(())
            },
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Execution(m) if m.contains("series 700") && m.contains("panicked")),
            "{err:?}"
        );
        assert_eq!(
            consumed, 700,
            "every series before the failing one is consumed"
        );
    }
}
