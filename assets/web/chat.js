// chat.js: the chat model (stored messages by seq, own messages waiting
// for their acknowledgement) and its view. User text only ever reaches the
// page through textContent and text nodes; links are built as <a> elements.

// ChatStore holds the messages of one room: stored ones keyed and ordered
// by seq (de-duplicated), and own ones not yet acknowledged, by id.
export class ChatStore {
  constructor() {
    this.bySeq = new Map(); // seq -> message
    this.pending = new Map(); // id -> {id, text, status: "sending"|"failed", error, timer}
    this.more = false;
    this.sorted = null;
  }

  size() { return this.bySeq.size; }

  // add stores m; it reports whether m was new. An own message coming
  // back is the acknowledgement of the pending one with its id.
  add(m, you) {
    if (!m || typeof m.seq !== "number") return false;
    let changed = false;
    if (you && m.from === you && this.pending.has(m.id)) {
      clearTimeout(this.pending.get(m.id).timer);
      this.pending.delete(m.id);
      changed = true;
    }
    if (this.bySeq.has(m.seq)) return changed;
    this.bySeq.set(m.seq, m);
    this.sorted = null;
    return true;
  }

  addPending(id, text) {
    this.pending.set(id, { id, text, status: "sending", error: null, timer: 0 });
  }

  pendingList() { return Array.from(this.pending.values()); }

  stopTimers() {
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  messages() {
    if (!this.sorted) this.sorted = Array.from(this.bySeq.values()).sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  lowestSeq() {
    const m = this.messages();
    return m.length ? m[0].seq : 0;
  }

  highestSeq() {
    const m = this.messages();
    return m.length ? m[m.length - 1].seq : 0;
  }

  // contiguousSeq is the highest seq up to which no message is missing
  // (from the lowest one held): what a rejoin asks after (PROTOCOL.md §8),
  // so a gap still being filled is asked for again.
  contiguousSeq() {
    const m = this.messages();
    if (m.length === 0) return 0;
    let last = m[0].seq;
    for (let i = 1; i < m.length && m[i].seq === last + 1; i++) last = m[i].seq;
    return last;
  }

  // list is what the page shows and confabTest reports: stored messages in
  // seq order, then own messages still sending or failed.
  list() {
    const out = this.messages().map((m) => ({ seq: m.seq, id: m.id, from: m.from, name: m.name, text: m.text, at: m.at, status: "sent" }));
    for (const p of this.pending.values()) {
      out.push({ seq: null, id: p.id, from: null, name: null, text: p.text, status: p.status, error: p.error });
    }
    return out;
  }
}

const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;

function count(s, c) {
  let n = 0;
  for (const x of s) if (x === c) n++;
  return n;
}

// trimURL drops punctuation that ends a sentence rather than the URL; a
// closing parenthesis stays when it closes one opened inside the URL.
function trimURL(raw) {
  while (raw.length > 0) {
    const c = raw[raw.length - 1];
    if (".,;:!?'\"]}>*".includes(c) || (c === ")" && count(raw, ")") > count(raw, "("))) {
      raw = raw.slice(0, -1);
      continue;
    }
    break;
  }
  return raw;
}

// appendLinkified appends text to el as text nodes, with every http(s)
// URL in it made an <a> element. The text around links is kept exactly,
// spaces included.
export function appendLinkified(el, text) {
  let last = 0;
  URL_RE.lastIndex = 0;
  let m;
  while ((m = URL_RE.exec(text)) !== null) {
    const raw = trimURL(m[0]);
    let href = null;
    try {
      const u = new URL(raw);
      if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname) href = u.href;
    } catch { /* not a URL: left as text */ }
    if (!href) continue;
    if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = href;
    a.textContent = raw;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    el.appendChild(a);
    last = m.index + raw.length;
    URL_RE.lastIndex = last;
  }
  if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
}

function timeText(at) {
  if (!at) return "";
  const d = new Date(at);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// ChatView draws a ChatStore into the chat panel. Rows are kept by key
// and only moved or updated, never rebuilt from scratch.
export class ChatView {
  constructor({ list, scroll, older, empty, onRetry }) {
    this.list = list;
    this.scroll = scroll;
    this.older = older;
    this.empty = empty;
    this.onRetry = onRetry;
    this.rows = new Map(); // key -> {li, status}
  }

  clear() {
    this.rows.clear();
    this.list.replaceChildren();
  }

  render(store, you, { keepTop = false } = {}) {
    const atBottom = this.scroll.scrollHeight - this.scroll.scrollTop - this.scroll.clientHeight < 40;
    const oldHeight = this.scroll.scrollHeight;
    const oldTop = this.scroll.scrollTop;
    const items = store.list();
    const seen = new Set();
    let prev = null;
    for (const it of items) {
      const key = it.seq != null ? "s" + it.seq : "p" + it.id;
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = this.makeRow(it, you);
        this.rows.set(key, row);
      } else if (row.status !== it.status) {
        this.updateStatus(row, it);
      }
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== row.li) this.list.insertBefore(row.li, want);
      prev = row.li;
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.li.remove();
        this.rows.delete(key);
      }
    }
    this.older.hidden = !store.more;
    this.empty.hidden = items.length > 0;
    if (keepTop) this.scroll.scrollTop = oldTop + (this.scroll.scrollHeight - oldHeight);
    else if (atBottom) this.scroll.scrollTop = this.scroll.scrollHeight;
  }

  makeRow(it, you) {
    const li = document.createElement("li");
    li.className = "msg";
    const own = it.seq == null || (you && it.from === you);
    if (own) li.classList.add("own");
    const head = document.createElement("div");
    head.className = "msg-head";
    const name = document.createElement("span");
    name.className = "msg-name";
    name.textContent = own ? "You" : it.name;
    head.appendChild(name);
    const when = document.createElement("span");
    when.className = "msg-time";
    when.textContent = timeText(it.at);
    head.appendChild(when);
    const body = document.createElement("div");
    body.className = "msg-text";
    appendLinkified(body, it.text);
    const status = document.createElement("div");
    status.className = "msg-status";
    li.append(head, body, status);
    const row = { li, status: null, statusEl: status, id: it.id };
    this.updateStatus(row, it);
    return row;
  }

  updateStatus(row, it) {
    row.status = it.status;
    row.li.dataset.status = it.status;
    const el = row.statusEl;
    el.replaceChildren();
    if (it.status === "sending") {
      el.textContent = "Sending…";
    } else if (it.status === "failed") {
      const t = document.createElement("span");
      t.textContent = "Not sent" + (it.error ? ": " + it.error : ". ");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link-button retry";
      b.textContent = "Retry";
      b.setAttribute("aria-label", "Retry sending this message");
      b.addEventListener("click", () => this.onRetry(row.id));
      el.append(t, " ", b);
    }
  }
}
