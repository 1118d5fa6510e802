//! Every timer of the worker (and of direct mode) through one function: gloo's `Timeout::new`
//! is generic over its callback, and each callback type brings its own copy of the closure
//! glue; a boxed callback has one type, so there is one copy.

use gloo_timers::callback::Timeout;

/// Calls `f` once after `ms` (a delay `setTimeout` takes: below 2^31), unless the returned
/// guard is dropped first.
#[inline(never)]
pub fn after(ms: u32, f: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(ms, f)
}
