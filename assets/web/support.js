// support.js: the support widget (/support). A customer types a name, an
// optional e-mail and a first message; the conversation is then a chat
// with the support desk's agents over a websocket (PROTOCOL.md, "Support
// desk"), kept in the browser (localStorage) so a reload, a dropped
// connection or a server restart resumes it. A message with a video link
// shows a button that opens the call in a new tab.
//
// Stable element ids (automated tests use them):
//   #start-form #s-name #s-email #s-text #start #start-error
//   #conversation #s-list (li.s-msg[data-seq], a.video-link) #s-input
//   #s-send #closed-note #new-chat #conn
//
// window.confabSupport (always present) reads the widget's state:
//   state() -> {phase: "form"|"starting"|"chat"|"closed", conversation,
//               connected, error, closedBy,
//               messages: [{seq, id, from, name, text, link, status}]}
//               (status "sent", or "sending" for an own message not yet
//               stored)

const $ = (id) => document.getElementById(id);
const STORE = "confab.support";
const MAX_TEXT = 4096;

let phase = "form";
let conv = null; // {conversation, key, name}
let ws = null;
let connected = false;
let retryWait = 250;
let retryTimer = 0;
let pageError = null;
let closedBy = "";
let nextID = 1;
const messages = new Map(); // seq -> message
const pending = new Map(); // id -> {id, text}

function setPhase(p) {
  phase = p;
  document.body.dataset.phase = p;
  $("start-form").hidden = !(p === "form" || p === "starting");
  $("conversation").hidden = !(p === "chat" || p === "closed");
  $("start").disabled = p === "starting";
  $("start").textContent = p === "starting" ? "Starting…" : "Start chat";
  const closed = p === "closed";
  $("send-form").hidden = closed;
  $("closed-note").hidden = !closed;
  $("closed-actions").hidden = !closed;
  if (closed) $("closed-note").textContent = closedBy ? `${closedBy} closed this conversation.` : "This conversation is closed.";
  renderConn();
}

function renderConn() {
  const c = $("conn");
  const live = phase === "chat" || phase === "closed";
  c.textContent = live && !connected ? "Reconnecting…" : "";
  c.classList.toggle("warn", live && !connected);
}

function showStartError(text) {
  const e = $("start-error");
  e.textContent = text || "";
  e.hidden = !text;
}

// problem checks the form as the server will (PROTOCOL.md §6 and the
// support desk's limits) and says what is wrong, or null.
function problem(name, email, text) {
  if (!name.trim()) return "Type your name.";
  if (Array.from(name).length > 64) return "Your name is longer than 64 characters.";
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name)) return "Your name contains characters that cannot be used.";
  if (email && !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".][^\s@<>"]*$/.test(email)) return "The e-mail address does not look like name@example.com.";
  if (email && new TextEncoder().encode(email).length > 254) return "The e-mail address is too long.";
  return textProblem(text);
}

function textProblem(text) {
  if (!text.trim()) return "Type a message.";
  const n = new TextEncoder().encode(text).length;
  if (n > MAX_TEXT) return `The message is too long (${n} of ${MAX_TEXT} bytes).`;
  return null;
}

async function start() {
  if (phase === "starting") return;
  const name = $("s-name").value.trim();
  const email = $("s-email").value.trim();
  const text = $("s-text").value;
  const p = problem(name, email, text);
  if (p) { showStartError(p); return; }
  showStartError("");
  setPhase("starting");
  let res, body = null;
  try {
    res = await fetch("/api/support/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, cache: "no-store",
      body: JSON.stringify({ name, email, text }),
    });
    try { body = await res.json(); } catch { /* not JSON */ }
  } catch {
    setPhase("form");
    showStartError("Cannot reach the server. Check your connection and try again.");
    return;
  }
  if (!res.ok || !body || !body.conversation) {
    setPhase("form");
    if (res.status === 429) showStartError("Too many new conversations from your address. Try again in a few minutes.");
    else showStartError(body && body.message ? "The server refused: " + body.message : `The server could not start the chat (HTTP ${res.status}).`);
    return;
  }
  conv = { conversation: body.conversation, key: body.key, name };
  try { localStorage.setItem(STORE, JSON.stringify(conv)); localStorage.setItem("confab.name", name); } catch { /* storage off */ }
  messages.clear();
  setPhase("chat");
  connect();
}

// connect opens the websocket and resumes the conversation after the last
// message this page has.
function connect() {
  clearTimeout(retryTimer);
  if (!conv) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/support/ws";
  let sock;
  try { sock = new WebSocket(url); } catch { retry(); return; }
  ws = sock;
  sock.onopen = () => {
    let after = 0;
    for (const seq of messages.keys()) after = Math.max(after, seq);
    sock.send(JSON.stringify({ v: 1, type: "resume", data: { conversation: conv.conversation, key: conv.key, after } }));
  };
  sock.onmessage = (e) => {
    let env;
    try { env = JSON.parse(e.data); } catch { return; }
    onMessage(env.type, env.data || {});
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    connected = false;
    renderConn();
    if (conv) retry();
  };
}

function retry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, retryWait);
  retryWait = Math.min(retryWait * 2, 5000);
}

