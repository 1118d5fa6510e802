//! tabmux-core: every decision about a browser's shared WebSocket, with no I/O.
//!
//! The engine never touches a socket, a clock or a random source by itself. A shell (the
//! SharedWorker, or the in-page fallback) feeds it events with the current time and
//! carries out the [`Action`]s it returns; tests drive it with a virtual clock.


extern crate alloc;

pub mod ack_hold;
pub mod backlog;
pub mod backoff;
pub mod breaker;
pub mod close_policy;
pub mod close_presets;
pub mod engine;
pub mod action;
pub mod away;
pub mod worker_life;
pub mod ids;
pub mod time;
mod dedup;
mod endpoint;
mod flat_json;
mod network;
pub mod request_budget;
mod replay;
mod send_queue;
mod sequence;
mod timers;
mod topics;
pub mod error;
pub mod fields;
pub mod heartbeat;
pub mod integrity;
pub mod leader;
pub mod log;
pub mod options;
pub mod options_reader;
pub mod protocol;
pub mod redact;
pub mod retry_hint;
mod retry_plan;
pub mod rng;
pub mod server_ping;
pub mod sorted_map;
pub mod text;
pub mod status;
pub mod token;
pub mod token_ask;
pub mod window;

pub use backlog::Backlog;
pub use backoff::{BackoffOptions, Jitter, DEFAULT_INITIAL_MS};
pub use close_policy::{CloseAction, CloseRule, CloseTable};
pub use rng::Rng;
pub use fields::FieldValue;
pub use log::LogEvent;
pub use server_ping::{FrameProbe, PingMatch, ServerPingOptions};
pub use sorted_map::SortedMap;
pub use breaker::{BreakerOptions, BreakerState};
pub use action::{Action, Delivery, FrameMeta, SendOutcome};
pub use engine::{Engine, CONNECT_TIMEOUT_CODE, RESUME_GATHER_MS, RESUME_WINDOW_MS};
pub use ids::{ClientId, EndpointId, SocketId};
pub use time::{Clock, Ms};
pub use integrity::{DedupOptions, Pointers, QueueOptions, ReplayOptions, SequenceOptions, TopicOptions};
pub use heartbeat::{HeartbeatOptions, PongMatch, Quality, HEARTBEAT_TIMEOUT_CODE};
pub use token::TokenOptions;
pub use error::{EngineError, Error, ErrorCode, ProtocolError, WorkerError};
pub use options::{check_mixed_content, Mode, Options, DEFAULT_IDLE_CLOSE_MS};
pub use options_reader::{read_options, Kind, Source};
pub use protocol::{DEV_BUILD, PROTOCOL_VERSION, WORKER_NAME};
pub use status::{CloseInfo, Counters, Health, Percentiles, RetryReason, State, Stats, Status};
