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

/// The most endpoints (URLs with their subprotocols) one engine holds; past it a hello for a
/// new URL is refused with `too-many-endpoints`, after closing an endpoint kept without
/// clients (`idleCloseMs`) if there is one.
pub const MAX_ENDPOINTS: usize = 64;

/// How long a port may stay connected to the worker without a valid hello: then it is closed
/// and forgotten.
pub const HELLO_TIMEOUT_MS: u32 = 10_000;

/// The most ports the worker holds that have not said a valid hello yet; a port past it is
/// answered `too-many-ports` and closed. As many as clients: a worker replacement, where
/// every tab connects at once, never reaches it.
pub const MAX_PENDING_PORTS: usize = MAX_CLIENTS;
