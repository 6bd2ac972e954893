//! Threads beside a test body: clients, proposers, a partitioner.
//!
//! 6.824's tests start goroutines and tell them to stop through a flag.
//! Written with `std::thread::scope` directly, a test body that returns
//! early through `?` leaves its threads running and the scope waits for
//! them forever. [`beside`] makes the flag part of the scope: whenever the
//! body returns — at its end, through `?`, or by panicking — the threads
//! are told to stop, joined, and every result comes back in spawn order.
//!
//! ```no_run
//! # use harness::threads::beside;
//! # use std::time::Duration;
//! let (body, counts) = beside(|threads| {
//!     for me in 0..3 {
//!         threads.spawn(move |stop| {
//!             let mut n = 0;
//!             while !stop.is_set() {
//!                 n += 1; // one client operation
//!                 std::thread::sleep(Duration::from_millis(10));
//!             }
//!             (me, n)
//!         });
//!     }
//!     std::thread::sleep(Duration::from_millis(100));
//!     "done"
//! });
//! assert_eq!(body, "done");
//! assert_eq!(counts.len(), 3);
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

/// The flag that tells threads run by [`beside`] to finish.
#[derive(Debug, Default)]
pub struct Stop(AtomicBool);

impl Stop {
    /// Whether the threads should finish now.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Tells the threads to finish (the body may do so before it returns,
    /// e.g. to crash servers while the clients finish their last operation).
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The threads of one [`beside`] call.
pub struct Threads<'scope, 'env, T> {
    scope: &'scope Scope<'scope, 'env>,
    stop: Arc<Stop>,
    handles: Mutex<Vec<ScopedJoinHandle<'scope, T>>>,
}

impl<'scope, T: Send + 'scope> Threads<'scope, '_, T> {
    /// Starts `f` on a thread of its own; it should return soon after its
    /// [`Stop`] is set.
    pub fn spawn<F>(&self, f: F)
    where
        F: FnOnce(&Stop) -> T + Send + 'scope,
    {
        let stop = self.stop.clone();
        let handle = self.scope.spawn(move || f(&stop));
        self.handles.lock().expect("threads lock").push(handle);
    }

    /// Tells every thread to finish; [`beside`] still joins them when the
    /// body returns.
    pub fn stop(&self) {
        self.stop.set();
    }

    /// The flag the threads watch.
    pub fn stop_flag(&self) -> &Stop {
        &self.stop
    }
}

/// Sets the flag when the body is left, however it is left.
struct StopOnDrop<'a>(&'a Stop);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Runs `body`, which may start threads; when it returns, tells them to
/// stop and joins them. Returns the body's result and every thread's, in
/// the order they were started. A thread's panic is raised again here.
pub fn beside<'env, T, R, F>(body: F) -> (R, Vec<T>)
where
    T: Send,
    F: for<'scope> FnOnce(&Threads<'scope, 'env, T>) -> R,
{
    let stop = Arc::new(Stop::default());
    std::thread::scope(|scope| {
        let threads = Threads { scope, stop: stop.clone(), handles: Mutex::default() };
        let result = {
            let _guard = StopOnDrop(&stop);
            body(&threads)
        };
        let handles = threads.handles.into_inner().expect("threads lock");
        let results = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect();
        (result, results)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_early_return_stops_and_joins_every_thread() {
        fn body(threads: &Threads<'_, '_, u32>) -> Result<(), String> {
            for i in 0..4 {
                threads.spawn(move |stop| {
                    while !stop.is_set() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    i
                });
            }
            Err::<(), String>("a check failed".into())?;
            unreachable!("the ? returns")
        }
        let (result, joined) = beside(body);
        assert_eq!(result, Err("a check failed".to_string()));
        assert_eq!(joined, vec![0, 1, 2, 3]);
    }

    #[test]
    fn results_come_back_in_spawn_order_and_the_body_can_stop_early() {
        let (n, joined) = beside(|threads| {
            for i in 0..3u64 {
                threads.spawn(move |_| {
                    std::thread::sleep(Duration::from_millis(30 - 10 * i));
                    i * 10
                });
            }
            threads.stop();
            assert!(threads.stop_flag().is_set());
            7
        });
        assert_eq!((n, joined), (7, vec![0, 10, 20]));
    }

    #[test]
    #[should_panic(expected = "client failed")]
    fn a_thread_panic_is_raised_again() {
        let _ = beside(|threads: &Threads<'_, '_, ()>| threads.spawn(|_| panic!("client failed")));
    }
}
