import type { ReactNode } from "react";
import type { Client, ConnectOptions, Frame, Status, TabmuxError } from "../js/index.js";

/**
 * Hook options. `T` is what handlers get: the frame itself (the default), or with
 * `json: true` the parsed value (name its type: `useSharedWebSocket<Order>({ json: true })`).
 */
export interface HookOptions<T = Frame> extends Partial<ConnectOptions> {
  /** true (default): the SharedWorker where the browser has one; false: a socket in this page. */
  useSharedWorker?: boolean;
  /** Held by latest reference: a new function never reconnects. */
  onMessage?: (data: T) => void;
  onStatus?: (status: Status) => void;
  onError?: (error: TabmuxError) => void;
  /**
   * Which frames this hook wants: only those it accepts set `lastMessage` (one render each)
   * and reach `onMessage`. `() => false`: no render for any frame. Held by latest reference.
   */
  filter?: (data: T) => boolean;
  /**
   * `useSharedWebSocket`: `onMessage` and `lastMessage` only for the frames this tab was
   * chosen for; `useTopic`: the handler likewise. One tab per frame in the browser, among
   * those with an exclusive handler (docs/guide/one-tab.md). Not a connection setting.
   */
  exclusive?: boolean;
}

/** A token for the provider: a string (null: signed out) or your auth SDK's token function. */
export type ProviderToken = string | null | (() => string | null | undefined | Promise<string | null | undefined>);

/**
 * Gives every hook below it these options (a hook's own options are merged over them) and the
 * user's token: a string is the first connect's `token.value` (a later one is `setToken`,
 * null signs out); a function is `token.get`, held by latest reference.
 */
export declare function TabmuxProvider(props: {
  options: HookOptions<any> & { url: string };
  token?: ProviderToken;
  children?: ReactNode;
}): ReactNode;

export interface SharedWebSocket<T = Frame> {
  /** null until the first status arrives. */
  status: Status | null;
  /** The last frame the filter accepted (parsed with `json: true`), or null. */
  lastMessage: T | null;
  /** Stable across renders. Resolves once written (queued while not open). */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Stable across renders. Sends JSON.stringify(value). */
  sendJson(value: unknown): Promise<void>;
  /** Stable across renders. Returns a function that unsubscribes. */
  subscribe(topic: string, handler: (data: T, topic: string) => void): () => boolean;
  /** Stable across renders. */
  reconnect(): void;
  transport: "shared" | "direct" | null;
  client: Client<T> | null;
  error: TabmuxError | Error | null;
}

/**
 * The shared connection. Only a change of connection settings (not of handlers or filter)
 * reconnects. It renders for a new status and for each frame `filter` accepts.
 */
export declare function useSharedWebSocket<T = Frame>(options?: HookOptions<T>): SharedWebSocket<T>;

/** Subscribes to `topic` while mounted; `handler` is held by latest reference. */
export declare function useTopic<T = Frame>(topic: string | null | undefined, handler: (data: T, topic: string) => void, options?: HookOptions<T>): void;

export interface ConnectionHealth {
  isHealthy: boolean;
  health: "healthy" | "warning" | "critical" | "unknown";
  /** Tabs sharing the socket. */
  connectionCount: number;
  /** When the last pong arrived (ms since the epoch). */
  lastHeartbeat: number | null;
  rttMs: number | null;
  state: Status["state"];
}

/** Renders only when the status changes, never for frames. */
export declare function useConnectionHealth(options?: HookOptions<any>): ConnectionHealth;

/**
 * Whether this tab leads the shared connection: one tab per endpoint in the browser (every
 * tab in direct mode). Renders only when that changes; false until connected.
 */
export declare function useIsLeader(options?: HookOptions<any>): boolean;
