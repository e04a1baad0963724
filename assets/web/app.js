// app.js: Confab's browser guest page. It joins the same rooms as the
// desktop app, following signaling/PROTOCOL.md (session.js), with no build
// step and no third-party code.
//
// Stable element ids (automated tests use them):
//   entry screen  #name #room #join #mic-toggle #camera-toggle
//                 #camera-select #mic-select #preview #entry-error
//   call screen   #mute #camera #share #hand #react #leave #chat-toggle
//                 #chat-input #chat-send #chat-older #chat-list #tiles
//                 #conn-state #sound-on #rec-indicator (shown while recorded)
//                 #record (shown when joined.can_record: "Record", or
//                 "Stop recording" with aria-pressed="true" while
//                 recorded; aria-disabled="true" while the server answers)
//                 #reaction-picker (its buttons: button[data-emoji])
//   end screen    #end-title #end-message #rejoin #back
//   tiles         .tile[data-key] with key "self", "cam:<id>", "screen:<id>"
//                 or "screen:self", and data-participant = the id;
//                 raised hand: .tile .hand-badge (not hidden); reactions
//                 shown: .tile .reaction-float[data-emoji];
//                 remote sound: audio[data-participant]
//   <body data-phase> mirrors confabTest.state().phase
//   /j/CODE       the page of an invite link: #room is filled in from the
//                 code (read-only); Join exchanges the code for a token
//
// window.confabTest (always present) reads the page's state:
//   state()   -> {phase: "entry"|"joining"|"call"|"reconnecting"|"left"|"error",
//                 you: id|null, error: string|null,
//                 participants: [{id,name,mic,camera,screen,hand}] (the
//                       others; hand: hand_raised_at, 0 while down),
//                 self: {id,name,mic,camera,screen,hand}|null,
//                 handUp: bool (the own hand as the person last set it),
//                 recording: bool (the room is recorded), canRecord: bool
//                       (the page may start and stop it),
//                 reactions: [{from,emoji,at}] the latest 50 received,
//                 chat: [{seq,id,from,name,text,status}] in seq order, then
//                       own unacknowledged ones (status "sent", "sending"
//                       or "failed"; seq null until stored),
//                 invite: {code, room, used}|null (on a /j/ link: the
//                       code, its room once known, whether it was used),
//                 feedback: "none"|"asked"|"sent"|"skipped" (the rating
//                       form after a support call: #stars
//                       button[data-rating], #feedback-comment,
//                       #feedback-send, #feedback-skip),
//                 protocolViolations: [string] (media sent on a publish
//                       mid or on a mid missing from the offer's tracks,
//                       and similar breaks of PROTOCOL.md §5.2)}
//   stats()   -> Promise of {participantId: {videoFrames, screenFrames,
//                 audioEnergy, audioSamples}} from inbound-rtp stats,
//                 mapped to participants by mid
//   timings() -> {joinClicked, joined, firstFrame: {participantId: ms}}
//                 (performance.now() values)
//   raiseHand(bool) -> bool: raise or lower the own hand, as #hand does
//                 (false: not sent, e.g. not connected)
//   react(emoji) -> bool: send a reaction, as the picker does (false: not
//                 one of the allowed ones, or not in the call)
//   shown()   -> {hands: [{participant, text}], reactions: [{participant,
//                 emoji}]}: the hand badges and reactions on screen now

import { Session, REACTIONS } from "./session.js";
import { ChatView } from "./chat.js";
import { TileGrid } from "./tiles.js";
import { LocalMedia, describeError } from "./media.js";
import { AudioSink } from "./audio.js";

const $ = (id) => document.getElementById(id);

const MESSAGES = {
  room_full: "This room is full. Try again later.",
  token_expired: "Your invite link has expired. Ask for a new one.",
  token_invalid: "This invite link is not valid on this server.",
  token_not_yet_valid: "This invite link is not valid yet.",
  room_mismatch: "This invite link is for another room.",
  permission_denied: "Your invite does not allow sending camera or microphone. Turn them off and join again.",
  duplicate_identity: "You joined this call from another tab or device, so this one was disconnected.",
  unreachable: "Cannot reach the server. Check the address and your connection, then try again.",
  refused: "The server could not let you in just now. Try again in a moment.",
  server_gone: "The connection to the server was lost and could not be restored. The server may have stopped.",
  bad_message: "The server did not accept this page's request. Try reloading the page.",
  unsupported_protocol: "This page does not speak the server's protocol version. Try reloading the page.",
  not_joined: "The server did not accept this page's request. Try reloading the page.",
};

