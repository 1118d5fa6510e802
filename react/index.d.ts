import type { ReactNode } from "react";
import type { Client, ConnectOptions, Frame, Status, TabmuxError } from "../js/index.js";

export interface HookOptions extends Partial<ConnectOptions> {
  /** true (default): the SharedWorker where the browser has one; false: a socket in this page. */
  useSharedWorker?: boolean;
  /** Held by latest reference: a new function never reconnects. */
  onMessage?: (data: Frame) => void;
  onStatus?: (status: Status) => void;
  onError?: (error: TabmuxError) => void;
}

/** Gives every hook below it these options (a hook's own options are merged over them). */
export declare function TabmuxProvider(props: { options: HookOptions; children?: ReactNode }): ReactNode;

export interface SharedWebSocket {
  /** null until the first status arrives. */
  status: Status | null;
  lastMessage: Frame | null;
  /** Stable across renders. Resolves once written (queued while not open). */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Stable across renders. Returns a function that unsubscribes. */
  subscribe(topic: string, handler: (data: Frame, topic: string) => void): () => boolean;
  /** Stable across renders. */
  reconnect(): void;
  transport: "shared" | "direct" | null;
  client: Client | null;
  error: TabmuxError | Error | null;
}

/** The shared connection. Only a change of connection settings (not of handlers) reconnects. */
export declare function useSharedWebSocket(options?: HookOptions): SharedWebSocket;

/** Subscribes to `topic` while mounted; `handler` is held by latest reference. */
export declare function useTopic(topic: string | null | undefined, handler: (data: Frame, topic: string) => void, options?: HookOptions): void;

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

export declare function useConnectionHealth(options?: HookOptions): ConnectionHealth;
