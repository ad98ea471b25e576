// projcache-client: the live event feed of a projcache server (GET /api/v1/cache/events), with
// resume after a reconnect. No runtime dependencies: the browser's WebSocket, or one passed in
// (Node 20 has none built in; pass the `ws` package's).
//
// One file on purpose: the dashboard the server serves loads this module's compiled form as it
// is (src/net/assets/projcache-client.js), with no bundler.

// ---- events (contract section 4; the details of each type as the server writes them)

export const EVENT_TYPES = [
  "refresh_started",
  "refresh_completed",
  "refresh_error",
  "changes_detected",
  "project_added",
  "project_removed",
  "cache_rebuilt",
  "resync_required",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

// Every event's details carry the artifact ids a refresh added, removed or changed.
export interface EventDetails {
  added: string[];
  removed: string[];
  changed: string[];
}
interface Timed {
  duration_ms: number;
}

interface EventBase<T extends EventType, D> {
  seq: number;
  type: T;
  timestamp: string;
  project_id: string | null;
  changes_detected: boolean;
  error: string | null;
  details: EventDetails & D;
}

export type RefreshStarted = EventBase<"refresh_started", {}> & { project_id: string };
export type RefreshCompleted = EventBase<"refresh_completed", Timed> & { project_id: string };
export type ChangesDetected = EventBase<"changes_detected", Timed> & { project_id: string };
// A project's refresh failed (duration_ms), or another source did (details.source, e.g. "marketplace").
export type RefreshError = EventBase<"refresh_error", Partial<Timed> & { source?: string }> & { error: string };
export type ProjectAdded = EventBase<"project_added", { path: string }> & { project_id: string };
export type ProjectRemoved = EventBase<"project_removed", { path: string }> & { project_id: string };
export type CacheRebuilt = EventBase<"cache_rebuilt", { moved_aside: string; reason: string; projects: string }>;
// Sent to one connection only (seq null): what it missed is gone, refetch over REST.
export type ResyncRequired = Omit<EventBase<"resync_required", { reason: string }>, "seq"> & { seq: null };

export type CacheEvent =
  | RefreshStarted
  | RefreshCompleted
  | ChangesDetected
  | RefreshError
  | ProjectAdded
  | ProjectRemoved
  | CacheRebuilt
  | ResyncRequired;

// The details keys beyond added/removed/changed, per type: required, then optional. The tests
// check every event a real server sends against this table, so it cannot drift from the server.
export const EVENT_DETAILS: { readonly [T in EventType]: { required: readonly string[]; optional: readonly string[] } } = {
  refresh_started: { required: [], optional: [] },
  refresh_completed: { required: ["duration_ms"], optional: [] },
  changes_detected: { required: ["duration_ms"], optional: [] },
  refresh_error: { required: [], optional: ["duration_ms", "source"] },
  project_added: { required: ["path"], optional: [] },
  project_removed: { required: ["path"], optional: [] },
  cache_rebuilt: { required: ["moved_aside", "reason", "projects"], optional: [] },
  resync_required: { required: ["reason"], optional: [] },
};

// ---- the connection

// What the client needs of a WebSocket: the browser's, or `ws`'s in Node.
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = new (url: string, protocols?: string | string[]) => WebSocketLike;

export type ConnectionState = "connecting" | "live" | "reconnecting" | "stopped";

export interface EventStreamOptions {
  // The server: "http://127.0.0.1:8765" (its WebSocket URL is derived), or a ws(s):// URL of the
  // events route itself.
  url: string;
  apiKey?: string;
  // Filters; none means every event.
  types?: readonly EventType[];
  projectIds?: readonly string[];
  onEvent?: (event: Exclude<CacheEvent, ResyncRequired>) => void;
  // Events were missed (the server restarted, or what it kept no longer reaches back far
  // enough): refetch what you show over REST. Live events follow.
  onResync?: (event: ResyncRequired) => void;
  onState?: (state: ConnectionState) => void;
  // Why a connection ended, for logs; the client reconnects by itself.
  onDisconnect?: (why: string) => void;
  WebSocket?: WebSocketFactory;
  // Reconnect delays: initial, doubling up to max, each scaled by a random factor in
  // [1 - jitter, 1]. Defaults 250 ms, 15 s, 0.5.
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  // A ping when nothing arrived for intervalMs; the connection is taken for dead when nothing
  // arrives timeoutMs after it. Defaults 15 s and 10 s.
  heartbeat?: { intervalMs?: number; timeoutMs?: number };
  // For tests: the random source of the jitter.
  random?: () => number;
}

const OPEN = 1;

// The WebSocket URL of the events route of a server.
export function eventsUrl(url: string): string {
  if (/^wss?:\/\//.test(url)) return url;
  const base = url.replace(/\/+$/, "").replace(/^http/, "ws");
  return base + "/api/v1/cache/events";
}

// Capped exponential backoff with jitter; attempt 0 is the first retry.
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, jitter: number, random: () => number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - jitter * random()));
}

