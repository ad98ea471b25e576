// Generated from clients/typescript/src/index.ts by clients/typescript/scripts/build.mjs: edit the
// source and rebuild; a test fails when this file and its source disagree.
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
];
// The details keys beyond added/removed/changed, per type: required, then optional. The tests
// check every event a real server sends against this table, so it cannot drift from the server.
export const EVENT_DETAILS = {
    refresh_started: { required: [], optional: [] },
    refresh_completed: { required: ["duration_ms"], optional: [] },
    changes_detected: { required: ["duration_ms"], optional: [] },
    refresh_error: { required: [], optional: ["duration_ms", "source"] },
    project_added: { required: ["path"], optional: [] },
    project_removed: { required: ["path"], optional: [] },
    cache_rebuilt: { required: ["moved_aside", "reason", "projects"], optional: [] },
    resync_required: { required: ["reason"], optional: [] },
};
const OPEN = 1;
// The WebSocket URL of the events route of a server.
export function eventsUrl(url) {
    if (/^wss?:\/\//.test(url))
        return url;
    const base = url.replace(/\/+$/, "").replace(/^http/, "ws");
    return base + "/api/v1/cache/events";
}
// Capped exponential backoff with jitter; attempt 0 is the first retry.
export function backoffDelay(attempt, initialMs, maxMs, jitter, random) {
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
    return Math.round(base * (1 - jitter * random()));
}
// A subscription that stays up: it reconnects after any loss and resumes where it left off
// (since + epoch), so each event is delivered once, in order, or onResync says what to refetch.
export class EventStream {
    constructor(opts) {
        this.ws = null;
        this.seq = null;
        this.runEpoch = null;
        this.subscribedAt = null;
        this.attempt = 0;
        this.stopped = false;
        this.current = "connecting";
        this.opts = opts;
        const WS = opts.WebSocket ?? globalThis.WebSocket;
        if (!WS)
            throw new Error("no WebSocket here: pass one as the WebSocket option (in Node, the ws package's)");
        this.WS = WS;
        this.connect();
    }
    // The seq of the last event delivered (or of the subscription point): where a reconnect resumes.
    get lastSeq() {
        return this.seq;
    }
    get epoch() {
        return this.runEpoch;
    }
    get state() {
        return this.current;
    }
    // Closes the connection for good; no callback runs after this returns.
    stop() {
        if (this.stopped)
            return;
        this.stopped = true;
        clearTimeout(this.retryTimer);
        this.clearHeartbeat();
        const ws = this.ws;
        this.ws = null;
        if (ws) {
            ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
            try {
                ws.close(1000, "client stopped");
            }
            catch {
                // closing a socket still connecting may throw in some implementations; it is gone anyway
            }
        }
        this.setState("stopped");
    }
    connect() {
        const protocols = this.opts.apiKey ? ["apikey." + this.opts.apiKey] : undefined;
        const ws = new this.WS(eventsUrl(this.opts.url), protocols);
        this.ws = ws;
        ws.onopen = () => this.send(this.subscribeMessage());
        ws.onmessage = (m) => this.receive(m.data);
        ws.onerror = () => { }; // a close follows; that is where we act
        ws.onclose = (ev) => this.lost(`closed ${ev.code}${ev.reason ? ": " + ev.reason : ""}`);
        this.armHeartbeat();
    }
    subscribeMessage() {
        const m = { op: "subscribe" };
        if (this.opts.types)
            m.types = [...this.opts.types];
        if (this.opts.projectIds)
            m.project_ids = [...this.opts.projectIds];
        if (this.seq !== null) {
            m.since = this.seq;
            if (this.runEpoch)
                m.epoch = this.runEpoch;
        }
        return m;
    }
    receive(data) {
        this.armHeartbeat();
        let msg;
        try {
            msg = JSON.parse(String(data));
        }
        catch {
            return; // the server sends JSON only; anything else is not ours to act on
        }
        if (msg.op === "subscribed") {
            this.attempt = 0;
            const resumed = this.seq !== null && msg.epoch === this.runEpoch;
            this.runEpoch = msg.epoch;
            this.subscribedAt = msg.seq;
            // First subscription: live from here. A resume keeps its seq; the replay follows.
            if (!resumed)
                this.seq = msg.seq;
            this.setState("live");
            return;
        }
        if (msg.op)
            return; // pong, unsubscribed, error replies
        if (msg.type === "resync_required") {
            // Nothing before the subscription point will come; a refetch now covers it.
            if (this.subscribedAt !== null)
                this.seq = Math.max(this.seq ?? 0, this.subscribedAt);
            this.opts.onResync?.(msg);
            return;
        }
        if (typeof msg.seq !== "number" || (this.seq !== null && msg.seq <= this.seq))
            return; // seen already
        this.seq = msg.seq;
        this.opts.onEvent?.(msg);
    }
    lost(why) {
        if (this.stopped)
            return;
        this.clearHeartbeat();
        const ws = this.ws;
        this.ws = null;
        if (ws)
            ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        this.opts.onDisconnect?.(why);
        this.setState("reconnecting");
        const b = this.opts.backoff ?? {};
        const delay = backoffDelay(this.attempt++, b.initialMs ?? 250, b.maxMs ?? 15000, b.jitter ?? 0.5, this.opts.random ?? Math.random);
        this.retryTimer = setTimeout(() => this.connect(), delay);
    }
    // Quiet for intervalMs: ping. Still quiet timeoutMs later: dead, drop it and reconnect.
    armHeartbeat() {
        this.clearHeartbeat();
        const h = this.opts.heartbeat ?? {};
        this.quietTimer = setTimeout(() => {
            this.send({ op: "ping" });
            this.deadTimer = setTimeout(() => {
                const ws = this.ws;
                this.lost("no answer to a ping");
                try {
                    ws?.close(4000, "no answer to a ping");
                }
                catch {
                    // already closing
                }
            }, h.timeoutMs ?? 10000);
        }, h.intervalMs ?? 15000);
    }
    clearHeartbeat() {
        clearTimeout(this.quietTimer);
        clearTimeout(this.deadTimer);
    }
    send(m) {
        if (this.ws && this.ws.readyState === OPEN)
            this.ws.send(JSON.stringify(m));
    }
    setState(s) {
        if (s === this.current)
            return;
        this.current = s;
        this.opts.onState?.(s);
    }
}
// Starts a stream (it connects at once); stop() ends it.
export function subscribe(opts) {
    return new EventStream(opts);
}