// REACTION_NAMES are what a screen reader says for the picker's buttons.
const REACTION_NAMES = ["Thumbs up", "Applause", "Laughing", "Surprised", "Heart", "Celebrate", "Hooray", "Thinking"];

// UIError is an error whose message is meant for people.
class UIError extends Error {}

// nameProblem checks a name or room against PROTOCOL.md §6.
function nameProblem(label, s) {
  const n = Array.from(s).length;
  if (n === 0 || s.trim() === "") return `Type ${label}.`;
  if (n > 64) return `${label[0].toUpperCase() + label.slice(1)} is longer than 64 characters.`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) return `${label[0].toUpperCase() + label.slice(1)} contains control characters.`;
  if (/[\u202a-\u202e\u2066-\u2069]/.test(s)) return `${label[0].toUpperCase() + label.slice(1)} contains text-direction characters.`;
  return null;
}

// tokenClaims reads (without verifying: the server does) the claims of a JWT.
function tokenClaims(tok) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    const c = JSON.parse(json);
    return c && typeof c === "object" ? c : null;
  } catch {
    return null;
  }
}

async function fetchToken(room, name) {
  let res;
  try {
    res = await fetch(`/api/token?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}`, { cache: "no-store", credentials: "same-origin" });
  } catch {
    throw new UIError(MESSAGES.unreachable);
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (res.ok && body && typeof body.token === "string") return body;
  if (res.status === 404 && body && body.code === "permission_denied") throw new UIError("This server only admits people with an invite link.");
  if (res.status === 429) throw new UIError("Too many people are joining right now. Try again in a moment.");
  if (res.status === 400 && body && body.message) throw new UIError("The server refused the name or room: " + body.message);
  throw new UIError(`The server could not let you in (HTTP ${res.status}).`);
}

// INVITE_MESSAGES explain the invite API's refusals (PROTOCOL.md,
// "Invite links").
const INVITE_MESSAGES = {
  invite_unknown: "This invite link does not work. Check that it was copied whole, or ask for a new one.",
  invite_expired: "This invite link has expired. Ask the person who sent it for a new one.",
  invite_used_up: "This invite link has been used up. Ask the person who sent it for a new one.",
  invite_revoked: "This invite link was withdrawn. Ask the person who sent it for a new one.",
  rate_limited: "Too many tries from your address. Wait a few minutes, then open the link again.",
};

// inviteFetch calls the invite API for the code of this page's /j/ link
// and returns its JSON body, or throws a UIError that says what is wrong.
async function inviteFetch(path, init) {
  let res;
  try {
    res = await fetch(`/api/invite/${encodeURIComponent(inviteCode)}${path}`, { cache: "no-store", credentials: "same-origin", ...init });
  } catch {
    throw new UIError(MESSAGES.unreachable);
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (res.ok && body) return body;
  if (body && INVITE_MESSAGES[body.code]) throw new UIError(INVITE_MESSAGES[body.code]);
  if (res.status === 400 && body && body.message) throw new UIError("The server refused the name: " + body.message);
  throw new UIError(`The server could not let you in (HTTP ${res.status}).`);
}

// Page state.
const media = new LocalMedia();
let phase = "entry";
let pageError = null;
let session = null;
let invite = null; // {token, room, name} from #token= or from the /j/ code
let inviteCode = null; // the code of a /j/CODE link
let inviteInfo = null; // what GET /api/invite/CODE said: {room, expires, max_uses, uses}
let inviteRoom = null; // the room the code is for, once the server said
let timings = { joinClicked: null, joined: null, firstFrame: {} };
let chatOpen = false;
let unread = 0;
let grid = null;
let chatView = null;
let audio = null;
let meter = null;

function setPhase(p, error = null) {
  phase = p;
  pageError = error;
  document.body.dataset.phase = p;
  const inCall = p === "call" || p === "reconnecting";
  $("entry").hidden = !(p === "entry" || p === "joining" || (p === "error" && !session));
  $("call").hidden = !inCall;
  $("end").hidden = !(p === "left" || (p === "error" && !!session));
  $("join").disabled = p === "joining";
  $("join").textContent = p === "joining" ? "Joining…" : "Join";
  const cs = $("conn-state");
  cs.textContent = p === "reconnecting" ? "Reconnecting…" : "";
  cs.classList.toggle("warn", p === "reconnecting");
  if (p !== "call") setPickerOpen(false);
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// ---- Entry screen ----

function showEntryError(text) {
  const e = $("entry-error");
  e.textContent = text || "";
  e.hidden = !text;
}

function renderDevices() {
  const v = $("preview");
  const cam = media.trackFor("camera");
  // The preview plays only on the entry screen; the call has the own tile.
  if (cam && (phase === "entry" || phase === "joining" || phase === "error")) {
    if (!v.srcObject || v.srcObject.getVideoTracks()[0] !== cam) v.srcObject = new MediaStream([cam]);
  } else {
    v.srcObject = null;
  }
  $("preview-off").hidden = !!cam;
  $("preview-off-text").textContent = media.cameraError && !media.camera ? "No camera" : "Camera is off";
  const micOn = !!media.trackFor("microphone");
  setToggle($("mic-toggle"), !micOn, micOn ? "Mute the microphone" : "Microphone is muted; press to unmute");
  setToggle($("camera-toggle"), !cam, cam ? "Turn the camera off" : "Camera is off; press to turn it on");
  $("mic-toggle").disabled = $("camera-toggle").disabled = media.starting;
  const msgs = [media.cameraError, media.micError].filter(Boolean);
  const dm = $("device-message");
  const text = msgs[0] === msgs[1] ? msgs[0] : msgs.join(" ");
  dm.textContent = text || "";
  dm.hidden = !text;
  // In the call.
  setToggle($("mute"), !micOn, micOn ? "Mute the microphone" : "Microphone is muted; press to unmute");
  setToggle($("camera"), !cam, cam ? "Turn the camera off" : "Camera is off; press to turn it on");
  const sharing = !!media.trackFor("screen");
  setToggle($("share"), sharing, sharing ? "Sharing your screen; press to stop" : "Share your screen");
  meterFor(media.trackFor("microphone"));
  if (grid && session) renderTiles();
}

// setToggle sets a toggle button's pressed state. Its name (aria-label
// and visible label) stays the same, so a screen reader says e.g. "Mute,
// toggle button, pressed"; the tooltip says what a press does.
function setToggle(btn, pressed, hint) {
  btn.setAttribute("aria-pressed", pressed ? "true" : "false");
  btn.title = hint;
}

async function fillDeviceLists() {
  const list = await media.devices();
  for (const [kind, sel, current, label] of [
    ["videoinput", $("camera-select"), media.cameraId, "Camera"],
    ["audioinput", $("mic-select"), media.micId, "Microphone"],
  ]) {
    const devs = list.filter((d) => d.kind === kind && d.deviceId);
    sel.replaceChildren();
    devs.forEach((d, i) => {
      const o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || `${label} ${i + 1}`;
      o.selected = d.deviceId === current;
      sel.appendChild(o);
    });
    if (devs.length === 0) {
      const o = document.createElement("option");
      o.value = "";
      o.textContent = `No ${label.toLowerCase()} available`;
      sel.appendChild(o);
    }
    sel.disabled = devs.length === 0;
  }
}

// meterFor shows the microphone's level on the entry screen.
function meterFor(track) {
  if (meter && meter.track === track) return;
  if (meter) { meter.stop(); meter = null; }
  const bar = $("mic-meter");
  bar.style.transform = "scaleX(0)";
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!track || !AC || phase !== "entry") return;
  try {
    const ctx = new AC();
    // Without a click yet, some browsers start audio contexts suspended.
    if (ctx.state === "suspended") document.addEventListener("pointerdown", () => ctx.resume().catch(() => {}), { once: true });
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const an = ctx.createAnalyser();
    an.fftSize = 512;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    let raf = 0;
    const tick = () => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      const level = Math.min(1, Math.sqrt(sum / buf.length) * 4);
      bar.style.transform = `scaleX(${level.toFixed(3)})`;
      raf = requestAnimationFrame(tick);
    };
    tick();
    meter = { track, stop: () => { cancelAnimationFrame(raf); ctx.close().catch(() => {}); bar.style.transform = "scaleX(0)"; } };
  } catch { /* no meter */ }
}

// isolated wraps text from outside (a room or name) in <bdi>, so its
// writing direction cannot spill into the sentence around it.
function isolated(text) {
  const b = document.createElement("bdi");
  b.textContent = text;
  return b;
}

function readURL() {
  let room = "";
  const j = /^\/j\/([^/]+)$/.exec(location.pathname);
  if (j) {
    inviteCode = j[1];
    // A token this tab got for this code before (a reload) is used again,
    // not exchanged for another use of the code.
    try {
      const saved = JSON.parse(sessionStorage.getItem("confab.inviteCode") || "null");
      if (saved && saved.code === inviteCode && typeof saved.token === "string") {
        const c = tokenClaims(saved.token) || {};
        invite = { token: saved.token, room: c.room || "", name: c.name || "" };
      }
    } catch { /* storage off */ }
    return "";
  }
  if (location.pathname.startsWith("/r/")) {
    const raw = location.pathname.slice(3);
    try { room = decodeURIComponent(raw); } catch { room = raw; }
  }
  const frag = new URLSearchParams(location.hash.slice(1));
  let tok = frag.get("token");
  if (tok) {
    // The token is the person's identity: keep it out of the address bar
    // (and so out of links copied from it), but across reloads of this tab.
    try { sessionStorage.setItem("confab.invite", tok); } catch { /* storage off */ }
    try { history.replaceState(null, "", location.pathname + location.search); } catch { /* fine */ }
  } else {
    try { tok = sessionStorage.getItem("confab.invite"); } catch { tok = null; }
  }
  if (tok) {
    const c = tokenClaims(tok) || {};
    const inv = { token: tok, room: typeof c.room === "string" ? c.room : room, name: typeof c.name === "string" ? c.name : "" };
    // A stored invite only counts for its own room.
    if (frag.get("token") || !room || inv.room === room) invite = inv;
  }
  return room;
}

function initEntry() {
  const urlRoom = readURL();
  const nameEl = $("name");
  const roomEl = $("room");
  let saved = {};
  try { saved = { name: localStorage.getItem("confab.name") || "", room: localStorage.getItem("confab.room") || "" }; } catch { /* storage off */ }
  nameEl.value = saved.name || "";
  roomEl.value = urlRoom || saved.room || "";
  if (invite) {
    nameEl.value = invite.name || nameEl.value;
    roomEl.value = invite.room || roomEl.value;
    nameEl.readOnly = !!invite.name;
    roomEl.readOnly = !!invite.room;
    const note = $("invite-note");
    if (invite.room) note.replaceChildren("You are invited to “", isolated(invite.room), "”.");
    else note.textContent = "You have an invite link.";
    note.hidden = false;
  }
  if (urlRoom || invite) {
    $("entry-title").replaceChildren("Join “", isolated(roomEl.value), "”");
    $("entry-sub").textContent = "Type your name, check your camera and microphone, then join.";
  }
  if (urlRoom) {
    const p = nameProblem("the room", urlRoom);
    if (p) showEntryError("The room in this link is not valid: " + p);
  }
  if (inviteCode && !invite) initInviteCode();
  (nameEl.value ? (roomEl.value ? $("join") : roomEl) : nameEl).focus();

  $("entry-form").addEventListener("submit", (e) => { e.preventDefault(); join(); });
  $("mic-toggle").addEventListener("click", () => toggleMic());
  $("camera-toggle").addEventListener("click", () => toggleCamera());
  $("camera-select").addEventListener("change", (e) => media.useDevice("videoinput", e.target.value).then(() => session && session.replaceLocal("camera")).catch((err) => toast(describeError(err, "camera"))));
  $("mic-select").addEventListener("change", (e) => media.useDevice("audioinput", e.target.value).then(() => session && session.replaceLocal("microphone")).catch((err) => toast(describeError(err, "microphone"))));
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) navigator.mediaDevices.addEventListener("devicechange", fillDeviceLists);
  // A new invite pasted into the address bar while on the entry screen.
  window.addEventListener("hashchange", () => { if (!session) location.reload(); });

  media.onChange = renderDevices;
  renderDevices();
  media.start().then(fillDeviceLists);
}

