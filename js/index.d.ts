// Types for the tabmux client. Defaults are those of crates/core (options.rs, backoff.rs).

/** Reconnect delays (all in ms). */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 7500 (the first retry 0–7.5 s after a loss, each later one 7.5 s after the one before). */
  initialMs?: number;
  /** Growth per attempt. Default 1 (none: after breaker.failureThreshold failures the breaker spaces the attempts). */
  factor?: number;
  /** Cap on the delay before jitter. Default 30000. */
  maxMs?: number;
  /** A ratio in [0, 1] (±that share of the delay) or a named mode. Default "full-once" (0…delay on the first retry after a loss, the delay itself after it); "full": 0…delay on every retry. */
  jitter?: number | "full" | "full-once" | "equal" | "decorrelated";
  /** Failed attempts in a row before the state becomes "down". Default: retry for ever. */
  maxAttempts?: number | null;
  /** How long a connection must stay open before the attempt counter resets. Default 5000. */
  minUptimeMs?: number;
}

export type CloseAction = "retry" | "retry-now" | "refresh-token" | "fatal";

/** A server's close-code convention: pusher (4000–4099 fatal, 4100–4199 back off ≥ 1 s, 4200–4299 at once), centrifugo (3500–3999 and 4500–4999 fatal, 3005 refresh-token), graphql-ws (its terminal codes fatal). */
export type CloseCodePreset = "pusher" | "centrifugo" | "graphql-ws";

/** The circuit breaker around connect attempts (one per endpoint for the whole browser). */
export interface BreakerOptions {
  /** Failed attempts in a row that open the breaker. Default 3. */
  failureThreshold?: number;
  /** How long it stays open before one half-open probe. Default 30000. */
  resetTimeoutMs?: number;
}

/** Pings from the worker while open; `false` turns them off. */
export interface HeartbeatOptions {
  /** Default 30000. */
  intervalMs?: number;
  /** No frame at all this long after a ping closes the socket (4000) and reconnects. Default 10000. */
  timeoutMs?: number;
  /** The ping frame. Default '{"type":"ping"}'. */
  ping?: string;
  /** A pong is a text frame (≤ 1024 chars) whose JSON `field` equals `value`. Default type == "pong". */
  pong?: { field: string; value: string };
}

export interface TokenOptions {
  /** The query parameter the token goes in. Default "token". */
  param?: string;
  /** Fetched by the worker (with credentials) before each connect and every pollMs; the trimmed body is the token. */
  url?: string | null;
  /** Default 10000. */
  pollMs?: number;
  /** setToken reports within this long count as one. Default 250. */
  debounceMs?: number;
  /** The token the very first connect carries (e.g. from your auth SDK at start). */
  value?: string | null;
  /**
   * Your auth SDK's token function (Firebase `getIdToken`, Auth0 `getAccessTokenSilently`,
   * MSAL, Supabase…). It stays in the page; the worker asks one tab that has it (the one
   * most recently attached or made visible) before each connect, on a 4401 close and every
   * pollMs, and uses the answer in every tab. Resolving to null or undefined signs out.
   */
  get?: (() => string | null | undefined | Promise<string | null | undefined>) | null;
  /** Never connect without a token: wait for `value`, `get`, `url` or setToken. Implied by `get` and `url`. */
  required?: boolean;
}

/** A JSON pointer (RFC 6901), e.g. "/id" or "/meta/in_reply_to". */
export type Pointer = string;

