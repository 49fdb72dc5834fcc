//! SIGTERM and SIGINT: blocked in every thread but one, which waits for them, sets the
//! agent's shutdown flag and wakes the loop through the listener's waker (the loop then saves
//! its state and ends).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{SigSet, Signal};

use crate::cr;

/// Blocks SIGTERM and SIGINT in this thread and in every thread started after it, so only the
/// waiting thread of [`watch_signals`] sees them. Call before anything spawns threads.
pub fn block_signals() -> Result<SigSet, std::io::Error> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block()?;
    Ok(set)
}

/// Starts the thread that waits for the blocked signals, sets the flag and wakes the loop.
pub fn watch_signals(set: SigSet, flag: Arc<AtomicBool>, waker: cr::Waker) {
    std::thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            log::info!("agent: {sig} received");
        }
        flag.store(true, Ordering::SeqCst);
        waker.wake();
    });
}