// initInviteCode asks the server which room this page's /j/ code is for
// and shows it; the code is used (exchanged for a token) at Join.
function initInviteCode() {
  const roomEl = $("room");
  roomEl.readOnly = true;
  roomEl.value = "";
  $("entry-title").textContent = "Join the call";
  $("entry-sub").textContent = "Type your name, check your camera and microphone, then join.";
  inviteFetch("", {}).then((info) => {
    inviteInfo = info;
    inviteRoom = info.room;
    roomEl.value = info.room;
    $("entry-title").replaceChildren("Join “", isolated(info.room), "”");
    const note = $("invite-note");
    note.replaceChildren("You are invited to “", isolated(info.room), "”.");
    note.hidden = false;
  }).catch((e) => {
    showEntryError(e.message);
    $("join").disabled = true;
  });
}

// useInviteCode exchanges this page's /j/ code and name for a guest
// token, kept for this tab so a reload does not use the code again.
async function useInviteCode(name) {
  const body = await inviteFetch("/token", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }),
  });
  invite = { token: body.token, room: body.room, name: body.name };
  try {
    sessionStorage.setItem("confab.inviteCode", JSON.stringify({ code: inviteCode, token: body.token }));
    sessionStorage.setItem("confab.invite", body.token);
  } catch { /* storage off */ }
  $("name").readOnly = $("room").readOnly = true;
  return invite;
}