export interface ConnectOptions {
  /** The endpoint: an absolute ws:// or wss:// URL (wss:// from an https page, but for loopback hosts). Required. */
  url: string;
  /** Where the worker script is served. Default "/shared-websocket-worker.js". */
  workerUrl?: string;
  /** "auto" (default): the SharedWorker where there is one, else a socket in the page; a
   * worker that fails to start (script or wasm does not load, throws, no answer within
   * workerTimeoutMs) also falls back to a socket in the page, and the first "error" listener
   * gets the `worker-failed` reason. "shared": such a failure rejects connect(). */
  mode?: "auto" | "shared" | "direct";
  /** How long a tab waits for the worker's welcome before the worker counts as failed (1 to 600000). Default 10000. */
  workerTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Close code → action, merged over the preset's rows and the built-in table. */
  closeCodes?: Record<number, CloseAction>;
  /** A server's close-code convention, under closeCodes and over the built-in table. Off unless given. */
  closeCodePreset?: CloseCodePreset | null;
  /** A connect attempt not open after this long counts as failed. Default 10000. */
  connectTimeoutMs?: number;
  breaker?: BreakerOptions;
  heartbeat?: HeartbeatOptions | boolean;
  token?: TokenOptions;
  /** Drop text frames whose key was among the last `capacity` keys (default 200). Off unless given. */
  dedup?: { key: Pointer | Pointer[]; capacity?: number };
  /** Drop repeated sequence numbers, emit "gap" on jumps, add resumeParam (default "since") on reconnect. */
  sequence?: { key: Pointer; resumeParam?: string };
  /** Route frames by topic; templates contain {topic}, JSON-escaped on substitution. */
  topics?: { key: Pointer; subscribe: string; unsubscribe: string };
  /** Sends while not open wait here. Defaults: 1000 frames, 1 MiB, 60000 ms. */
  queue?: { maxMessages?: number; maxBytes?: number; ttlMs?: number };
  /** Frames kept per topic for history() (default 0: off) within `bytes` (default 1 MiB). */
  replay?: { frames?: number; bytes?: number };
  /** How long the socket stays open after its last tab leaves. Default 0. */
  idleCloseMs?: number;
  /**
   * This client's `message` listeners and topic handlers get each text frame parsed
   * (JSON.parse in the page, once per frame for all of them). A frame that is not JSON text
   * (binary, or unparseable) reaches no handler: an `error` event with code "bad-json" carries
   * it in `error.frame`. Per client: clients with and without it share one socket. Default false.
   */
  json?: boolean;
  /**
   * Pings the server sends and expects answered: a preset, or how to recognise one (a text
   * frame of at most 1024 characters: its JSON `field` equal to `value`, or exactly this text)
   * and the reply. Answered by the engine once per socket (not per tab), delivered to no tab,
   * counted as liveness (`lastHeartbeatAt`, `stats().serverPings`). Off unless given.
   */
  /**
   * WebSocket subprotocols offered to the server, in order (e.g. "graphql-transport-ws").
   * Part of the endpoint's identity: the same URL with other protocols is another socket.
   * The one the server chose is `status.protocol`.
   */
  protocols?: string | string[];
  /**
   * This client gets the engine's debug log on the console (console.debug). Off by default;
   * off, no log event is made or posted. Per client: it does not change the shared socket.
   */
  debug?: boolean;
  /** Like `debug`, to this function instead of the console (it stays in the page). */
  logger?: (event: LogEvent) => void;
  /**
   * Who the user is (an id of your choice, 1 to 256 bytes). Part of the socket's identity:
   * tabs of two accounts never share a socket. Default: none.
   */
  account?: string | null;
  serverPing?: ServerPingPreset | { match: { field: string; value: string } | string; reply: string } | null;
}

/** One decision of the engine (from the worker, or the page for worker-lost/-replaced). No event carries the token. */
export type LogEvent =
  /** A socket is created; `attempt` failed attempts came before it; the token in `url` is "***". */
  | { event: "connect"; attempt: number; url: string }
  | { event: "open"; protocol: string | null }
  /** `class`: what the close-code table says ("retry", "retry-now", "refresh-token", "fatal"), or "offline". */
  | { event: "close"; code: number; reason: string; class: CloseAction | "offline" }
  /** Retry `attempt` planned `delayMs` after the loss (a hint's wait and the jitter drawn), starting at `at` (later if the breaker holds it); `hint`: the close reason's retry hint as followed ("retry-after=5000", "reconnect-within=30000", " (capped)" at 10 minutes) or why one was ignored ("ignored: …"). */
  | { event: "retry"; attempt: number; delayMs: number; at: number; hint: string | null }
  | { event: "down"; attempt: number }
  | { event: "breaker"; from: Status["breaker"]; to: Status["breaker"] }
  | { event: "token-fetch" }
  | { event: "token-fetched"; ok: boolean; changed: boolean; error: string | null }
  /** Frames dropped since the last such event (at most one a second). */
  | { event: "drops"; duplicates: number; gaps: number }
  | { event: "worker-lost"; reason: string; replaceInMs: number }
  | { event: "worker-replaced"; generation: number }
  | { event: "restored"; generation: number };

