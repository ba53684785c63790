//! Work spread over every core, for the readers.

/// The stack of every thread that reads migrations: enough for the deepest
/// file the readers accept (see `python::strict::grammar::MAX_DEPTH`).
pub const READER_STACK: usize = 256 << 20;

/// Maps `f` over `items` on every core, keeping the order. Threads take
/// small batches as they go, so that one slow thread does not hold the rest.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 32;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / BATCH + 1);
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut batches: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(READER_STACK)
                    .spawn_scoped(s, || {
                        let mut done = Vec::new();
                        loop {
                            let start = next.fetch_add(BATCH, Ordering::Relaxed);
                            if start >= items.len() {
                                return done;
                            }
                            let end = (start + BATCH).min(items.len());
                            done.push((
                                start,
                                items[start..end].iter().map(&f).collect::<Vec<_>>(),
                            ));
                        }
                    })
                    .expect("a reader thread can be spawned")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a reader thread panicked"))
            .collect()
    });
    batches.sort_unstable_by_key(|(start, _)| *start);
    batches.into_iter().flat_map(|(_, r)| r).collect()
}