// dropInvite forgets an invite the server refused, so the entry screen
// works as without one (a server in open mode still lets people in).
function dropInvite() {
  invite = null;
  try { sessionStorage.removeItem("confab.invite"); sessionStorage.removeItem("confab.inviteCode"); } catch { /* storage off */ }
  $("name").readOnly = $("room").readOnly = false;
  $("invite-note").hidden = true;
}

// ---- Joining and the call ----

async function join() {
  if (phase === "joining") return;
  if (inviteCode && !invite && !inviteRoom) return; // the code was refused or is still being asked about
  timings = { joinClicked: performance.now(), joined: null, firstFrame: {} };
  showEntryError("");
  const name = $("name").value.trim();
  const room = inviteCode && !invite ? inviteRoom : $("room").value.trim();
  const problem = nameProblem("your name", name) || nameProblem("the room", room);
  if (problem) {
    showEntryError(problem);
    (nameProblem("your name", name) ? $("name") : $("room")).focus();
    return;
  }
  try { localStorage.setItem("confab.name", name); localStorage.setItem("confab.room", room); } catch { /* storage off */ }
  session = null;
  setPhase("joining");
  // Join with the devices the person has answered for (the browser may
  // still be asking).
  await media.ready;
  let tok;
  try {
    if (inviteCode && !invite) await useInviteCode(name);
    tok = invite ? invite.token : (await fetchToken(room, name)).token;
  } catch (e) {
    setPhase("error", e.message);
    showEntryError(e.message);
    $("join").focus();
    return;
  }
  startSession(tok, room);
}