/** graphql-ws: {"type":"ping"} → {"type":"pong"}; centrifugo: {} → {}; socket.io: 2 → 3. */
export type ServerPingPreset = "graphql-ws" | "centrifugo" | "socket.io";

export type State = "connecting" | "open" | "reconnecting" | "offline" | "down" | "unauthorized" | "closed";

export interface Status {
  state: State;
  /** Failed attempts in a row. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while one is scheduled. */
  nextRetryAt: number | null;
  /** Why the next attempt is at nextRetryAt: the backoff, the server's retry hint, the close code's own wait (1013), the open breaker, or a new worker gathering its tabs. */
  retryReason: "backoff" | "server-hint" | "close-code" | "breaker" | "resume" | null;
  lastClose: { code: number; reason: string } | null;
  /** The last error that was not a close (a failed token fetch, a refused URL). */
  lastError: string | null;
  breaker: "closed" | "open" | "half-open";
  /** While the breaker is open: when its probe may start (ms since the epoch). */
  breakerRetryAt: number | null;
  /** The last heartbeat round trip, in ms. */
  rttMs: number | null;
  /** unknown, good (< 150 ms), fair (< 500 ms), poor. */
  quality: "unknown" | "good" | "fair" | "poor";
  /** When the last pong (or answered server ping) arrived (ms since the epoch), on this connection or an earlier one. */
  lastHeartbeatAt: number | null;
  /**
   * healthy: open, breaker closed, round trip not poor, no failed attempts pending;
   * warning: connecting, reconnecting, offline, a poor round trip, or open again after failures;
   * critical: down, unauthorized, closed, or the breaker not closed.
   */
  health: "healthy" | "warning" | "critical";
  /** The subprotocol the server chose for the open socket (options.protocols), or null. */
  protocol: string | null;
  online: boolean;
  /** Distinct pages sharing the socket. */
  tabs: number;
  /** Clients sharing the socket (a page may hold several). */
  clients: number;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  count: number;
}

export interface Stats extends Status {
  framesIn: number;
  framesOut: number;
  /** UTF-16 code units for text frames, bytes for binary ones. */
  bytesIn: number;
  bytesOut: number;
  /** Frames × clients delivered. */
  deliveries: number;
  /** Sockets that opened. */
  connects: number;
  /** Sockets created. */
  attempts: number;
  /** Sends refused. */
  errors: number;
  pings: number;
  pongs: number;
  tokenFetches: number;
  tokenReconnects: number;
  /** Attempts after the first. */
  reconnects: number;
  /** Close code → count over the last 100 closes. */
  closeCodes: Record<string, number>;
  /** Connection durations (ms) over the last 50 connections. */
  durations: Percentiles;
  /** Heartbeat round trips (ms) over the last 50 pongs. */
  rtt: Percentiles;
  /** Frames dropped as repeats (sequence or dedup key). */
  duplicates: number;
  gaps: number;
  topicFrames: number;
  subscribes: number;
  unsubscribes: number;
  queued: number;
  /** Server pings answered (options.serverPing). */
  serverPings: number;
  /** Retry hints read from close reasons and followed. */
  serverHints: number;
  queueMessages: number;
  queueBytes: number;
  replayFrames: number;
  replayBytes: number;
  topics: number;
  dedupKeys: number;
  lastSeq: number | null;
  /** Endpoints the engine holds. */
  endpoints: number;
  /** The engine's wasm memory in bytes (the worker's, when shared). */
  memoryBytes: number;
  transport: "shared" | "direct";
}

/** Every error code (the one list is `tabmux_core::ErrorCode`; a test keeps this in step). */
export type ErrorCode =
  | "invalid-options"
  | "bad-message"
  | "version-mismatch"
  | "not-attached"
  | "not-open"
  | "open-failed"
  | "worker-failed"
  | "worker-crashed"
  | "too-many-clients"
  | "too-many-endpoints"
  | "too-many-requests"
  | "too-many-ports"
  | "queue-full"
  | "expired"
  | "options-differ"
  | "topic"
  | "lagged"
  | "bad-json"
  | "wasm-blocked"
  | "load-failed";

