// Live updates over the WebSocket API. The token goes in ?token= (the one
// documented place a token is put in a URL: $connect cannot read headers).
// Subscriptions are remembered and renewed after a reconnect; an "events"
// frame carries one application's changes, each deduplicated by event_id. Notifications are hints: pages re-read over REST,
// and once more when a subscription is acknowledged, so an event that happened
// between the page's first read and the subscription is never missed.
//
// Pages never hold the connection itself: each page view (main.js's route run) gets a LiveScope, which owns
// its handlers and subscriptions; closing it (the next page view does) removes the handlers and releases the
// subscriptions, so a page left while it was still loading keeps listening to nothing.

const PING_MS = 5 * 60_000; // API Gateway closes idle connections after 10 minutes
const MAX_BACKOFF_MS = 30_000;

export class Live {
  constructor(url, auth) {
    this.url = url;
    this.auth = auth;
    this.socket = null;
    this.subscriptions = new Map(); // key -> { frame, owners: Set of the scopes holding it }
    this.handlers = new Set();
    this.seen = new Set();
    this.backoff = 1000;
    this.closed = true;
    this.pinger = null;
    this.state = "offline";
    this.stateListeners = new Set();
  }

  onEvent(handler) {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onState(listener) {
    this.stateListeners.add(listener);
    listener(this.state);
  }

  setState(state) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  /** Subscribe for ``owner``; the server is told to stop only when no owner holds the key any longer. */
  subscribe(target, owner = this) {
    const key = target.topic ? `topic:${target.topic}` : `app:${target.application_id}`;
    const frame = { action: "subscribe", ...target };
    const held = this.subscriptions.get(key) || { frame, owners: new Set() };
    held.owners.add(owner);
    this.subscriptions.set(key, held);
    this.send(frame); // again when already held: its acknowledgement is the new page's cue to read once more
    return () => this.release(key, held, owner);
  }

  release(key, held, owner) {
    // After stop() (signed out) the map was cleared: a stale release touches nothing held since.
    if (this.subscriptions.get(key) !== held || !held.owners.delete(owner) || held.owners.size > 0) return;
    this.subscriptions.delete(key);
    this.send({ ...held.frame, action: "unsubscribe" });
  }

  /** A page view's own share of the connection: its handlers and subscriptions, all released by close(). */
  scope() {
    return new LiveScope(this);
  }

  async start() {
    if (!this.url || !this.closed) return;
    this.closed = false;
    await this.open();
  }

  stop() {
    this.closed = true;
    this.subscriptions.clear();
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
    this.setState("offline");
  }

  async open() {
    let token;
    try {
      token = await this.auth.idToken();
    } catch {
      this.stop();
      return;
    }
    const url = new URL(this.url);
    url.searchParams.set("token", token);
    this.setState("connecting");
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.backoff = 1000;
      this.setState("live");
      for (const held of this.subscriptions.values()) this.send(held.frame);
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ action: "ping" }), PING_MS);
    });
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", () => {
      clearInterval(this.pinger);
      if (this.socket === socket) this.socket = null;
      if (this.closed) return;
      this.setState("reconnecting");
      setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    });
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "error" && frame.code === "unauthorized" && this.socket) {
      this.socket.close(4001, "re-authenticate"); // reconnects with a fresh token
      return;
    }
    if (frame.type === "subscribed") {
      for (const handler of this.handlers) handler({ type: "subscribed", ...frame });
      return;
    }
    if (frame.type !== "events" || !Array.isArray(frame.events)) return;
    for (const event of frame.events) { // one application's changes, oldest first
      const id = event.event_id;
      if (id) {
        if (this.seen.has(id)) continue;
        this.seen.add(id);
        if (this.seen.size > 2000) this.seen = new Set(Array.from(this.seen).slice(-1000));
      }
      for (const handler of this.handlers) handler(event);
    }
  }
}

/** What a page sees as ``ctx.live``: onEvent and subscribe as on Live, each undone by close() (or
 * unsubscribeAll(), for the subscriptions alone). Once closed it takes nothing more: a page that was left
 * while it loaded and subscribes late subscribes to nothing. */
export class LiveScope {
  constructor(live) {
    this.live = live;
    this.closed = false;
    this.offs = new Set();
    this.releases = new Set();
  }

  onEvent(handler) {
    if (this.closed) return () => {};
    const guarded = (event) => {
      if (!this.closed) handler(event);
    };
    const off = this.live.onEvent(guarded);
    this.offs.add(off);
    return () => {
      this.offs.delete(off);
      off();
    };
  }

  subscribe(target) {
    if (this.closed) return;
    this.releases.add(this.live.subscribe(target, this));
  }

  unsubscribeAll() {
    for (const release of this.releases) release();
    this.releases.clear();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    this.offs.clear();
    this.unsubscribeAll();
  }
}