function startSession(tok, room) {
  if (meter) { meter.stop(); meter = null; }
  $("preview").srcObject = null;
  $("room-title").textContent = room;
  document.title = room + " · Confab";
  grid.clear();
  audio.clear();
  chatView.clear();
  unread = 0;
  updateBadge();
  session = new Session({ token: tok, room, media, onEvent: onSessionEvent });
  renderHand();
  session.start();
}

function onSessionEvent(type, d) {
  const s = session;
  if (!s) return;
  switch (type) {
    case "phase":
      if (d.phase === "call") {
        if (timings.joined == null) timings.joined = performance.now();
        try { if (location.pathname !== "/r/" + encodeURIComponent(s.room)) history.replaceState(null, "", "/r/" + encodeURIComponent(s.room)); } catch { /* fine */ }
        setPhase("call");
        renderTiles();
      } else if (d.phase === "reconnecting") {
        setPhase("reconnecting");
      } else if (d.phase === "error") {
        let text = MESSAGES[d.error] || "Something went wrong: " + d.error;
        // A token from /api/token (not an invite) is simply renewed by joining again.
        if (d.error === "token_expired" && !invite) text = "Your access to this call expired. Press Rejoin to get back in.";
        if (d.error === "refused" && s.fatalMessage) text += " (" + s.fatalMessage + ")";
        if (invite && /^token_|^room_mismatch$/.test(d.error)) dropInvite();
        if (!s.joinedOnce) {
          session = null;
          setPhase("error", text);
          showEntryError(text);
          $("join").focus();
        } else {
          showEnd("Disconnected", text);
          setPhase("error", text);
        }
      }
      break;
    case "roster":
      renderTiles();
      audio.prune(s.participants);
      renderHand();
      renderRecord();
      break;
    case "reaction":
      grid.react(d.from, d.emoji, s.you && s.you.id);
      break;
    case "track":
      if (d.kind === "audio") audio.set(d.participant, d.track, d.old);
      else grid.setRemoteTrack(d.participant, d.source, d.track, d.old);
      break;
    case "speakers":
      grid.setSpeakers(d.ids);
      break;
    case "chat":
      chatView.render(s.chat, s.you && s.you.id, { keepTop: !!d.older });
      if (d.added && !chatOpen && !(s.you && d.added.from === s.you.id)) { unread++; updateBadge(); }
      break;
    case "layer":
      grid.setLayer(d.participant, d.source, d);
      break;
    case "notice":
      toast(d.text);
      break;
    case "recording":
      if (d.changed) toast(recordingNotice(d));
      renderRecord();
      break;
    case "record-error":
      toast(recordRefusal(d));
      renderRecord();
      break;
  }
}

// ---- Recording (an admin's Record / Stop recording button) ----

// renderRecord shows #record when the server lets this participant
// record: "Record", or "Stop recording" (pressed) while the room is
// recorded; it stays focusable but ignores presses while the server
// answers.
function renderRecord() {
  const b = $("record");
  const s = session;
  // (A new session, after Rejoin, starts from its own state.)
  $("rec-indicator").hidden = !(s && s.recording);
  b.hidden = !(s && s.canRecord);
  if (b.hidden) return;
  const on = !!s.recording;
  b.querySelector(".control-label").textContent = on ? "Stop recording" : "Record";
  b.setAttribute("aria-label", on ? "Stop recording" : "Record this call");
  setToggle(b, on, on ? "Stop recording this call" : "Record this call (everyone in it is told)");
  b.setAttribute("aria-disabled", s.recordPending ? "true" : "false");
}