/** An error from tabmux: `code` is stable ([Errors](../docs/guide/errors.md)). */
export interface TabmuxError extends Error {
  code: ErrorCode;
  /** For code "bad-json": the frame that is not JSON text, untouched. */
  frame?: Frame;
  /** For code "lagged": how many frames were not delivered to this tab while it was too far behind. */
  missed?: number;
}

export type Frame = string | ArrayBuffer;

/** Options of a `message` listener or a topic handler. */
export interface HandlerOptions {
  /**
   * Run for each frame in exactly one tab of the browser, among the tabs with an exclusive
   * handler for it (the leader when it has one). A frame already posted to a tab that then
   * closes or crashes is not run elsewhere: at most once. Ordinary handlers still get every frame.
   */
  exclusive?: boolean;
}

/** A client; `T` is what its handlers get: the frame itself, or with `json: true` the parsed value. */
export declare class Client<T = Frame> {
  readonly transport: "shared" | "direct";
  readonly clientId: number;
  readonly tabId: string;
  readonly status: Status | null;
  /**
   * Whether this tab leads its endpoint: exactly one attached tab per endpoint in the browser
   * (a visible one first, then the most recently visible; it keeps the lead while it lives).
   * In direct mode every tab is its own leader. See docs/guide/one-tab.md.
   */
  readonly leader: boolean;
  /** With `{ exclusive: true }` the listener runs in one tab per frame, among the tabs that have one. */
  on(event: "message", listener: (data: T) => void, options?: HandlerOptions): () => boolean;
  on(event: "status", listener: (status: Status) => void): () => boolean;
  on(event: "error", listener: (error: TabmuxError) => void): () => boolean;
  /** Sequence numbers from..to were skipped (options.sequence). */
  on(event: "gap", listener: (gap: { from: number; to: number }) => void): () => boolean;
  /** This tab became the leader (true) or stopped being it (false). */
  on(event: "leader", listener: (leader: boolean) => void): () => boolean;
  /**
   * Resolves once written (told with the worker's next message to this tab, at most 20 ms
   * after the write; at once in a loop of `await send()`); queued while not open; rejects with code "queue-full", "expired",
   * or "worker-crashed" (the worker died with it queued, or a replacement is starting).
   */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Sends JSON.stringify(value) like send(); a value with no JSON form rejects with "bad-message". */
  sendJson(value: unknown): Promise<void>;
  /**
   * Frames of `topic` go to `handler`; returns a function that unsubscribes. With
   * `{ exclusive: true }` each frame runs it in one subscribed tab only.
   */
  subscribe(topic: string, handler: (data: T, topic: string) => void, options?: HandlerOptions): () => boolean;
  /** The frames kept for `topic` (or for frames without one), oldest first, as they arrived (never parsed). */
  history(topic?: string): Promise<Frame[]>;
  stats(): Promise<Stats>;
  /** Tries now, if the socket is not open or opening (against an open breaker: the probe). */
  reconnect(): void;
  /**
   * Reports a token; reports from all tabs within debounceMs count as one; a new token
   * reconnects once. This client remembers it for a replacement worker's hello.
   * `null` signs out (see `signOut`).
   */
  setToken(token: string | null): void;
  /**
   * Signs out: at once, for every tab of this endpoint, the token is dropped and the socket
   * closed; queued sends fail, kept frames are forgotten, the state is "unauthorized" until a
   * tab sets a token.
   */
  signOut(): void;
  /**
   * Detaches and frees this client's wasm memory at once; the socket closes when its last
   * client detaches. Afterwards every call throws (or rejects with) code "bad-message",
   * "…this client is closed"; `status`, `transport`, `clientId` and `tabId` stay readable;
   * close() again does nothing.
   */
  close(): void;
}

/**
 * Connects this page; rejects with a TabmuxError on invalid options or a worker that fails.
 * With `json: true` the handlers get parsed values: `connect<Order>({ url, json: true })`
 * types them (the shape is the server's promise, not checked at run time).
 */
export declare function connect<T = unknown>(options: ConnectOptions & { json: true }): Promise<Client<T>>;
export declare function connect(options: ConnectOptions & { json?: false }): Promise<Client<Frame>>;
/** `json` not known at compile time (a `ConnectOptions` variable): a frame or a parsed value. */
export declare function connect(options: ConnectOptions): Promise<Client<any>>;
