//! The page ⇄ worker protocol's constants. The messages themselves are defined once, in
//! `tabmux_web::protocol` (they carry JS values, which this crate never touches).

/// The protocol version. A tab and a worker of different versions never share a worker:
/// the SharedWorker's name carries it, and the hello repeats it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The start of the name every tab gives the SharedWorker (`new SharedWorker(url, { name })`):
/// the page adds `-` and its build id, so tabs of two releases never share a worker.
pub const WORKER_NAME: &str = "tabmux-v1";

/// The build id of files not built by scripts/build.mjs (tests of the crates themselves).
pub const DEV_BUILD: &str = "dev";

/// The most clients (ports) one worker serves at once.
pub const MAX_CLIENTS: usize = 1024;