function toggleRecord() {
  if (!session || session.recordPending) return;
  session.setRecording(!session.recording);
  renderRecord();
}

// recordRefusal says in plain words why a start or stop was refused.
function recordRefusal(d) {
  const what = d.start ? "Couldn't start recording" : "Couldn't stop recording";
  if (d.code === "recording_unavailable") return what + ": this server does not keep recordings.";
  return what + ": only someone the server made an admin may record this call.";
}

// recordingNotice says who or what started or stopped recording.
function recordingNotice(d) {
  if (d.active) {
    if (d.reason === "admin" && d.byName) return `${d.byName} started recording this call`;
    return "This call is being recorded";
  }
  if (d.reason === "admin" && d.byName) return `${d.byName} stopped recording`;
  if (d.reason === "disk_full") return "Recording stopped: the server's disk is full. The call goes on.";
  if (d.reason === "write_error") return "Recording stopped: the server could not write it. The call goes on.";
  return "Recording stopped";
}

function renderTiles() {
  if (!session) return;
  grid.render({ you: session.you, participants: session.participants, local: media });
  $("alone").hidden = session.participants.size > 0 || phase !== "call";
}

function showEnd(title, text) {
  $("toast").hidden = true; // the call's notices are over with it
  $("end-title").textContent = title;
  $("end-message").textContent = text || "";
  media.stopAll();
  if (meter) { meter.stop(); meter = null; }
  grid.clear();
  audio.clear();
}

function leave() {
  if (!session) return;
  session.leave();
  showEnd("You left the call", "Your camera and microphone are off.");
  setPhase("left");
  $("rejoin").focus();
  if (invite) askFeedback(invite.token);
}

// ---- Feedback after a support call ----

let feedback = "none"; // "none", "asked", "sent" or "skipped"
let rating = 0;
let feedbackToken = null;

// askFeedback shows the 1-5 rating form on the end screen when the call
// was a support call that its customer has not rated yet (PROTOCOL.md,
// "Support desk": /api/support/feedback).
async function askFeedback(tok) {
  if (feedback !== "none") return;
  let info = null;
  try {
    const res = await fetch("/api/support/feedback", { headers: { Authorization: "Bearer " + tok }, cache: "no-store" });
    if (res.ok) info = await res.json();
  } catch { /* no feedback then */ }
  if (!info || info.rated || phase !== "left") return;
  feedback = "asked";
  document.body.dataset.feedback = feedback;
  $("feedback-title").replaceChildren(info.agent ? "How was your call with " : "How was the call", ...(info.agent ? [isolated(info.agent), "?"] : ["?"]));
  $("feedback").hidden = false;
  $("rejoin").hidden = true;
  feedbackToken = tok;
  $("stars").querySelector("button").focus();
}

function initFeedback() {
  const stars = $("stars");
  for (let i = 1; i <= 5; i++) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "star";
    b.dataset.rating = String(i);
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", "false");
    b.setAttribute("aria-label", i === 1 ? "1 star" : `${i} stars`);
    b.textContent = "★";
    b.addEventListener("click", () => {
      rating = i;
      for (const s of stars.children) s.setAttribute("aria-checked", Number(s.dataset.rating) <= i ? "true" : "false");
      $("feedback-send").disabled = false;
    });
    stars.appendChild(b);
  }
  $("feedback-skip").addEventListener("click", () => endFeedback("skipped"));
  $("feedback-send").addEventListener("click", sendFeedback);
}

async function sendFeedback() {
  if (!rating) return;
  const err = $("feedback-error");
  err.hidden = true;
  $("feedback-send").disabled = true;
  let res;
  try {
    res = await fetch("/api/support/feedback", {
      method: "POST", cache: "no-store",
      headers: { Authorization: "Bearer " + feedbackToken, "Content-Type": "application/json" },
      body: JSON.stringify({ rating, comment: $("feedback-comment").value.trim() }),
    });
  } catch {
    res = null;
  }
  if (res && (res.ok || res.status === 409)) {
    endFeedback("sent");
    return;
  }
  $("feedback-send").disabled = false;
  err.textContent = res ? `The feedback was not taken (HTTP ${res.status}). Try again, or skip.` : "Cannot reach the server. Try again, or skip.";
  err.hidden = false;
}

function endFeedback(how) {
  feedback = how;
  document.body.dataset.feedback = how;
  $("feedback").hidden = true;
  $("rejoin").hidden = false;
  $("feedback-thanks").hidden = how !== "sent";
}

