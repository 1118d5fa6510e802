//! The ids the engine hands out: clients, sockets and endpoints.

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
    };
}
id_type!(
    /// One attached client (a port in the worker, a `connect()` in direct mode).
    ClientId
);
id_type!(
    /// One WebSocket the shell created on the engine's request.
    SocketId
);
id_type!(
    /// One endpoint URL with its socket and its clients.
    EndpointId
);