function onMessage(type, d) {
  switch (type) {
    case "conversation":
      connected = true;
      retryWait = 250;
      for (const m of d.messages || []) addMessage(m);
      closedBy = d.closed_by || "";
      setPhase(d.status === "closed" ? "closed" : "chat");
      for (const p of pending.values()) sendNow(p); // not stored yet: again, same id
      render();
      break;
    case "message":
      addMessage(d);
      render();
      break;
    case "closed":
      closedBy = d.by || "";
      setPhase("closed");
      pending.clear();
      render();
      break;
    case "error":
      if (d.code === "support_key_invalid") {
        // The conversation is not this browser's any more (or the server
        // lost it): start afresh.
        forget();
        pageError = "Your earlier conversation could not be opened. Start a new one.";
        showStartError(pageError);
      } else if (d.code === "conversation_closed") {
        pending.clear();
        render();
      } else if (d.ref && pending.has(d.ref)) {
        pending.get(d.ref).failed = d.message || d.code;
        render();
      }
      break;
  }
}

function addMessage(m) {
  if (typeof m.seq !== "number") return;
  messages.set(m.seq, m);
  if (m.from === "customer") pending.delete(m.id);
}

function sendNow(p) {
  if (ws && connected) ws.send(JSON.stringify({ v: 1, type: "send", data: { id: p.id, text: p.text } }));
}

function send() {
  const input = $("s-input");
  const text = input.value;
  const p = textProblem(text);
  if (p) { if (text.trim()) toastInto(p); return; }
  const item = { id: `m-${Date.now().toString(36)}-${nextID++}`, text };
  pending.set(item.id, item);
  sendNow(item);
  input.value = "";
  render();
}

function toastInto(text) {
  $("closed-note").hidden = false;
  $("closed-note").textContent = text;
  setTimeout(() => { if (phase === "chat") $("closed-note").hidden = true; }, 5000);
}

function forget() {
  conv = null;
  try { localStorage.removeItem(STORE); } catch { /* storage off */ }
  if (ws) { const s = ws; ws = null; s.close(); }
  connected = false;
  messages.clear();
  pending.clear();
  closedBy = "";
  setPhase("form");
  render();
}

function timeOf(ms) {
  try { return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); } catch { return ""; }
}

// render draws the list: stored messages in seq order, then own ones not
// yet stored.
function render() {
  const list = $("s-list");
  const scroll = $("s-scroll");
  const atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
  list.replaceChildren();
  const sorted = Array.from(messages.values()).sort((a, b) => a.seq - b.seq);
  for (const m of sorted) list.appendChild(item(m, false));
  for (const p of pending.values()) list.appendChild(item({ from: "customer", name: conv ? conv.name : "", text: p.text, failed: p.failed }, true));
  if (atBottom || sorted.length < 3) scroll.scrollTop = scroll.scrollHeight;
}

function item(m, sending) {
  const li = document.createElement("li");
  li.className = "s-msg" + (m.from === "customer" ? " own" : "") + (m.from === "system" ? " system" : "");
  if (m.seq) li.dataset.seq = String(m.seq);
  if (m.from === "system") {
    li.textContent = m.text;
    return li;
  }
  const bubble = document.createElement("div");
  bubble.className = "s-bubble";
  bubble.textContent = m.text;
  if (m.link && /^\/j\/[A-Za-z0-9]+$/.test(m.link)) {
    const a = document.createElement("a");
    a.className = "video-link";
    a.href = m.link;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = "Join the video call";
    a.addEventListener("click", () => {
      // The call's page fills in the name from here.
      try { if (conv) localStorage.setItem("confab.name", conv.name); } catch { /* storage off */ }
      window.confabSupport.videoClickedAt = performance.timeOrigin + performance.now();
    });
    bubble.appendChild(document.createElement("br"));
    bubble.appendChild(a);
  }
  const meta = document.createElement("p");
  meta.className = "s-meta";
  const who = document.createElement("span");
  who.className = "s-name";
  who.textContent = m.from === "customer" ? "You" : m.name;
  meta.append(who, " · ", sending ? (m.failed ? "Not sent: " + m.failed : "Sending…") : timeOf(m.at));
  li.append(bubble, meta);
  return li;
}

function init() {
  try { conv = JSON.parse(localStorage.getItem(STORE) || "null"); } catch { conv = null; }
  if (!conv || typeof conv.conversation !== "string" || typeof conv.key !== "string") conv = null;
  let name = "";
  try { name = localStorage.getItem("confab.name") || ""; } catch { /* storage off */ }
  $("s-name").value = name;
  $("start-form").addEventListener("submit", (e) => { e.preventDefault(); start(); });
  $("send-form").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  $("s-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  $("new-chat").addEventListener("click", () => { forget(); $("s-text").value = ""; $("s-text").focus(); });
  if (conv) {
    setPhase("chat");
    connect();
  } else {
    setPhase("form");
    (name ? $("s-text") : $("s-name")).focus();
  }
}

window.confabSupport = {
  state() {
    const msgs = Array.from(messages.values()).sort((a, b) => a.seq - b.seq)
      .map(({ seq, id, from, name, text, link }) => ({ seq, id, from, name, text, link: link || "", status: "sent" }));
    for (const p of pending.values()) msgs.push({ seq: null, id: p.id, from: "customer", name: conv ? conv.name : "", text: p.text, link: "", status: "sending" });
    return { phase, conversation: conv ? conv.conversation : null, connected, error: pageError, closedBy, messages: msgs };
  },
  videoClickedAt: null,
};

init();