async function rejoin() {
  session = null;
  setPhase("entry");
  await media.start();
  fillDeviceLists();
  join();
}

async function toggleMic() {
  const on = !media.trackFor("microphone");
  try {
    await media.setMicOn(on);
  } catch (e) {
    toast(describeError(e, "microphone"));
    return;
  }
  if (session && phase !== "entry") session.sourceChanged("microphone");
}

async function toggleCamera() {
  const on = !media.trackFor("camera");
  if (on) {
    try {
      await media.startCamera();
    } catch (e) {
      toast(describeError(e, "camera"));
      return;
    }
  } else {
    media.stopCamera();
  }
  if (session && phase !== "entry") session.sourceChanged("camera");
}

async function toggleShare() {
  if (!session) return;
  if (media.trackFor("screen")) {
    stopShare();
    return;
  }
  let t;
  try {
    t = await media.startScreen();
  } catch (e) {
    if (e && e.name === "NotAllowedError") return; // the person cancelled
    toast("Screen sharing could not start: " + (e && e.message ? e.message : e));
    return;
  }
  t.addEventListener("ended", () => { if (media.screen === t) stopShare(); });
  session.sourceChanged("screen");
}

function stopShare() {
  media.stopScreen();
  if (session) session.sourceChanged("screen");
}

// ---- Raised hand and reactions ----

function toggleHand() {
  if (!session) return;
  session.setHand(!session.handUp);
  renderHand();
}

function renderHand() {
  const up = !!(session && session.handUp);
  setToggle($("hand"), up, up ? "Your hand is raised; press to lower it" : "Raise your hand");
}

function setPickerOpen(open) {
  const picker = $("reaction-picker");
  if (picker.hidden === !open) return;
  picker.hidden = !open;
  $("react").setAttribute("aria-expanded", open ? "true" : "false");
  if (open) picker.querySelector("button").focus();
}

// initReactions fills the picker: one button per allowed reaction (§5.1
// react). A pick is sent at once and the picker stays open for more.
function initReactions() {
  const picker = $("reaction-picker");
  REACTIONS.forEach((emoji, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = emoji;
    b.dataset.emoji = emoji;
    b.title = REACTION_NAMES[i] || emoji;
    b.setAttribute("aria-label", b.title);
    b.addEventListener("click", () => { if (session) session.react(emoji); });
    picker.appendChild(b);
  });
  $("react").addEventListener("click", () => setPickerOpen(picker.hidden));
  picker.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { setPickerOpen(false); $("react").focus(); }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!picker.hidden && !picker.contains(e.target) && !$("react").contains(e.target)) setPickerOpen(false);
  });
}

// ---- Chat panel ----

function setChatOpen(open) {
  chatOpen = open;
  $("chat").hidden = !open;
  $("call").classList.toggle("chat-open", open);
  $("chat-toggle").setAttribute("aria-pressed", open ? "true" : "false");
  if (open) {
    unread = 0;
    updateBadge();
    const sc = $("chat-scroll");
    sc.scrollTop = sc.scrollHeight;
    $("chat-input").focus();
  } else {
    $("chat-toggle").focus();
  }
  grid.fit();
}

function updateBadge() {
  const b = $("chat-badge");
  b.textContent = unread > 99 ? "99+" : String(unread);
  b.hidden = unread === 0;
  $("chat-toggle").setAttribute("aria-label", unread ? `Chat, ${unread} unread` : "Chat");
}

function sendChat() {
  const input = $("chat-input");
  const text = input.value;
  if (!session || text.trim() === "") return;
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > 4096) {
    toast(`The message is too long (${bytes} of 4096 bytes).`);
    return;
  }
  session.sendChat(text);
  input.value = "";
  autoGrow(input);
  const sc = $("chat-scroll");
  sc.scrollTop = sc.scrollHeight;
}

function autoGrow(el) {
  el.style.height = "auto";
  el.style.height = Math.min(el.scrollHeight, 160) + "px";
}

