//! Connections being closed on tasks of their own, so that closing the pool can wait for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Closing {
    in_flight: AtomicUsize,
    none_left: Notify,
}

/// One close in flight; dropped when it finished.
#[derive(Debug)]
pub struct Done(Arc<Closing>);

impl Closing {
    pub fn start(self: &Arc<Self>) -> Done {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Done(self.clone())
    }

    /// Returns once no close is in flight.
    pub async fn wait(&self) {
        loop {
            // Registered before the check: a close finishing in between still wakes it.
            let woken = self.none_left.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            woken.await;
        }
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.none_left.notify_waiters();
        }
    }
}
