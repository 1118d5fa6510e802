//! The page ⇄ worker protocol's constants. The messages themselves are defined once, in
//! `tabmux_web::protocol` (they carry JS values, which this crate never touches).

/// The protocol version. A tab and a worker of different versions never share a worker:
/// the SharedWorker's name carries it, and the hello repeats it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The name every tab gives the SharedWorker (`new SharedWorker(url, { name })`).
pub const WORKER_NAME: &str = "tabmux-v1";

/// The most clients (ports) one worker serves at once.
pub const MAX_CLIENTS: usize = 1024;