function initCall() {
  grid = new TileGrid({
    root: $("tiles"), stage: $("stage"), grid: $("grid"),
    onFirstFrame: (id, t) => { if (timings.firstFrame[id] == null) timings.firstFrame[id] = t; },
    onVideoWant: (participant, source, want) => { if (session) session.requestVideo(participant, source, want); },
  });
  audio = new AudioSink($("audio-sink"), $("sound-banner"));
  chatView = new ChatView({
    list: $("chat-list"), scroll: $("chat-scroll"), older: $("chat-older"), empty: $("chat-empty"),
    onRetry: (id) => session && session.retryChat(id),
  });
  $("mute").addEventListener("click", toggleMic);
  $("camera").addEventListener("click", toggleCamera);
  $("share").addEventListener("click", toggleShare);
  $("hand").addEventListener("click", toggleHand);
  $("record").addEventListener("click", toggleRecord);
  initReactions();
  $("leave").addEventListener("click", leave);
  $("chat-toggle").addEventListener("click", () => setChatOpen(!chatOpen));
  $("chat-close").addEventListener("click", () => setChatOpen(false));
  $("chat-older").addEventListener("click", () => session && session.loadOlder());
  $("chat-form").addEventListener("submit", (e) => { e.preventDefault(); sendChat(); });
  const input = $("chat-input");
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendChat(); }
  });
  input.addEventListener("input", () => autoGrow(input));
  $("chat").addEventListener("keydown", (e) => { if (e.key === "Escape") setChatOpen(false); });
  $("sound-on").addEventListener("click", () => audio.resume());
  $("rejoin").addEventListener("click", rejoin);
  $("back").addEventListener("click", () => {
    session = null;
    setPhase("entry");
    media.start().then(fillDeviceLists);
    $("name").focus();
  });
  $("alone-copy").addEventListener("click", () => $("copy-link").click());
  $("copy-link").addEventListener("click", async () => {
    let link = location.origin + "/r/" + encodeURIComponent(session ? session.room : $("room").value.trim());
    if (inviteCode) {
      // Came in by an invite link: on a server that only admits invited
      // people the room's address lets no one in, so share the invite
      // itself while it has uses left (this page used one).
      const left = inviteInfo && inviteInfo.max_uses > 0 ? inviteInfo.max_uses - inviteInfo.uses - 1 : Infinity;
      if (left <= 0) {
        toast("Your invite link was for you only. Ask whoever invited you for a link to share.");
        return;
      }
      link = location.origin + "/j/" + encodeURIComponent(inviteCode);
    }
    try {
      await navigator.clipboard.writeText(link);
      toast("Link copied: " + link);
    } catch {
      toast("Share this link: " + link);
    }
  });
  if (!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia)) $("share").hidden = true;
  window.addEventListener("pagehide", () => { if (session && phase !== "left") session.leave(); });
}

// ---- Test hook ----

function pstate(p) {
  return p ? { id: p.id, name: p.name, mic: !!p.mic, camera: !!p.camera, screen: !!p.screen, hand: p.hand_raised_at || 0 } : null;
}

window.confabTest = {
  state() {
    const s = session;
    return {
      phase,
      you: s && s.you ? s.you.id : null,
      error: pageError,
      participants: s ? Array.from(s.participants.values(), pstate) : [],
      self: s ? pstate(s.you) : null,
      chat: s ? s.chat.list().map(({ seq, id, from, name, text, status }) => (seq == null && s.you
        ? { seq, id, from: s.you.id, name: s.you.name, text, status }
        : { seq, id, from, name, text, status })) : [],
      protocolViolations: s ? s.violations.slice() : [],
      handUp: !!(s && s.handUp),
      recording: !!(s && s.recording),
      canRecord: !!(s && s.canRecord),
      invite: inviteCode ? { code: inviteCode, room: inviteRoom, used: !!invite } : null,
      feedback,
      reactions: s ? s.reactions.map((r) => ({ ...r })) : [],
    };
  },
  raiseHand(raised) {
    if (!session) return false;
    const sent = session.setHand(!!raised);
    renderHand();
    return sent;
  },
  react(emoji) {
    return session ? session.react(emoji) : false;
  },
  shown() {
    const hands = [];
    const reactions = [];
    for (const tile of document.querySelectorAll("#tiles .tile")) {
      const participant = tile.dataset.participant || "";
      const badge = tile.querySelector(".hand-badge");
      if (badge && !badge.hidden) hands.push({ participant, text: badge.textContent });
      for (const f of tile.querySelectorAll(".reaction-float")) reactions.push({ participant, emoji: f.dataset.emoji });
    }
    return { hands, reactions };
  },
  async stats() {
    return session ? session.stats() : {};
  },
  // outbound: what the camera sends, per simulcast layer; layers: the
  // latest layer message per remote video; localSDP: the latest answer.
  async outbound() {
    return session ? session.sendStats() : [];
  },
  layers() {
    return session ? Array.from(session.layers.values()) : [];
  },
  localSDP() {
    return session ? session.localSDP() : "";
  },
  timings() {
    return { joinClicked: timings.joinClicked, joined: timings.joined, firstFrame: { ...timings.firstFrame } };
  },
};

initCall();
initFeedback();
setPhase("entry");
initEntry();