// A subscription that stays up: it reconnects after any loss and resumes where it left off
// (since + epoch), so each event is delivered once, in order, or onResync says what to refetch.
export class EventStream {
  private readonly opts: EventStreamOptions;
  private readonly WS: WebSocketFactory;
  private ws: WebSocketLike | null = null;
  private seq: number | null = null;
  private runEpoch: string | null = null;
  private subscribedAt: number | null = null;
  private attempt = 0;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private quietTimer: ReturnType<typeof setTimeout> | undefined;
  private deadTimer: ReturnType<typeof setTimeout> | undefined;
  private current: ConnectionState = "connecting";

  constructor(opts: EventStreamOptions) {
    this.opts = opts;
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!WS) throw new Error("no WebSocket here: pass one as the WebSocket option (in Node, the ws package's)");
    this.WS = WS;
    this.connect();
  }

  // The seq of the last event delivered (or of the subscription point): where a reconnect resumes.
  get lastSeq(): number | null {
    return this.seq;
  }
  get epoch(): string | null {
    return this.runEpoch;
  }
  get state(): ConnectionState {
    return this.current;
  }

  // Closes the connection for good; no callback runs after this returns.
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.clearHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(1000, "client stopped");
      } catch {
        // closing a socket still connecting may throw in some implementations; it is gone anyway
      }
    }
    this.setState("stopped");
  }

  private connect(): void {
    const protocols = this.opts.apiKey ? ["apikey." + this.opts.apiKey] : undefined;
    const ws = new this.WS(eventsUrl(this.opts.url), protocols);
    this.ws = ws;
    ws.onopen = () => this.send(this.subscribeMessage());
    ws.onmessage = (m) => this.receive(m.data);
    ws.onerror = () => {}; // a close follows; that is where we act
    ws.onclose = (ev) => this.lost(`closed ${ev.code}${ev.reason ? ": " + ev.reason : ""}`);
    this.armHeartbeat();
  }

  private subscribeMessage(): Record<string, unknown> {
    const m: Record<string, unknown> = { op: "subscribe" };
    if (this.opts.types) m.types = [...this.opts.types];
    if (this.opts.projectIds) m.project_ids = [...this.opts.projectIds];
    if (this.seq !== null) {
      m.since = this.seq;
      if (this.runEpoch) m.epoch = this.runEpoch;
    }
    return m;
  }

  private receive(data: unknown): void {
    this.armHeartbeat();
    let msg: any;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return; // the server sends JSON only; anything else is not ours to act on
    }
    if (msg.op === "subscribed") {
      this.attempt = 0;
      const resumed = this.seq !== null && msg.epoch === this.runEpoch;
      this.runEpoch = msg.epoch;
      this.subscribedAt = msg.seq;
      // First subscription: live from here. A resume keeps its seq; the replay follows.
      if (!resumed) this.seq = msg.seq;
      this.setState("live");
      return;
    }
    if (msg.op) return; // pong, unsubscribed, error replies
    if (msg.type === "resync_required") {
      // Nothing before the subscription point will come; a refetch now covers it.
      if (this.subscribedAt !== null) this.seq = Math.max(this.seq ?? 0, this.subscribedAt);
      this.opts.onResync?.(msg as ResyncRequired);
      return;
    }
    if (typeof msg.seq !== "number" || (this.seq !== null && msg.seq <= this.seq)) return; // seen already
    this.seq = msg.seq;
    this.opts.onEvent?.(msg as Exclude<CacheEvent, ResyncRequired>);
  }

  private lost(why: string): void {
    if (this.stopped) return;
    this.clearHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.opts.onDisconnect?.(why);
    this.setState("reconnecting");
    const b = this.opts.backoff ?? {};
    const delay = backoffDelay(this.attempt++, b.initialMs ?? 250, b.maxMs ?? 15_000, b.jitter ?? 0.5,
                               this.opts.random ?? Math.random);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // Quiet for intervalMs: ping. Still quiet timeoutMs later: dead, drop it and reconnect.
  private armHeartbeat(): void {
    this.clearHeartbeat();
    const h = this.opts.heartbeat ?? {};
    this.quietTimer = setTimeout(() => {
      this.send({ op: "ping" });
      this.deadTimer = setTimeout(() => {
        const ws = this.ws;
        this.lost("no answer to a ping");
        try {
          ws?.close(4000, "no answer to a ping");
        } catch {
          // already closing
        }
      }, h.timeoutMs ?? 10_000);
    }, h.intervalMs ?? 15_000);
  }

  private clearHeartbeat(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.deadTimer);
  }

  private send(m: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(m));
  }

  private setState(s: ConnectionState): void {
    if (s === this.current) return;
    this.current = s;
    this.opts.onState?.(s);
  }
}

// Starts a stream (it connects at once); stop() ends it.
export function subscribe(opts: EventStreamOptions): EventStream {
  return new EventStream(opts);
}
