// session.js: one participant's connection to a Confab server, written
// from signaling/PROTOCOL.md: the signaling websocket, the
// RTCPeerConnection (the server always offers, §4/§5.2), chat bookkeeping
// and reconnecting (§8). It knows nothing of the page; it reports to the
// page through the onEvent callback given to its constructor.

import { ChatStore } from "./chat.js";

// Error codes after which reconnecting cannot help (§7, §8).
const NO_RETRY = new Set([
  "token_invalid", "token_expired", "token_not_yet_valid", "room_mismatch",
  "permission_denied", "room_full", "duplicate_identity", "bad_message",
  "unsupported_protocol", "not_joined",
]);

// The reactions the server accepts (§5.1 react), exactly these strings, in
// the order the picker shows them. The heart is U+2764 with U+FE0F.
export const REACTIONS = [
  "\u{1F44D}", "\u{1F44F}", "\u{1F602}", "\u{1F62E}",
  "\u2764\uFE0F", "\u{1F389}", "\u{1F64C}", "\u{1F914}",
];

// Simulcast (§5.3): the camera goes up in the layers the server's offer
// receives, each a fraction of the camera's size and with a bitrate cap.
// Chromium encodes only two layers of a camera smaller than 960x540 (it
// drops the last encodings): then q and h carry half and all of it, and f
// is off.
const LAYER_SCALE = { q: 4, h: 2, f: 1 };
const LAYER_SCALE_TWO = { q: 2, h: 1 };
const LAYER_MAX_BITRATE = { q: 150000, h: 500000, f: 1500000 };
const LAYER_MAX_BITRATE_TWO = { q: 500000, h: 1500000 };
const THREE_LAYERS_FROM = 540; // camera height

const RETRY_FOR_MS = 30000;
const GATHER_WAIT_MS = 5000;
const CHAT_ACK_WAIT_MS = 15000;

// messageID returns a fresh chat message id (§5.1: printable ASCII, no spaces).
function messageID() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return "w-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// mlines reads the mid, direction and msid of every m-line of an SDP.
export function mlines(sdp) {
  const out = [];
  let cur = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      const parts = line.slice(2).split(" ");
      cur = { kind: parts[0], port: parts[1], mid: null, direction: "sendrecv", msid: null };
      out.push(cur);
    } else if (cur) {
      if (line.startsWith("a=mid:")) cur.mid = line.slice(6).trim();
      else if (line.startsWith("a=msid:")) cur.msid = line.slice(7).trim();
      else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line.trim())) cur.direction = line.trim().slice(2);
    }
  }
  return out;
}

// waitGathering resolves when the connection's ICE gathering is complete
// (candidates travel inside the SDP, §1), or after GATHER_WAIT_MS.
function waitGathering(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_WAIT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// Session is one stay in a room, across reconnects. Events passed to
// onEvent(type, detail):
//   phase       {phase, error}: "joining", "call", "reconnecting", "left", "error"
//   roster      {}: participants or own state changed
//   track       {participant, source, kind, track|null}: attach or detach media
//   speakers    {ids: Set}
//   chat        {}: the chat list changed
//   reaction    {from, emoji, at}: someone (maybe you) reacted (§5.2)
//   layer       {participant, source, layer, width, height}: the layer of a
//               remote video that now arrives (§5.2 layer)
//   notice      {text}: something to show briefly
export class Session {
  constructor({ token, room, media, onEvent }) {
    this.token = token;
    this.room = room;
    this.media = media; // trackFor(source) -> MediaStreamTrack|null
    this.onEvent = onEvent;
    this.phase = "joining";
    this.error = null;
    this.errorCode = null;
    this.you = null; // own participant object
    this.cameraSender = null; // the camera's RTCRtpSender, once an offer made it
    this.sendLayers = null; // the camera layers the server lists (§5.3), null: all
    this.participants = new Map(); // id -> participant (others)
    this.chat = new ChatStore();
    this.violations = [];
    this.violationSet = new Set();
    this.ws = null;
    this.pc = null;
    this.queue = Promise.resolve();
    this.publish = {}; // mid -> source, from the latest offer
    this.midMap = new Map(); // mid -> {participant, source, kind, track}
    this.curOffer = null;
    this.joinedOnce = false;
    this.closing = false;
    this.dropAt = 0;
    this.attempt = 0;
    this.retryTimer = 0;
    this.historyReq = 0;
    this.historyPending = null;
    this.handUp = false; // the person wants the hand raised (§5.1 set_hand)
    this.recording = false; // the room is recorded (joined.recording, recording events)
    this.canRecord = false; // this participant may start and stop it (joined.can_record)
    this.recordPending = null; // "start" or "stop" while the server has not answered
    this.reactions = []; // the latest reactions received, oldest first
    this.videoWants = new Map(); // track id -> set_layer data asked (§5.1 set_layer)
    this.layers = new Map(); // track id -> the latest layer message (§5.2 layer)
  }

  emit(type, detail = {}) {
    try { this.onEvent(type, detail); } catch (e) { console.error("confab: event", type, e); }
  }

  setPhase(phase, error = null) {
    this.phase = phase;
    this.error = error;
    this.emit("phase", { phase, error });
  }

  violation(text) {
    if (this.violationSet.has(text)) return;
    this.violationSet.add(text);
    this.violations.push(text);
    console.warn("confab: protocol violation:", text);
  }

  // start opens the first connection.
  start() {
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.teardownMedia();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch (e) {
      this.lost();
      return;
    }
    this.ws = ws;
    this.pc = this.newPeerConnection();
    this.queue = Promise.resolve();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.send("join", {
        token: this.token,
        room: this.room,
        mic: !!this.media.trackFor("microphone"),
        camera: !!this.media.trackFor("camera"),
        after_seq: this.chat.contiguousSeq(),
        standby_layers: true,
      });
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { console.warn("confab: a message that is not JSON"); return; }
      if (!msg || typeof msg !== "object") return;
      this.handle(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.onClose(ev);
    };
  }

  newPeerConnection() {
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
    pc.ontrack = (ev) => {
      const mid = ev.transceiver && ev.transceiver.mid;
      const o = this.curOffer;
      if (!o || mid == null) return;
      if (o.publish && o.publish[mid]) this.violation(`media track arrived on publish mid ${mid}`);
      else if (!o.tracks || !o.tracks[mid]) this.violation(`media track arrived on mid ${mid}, which is not in the offer's tracks`);
    };
    // Media down while the websocket lives: ask for an ICE restart (§8.1)
    // after 2 s of "disconnected" (at once on "failed"), then every 5 s.
    // The server restarts on its own too, and ends the session if media
    // stays down.
    pc.oniceconnectionstatechange = () => {
      if (pc !== this.pc) return;
      clearTimeout(this.iceTimer);
      const down = () => pc === this.pc && (pc.iceConnectionState === "disconnected" || pc.iceConnectionState === "failed");
      if (!down()) return;
      const ask = () => {
        if (!down()) return;
        this.send("renegotiate", { ice_restart: true });
        this.iceTimer = setTimeout(ask, 5000);
      };
      this.iceTimer = setTimeout(ask, pc.iceConnectionState === "failed" ? 0 : 2000);
    };
    return pc;
  }

  send(type, data) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    const env = data === undefined ? { v: 1, type } : { v: 1, type, data };
    ws.send(JSON.stringify(env));
    return true;
  }

  handle(msg) {
    if (msg.v !== 1) { console.warn("confab: message with version", msg.v); return; }
    const d = msg.data || {};
    switch (msg.type) {
      case "joined": this.onJoined(d); break;
      case "offer": this.enqueue(() => this.onOffer(d)); break;
      case "participant_joined":
      case "participant_updated": this.onParticipant(d.participant); break;
      case "participant_left": this.onLeft(d); break;
      case "speakers": this.emit("speakers", { ids: new Set((d.speakers || []).map((s) => s.id)), speakers: d.speakers || [] }); break;
      case "chat": if (d.message) this.onChatMessage(d.message); break;
      case "history": this.onHistory(d); break;
      case "reaction": this.onReaction(d); break;
      case "layer": this.onLayer(d); break;
      case "publish_layers": this.onPublishLayers(d); break;
      case "recording": this.onRecording(d, false); break;
      case "error": this.onError(d); break;
      default: console.debug("confab: ignoring message type", String(msg.type).slice(0, 32));
    }
  }

  // enqueue runs fn after everything queued before it: offers and source
  // changes are processed strictly in order.
  enqueue(fn) {
    const pc = this.pc;
    this.queue = this.queue.then(() => (pc === this.pc ? fn() : undefined)).catch((e) => {
      console.error("confab: negotiation", e);
      if (pc === this.pc) this.emit("notice", { text: "The media connection could not be set up: " + e.message });
    });
    return this.queue;
  }

  // onRecording follows whether the room is recorded: joined.recording at
  // join, recording events after (PROTOCOL.md §5.2).
  onRecording(d, atJoin) {
    const was = !!this.recording;
    this.recording = !!d.active;
    this.recordPending = null; // the answer to a start or stop, if one was sent
    if (atJoin && !this.recording && !was) return;
    this.emit("recording", { active: this.recording, changed: was !== this.recording, atJoin,
      reason: String(d.reason || ""), byName: String(d.by_name || "") });
  }

  onJoined(d) {
    const first = !this.joinedOnce;
    this.joinedOnce = true;
    this.fatalMessage = null;
    this.attempt = 0;
    this.dropAt = 0;
    if (!Array.isArray(d.participants)) console.warn("confab: joined.participants is not an array:", d.participants);
    // The server's TURN relay, when it runs one: used from the first offer.
    if (Array.isArray(d.ice_servers) && d.ice_servers.length && this.pc) {
      try {
        this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: d.ice_servers });
      } catch (e) {
        console.warn("confab: the server's relay cannot be used:", e);
      }
    }
    this.you = d.you;
    // A new connection's server has not said which camera layers to send
    // (§5.3 standby layers): all of them until it does.
    this.sendLayers = null;
    // Whether this participant may start and stop recording (an admin on
    // a server that records); an answer lost with the connection never
    // comes.
    this.canRecord = !!d.can_record;
    this.recordPending = null;
    this.participants.clear();
    for (const p of d.participants || []) this.participants.set(p.id, p);
    // chat_more speaks of the newest page; after a rejoin with after_seq
    // the older-messages state from before stays.
    if (first || this.chat.size() === 0) this.chat.more = !!d.chat_more;
    for (const m of d.chat || []) this.chat.add(m, this.you.id);
    this.historyPending = null;
    if (d.chat_gap) this.requestHistory("after", this.chat.contiguousSeq());
    this.setPhase("call");
    this.emit("roster");
    this.emit("chat");
    // Told before any media flows (the offer comes after joined).
    this.onRecording({ active: !!d.recording, reason: "" }, true);
    // Sources the server cannot know after a reconnect, and chat it has
    // not acknowledged (§8: same ids, stored once).
    if (this.media.trackFor("screen")) this.send("set_source", { source: "screen", enabled: true });
    // The server forgets a raised hand with the connection (§5.1 set_hand).
    if (this.handUp && !(this.you && this.you.hand_raised_at)) this.send("set_hand", { raised: true });
    // The server forgets what was asked of each video with the connection.
    for (const want of this.videoWants.values()) this.send("set_layer", want);
    this.layers.clear();
    for (const p of this.chat.pendingList()) {
      if (p.status === "sending") this.send("chat", { id: p.id, text: p.text });
    }
  }

  async onOffer(o) {
    const pc = this.pc;
    if (typeof o.sdp !== "string") { this.violation("offer without sdp"); return; }
    const publish = o.publish || {};
    const tracks = o.tracks || {};
    for (const m of mlines(o.sdp)) {
      if (m.mid == null || m.port === "0" || (m.kind !== "audio" && m.kind !== "video")) continue;
      const sends = m.direction === "sendrecv" || m.direction === "sendonly";
      if (publish[m.mid] && sends) this.violation(`offer sends media on publish mid ${m.mid} (${m.direction})`);
      else if (sends && !tracks[m.mid]) this.violation(`offer sends media on mid ${m.mid}, which is not in tracks`);
      const ref = tracks[m.mid];
      if (ref && m.msid) {
        const want = `${ref.participant} ${ref.source}:${ref.participant}`;
        if (m.msid !== want) this.violation(`mid ${m.mid} has msid "${m.msid}", expected "${want}"`);
      }
      if (publish[m.mid] && m.direction !== "recvonly" && m.direction !== "inactive") {
        this.violation(`publish mid ${m.mid} offered ${m.direction}, not recvonly`);
      }
    }
    this.curOffer = { publish, tracks };
    await pc.setRemoteDescription({ type: "offer", sdp: o.sdp });
    if (pc !== this.pc) return;
    this.publish = publish;
    for (const t of pc.getTransceivers()) {
      const mid = t.mid;
      if (mid == null || t.stopped || t.currentDirection === "stopped") continue;
      const source = publish[mid];
      if (source) {
        const track = this.trackForTransceiver(source, t);
        if (t.sender.track !== track) await t.sender.replaceTrack(track);
        t.direction = track || t.currentDirection === "sendonly" ? "sendonly" : "inactive";
        if (source === "camera") {
          this.cameraSender = t.sender;
          await this.tuneLayers(t.sender);
        }
      } else if (tracks[mid]) {
        t.direction = "recvonly";
      } else {
        t.direction = "inactive";
      }
    }
    this.route(pc, publish, tracks);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await waitGathering(pc);
    if (pc !== this.pc) return;
    this.send("answer", { sdp: pc.localDescription.sdp });
  }

  // tuneLayers sets the size and bitrate of each simulcast layer of the
  // camera's sender. The browser made one encoding per RID the offer
  // receives (a=simulcast:recv q;h;f, §5.3) when the offer created the
  // transceiver; without them (no simulcast offered) nothing changes.
  async tuneLayers(sender) {
    const p = sender.getParameters();
    if (!p.encodings || p.encodings.length < 2) return;
    const track = sender.track;
    const height = track && track.getSettings ? track.getSettings().height || 0 : 0;
    const three = height >= THREE_LAYERS_FROM || p.encodings.length < 3;
    const scales = three ? LAYER_SCALE : LAYER_SCALE_TWO;
    const rates = three ? LAYER_MAX_BITRATE : LAYER_MAX_BITRATE_TWO;
    let changed = false;
    // The server may list only some layers (publish_layers): the others
    // rest; with none of the encoded ones listed, the lowest goes on.
    const listed = (rid) => !this.sendLayers || this.sendLayers.has(rid);
    const anyListed = p.encodings.some((e) => scales[e.rid] && listed(e.rid));
    const lowest = p.encodings.find((e) => scales[e.rid]);
    for (const e of p.encodings) {
      const scale = scales[e.rid];
      const active = !!scale && (listed(e.rid) || (!anyListed && e === lowest));
      if (e.active !== active) { e.active = active; changed = true; }
      if (!scale) continue;
      if (e.scaleResolutionDownBy !== scale) { e.scaleResolutionDownBy = scale; changed = true; }
      if (e.maxBitrate !== rates[e.rid]) { e.maxBitrate = rates[e.rid]; changed = true; }
    }
    if (!changed) return;
    try {
      await sender.setParameters(p);
    } catch (e) {
      console.warn("confab: simulcast layers not set:", e);
    }
  }

  // onPublishLayers applies the server's list of the camera layers someone
  // receives (§5.2 publish_layers): the others stop until listed again
  // (the browser starts a layer again with a keyframe).
  onPublishLayers(d) {
    if (typeof d.track !== "string" || !Array.isArray(d.layers)) {
      this.violation("publish_layers without a track or layers");
      return;
    }
    if (!this.you || d.track !== `camera:${this.you.id}`) {
      this.violation(`publish_layers for track ${d.track.slice(0, 80)}, not this participant's camera`);
      return;
    }
    this.sendLayers = new Set(d.layers.filter((r) => typeof r === "string"));
    const sender = this.cameraSender;
    if (sender) this.enqueue(() => this.tuneLayers(sender));
  }

  // requestVideo tells the server what a remote video is wanted for
  // (§5.1 set_layer): want is {width, height} (the size shown, in device
  // pixels), {layer}, {paused: true}, or {} for the server's default. It
  // is sent only when it changes, and again after a reconnect.
  requestVideo(participant, source, want) {
    const track = `${source}:${participant}`;
    const data = { track };
    if (want.paused) data.paused = true;
    else if (want.layer) data.layer = want.layer;
    else {
      const w = Math.max(0, Math.min(16384, Math.round(want.width || 0)));
      const h = Math.max(0, Math.min(16384, Math.round(want.height || 0)));
      if (w > 0) data.width = w;
      if (h > 0) data.height = h;
    }
    const before = this.videoWants.get(track);
    if (before && JSON.stringify(before) === JSON.stringify(data)) return false;
    if (Object.keys(data).length === 1) this.videoWants.delete(track);
    else this.videoWants.set(track, data);
    if (!before && Object.keys(data).length === 1) return false; // the default, already
    return this.send("set_layer", data);
  }

  onLayer(d) {
    if (typeof d.track !== "string" || typeof d.layer !== "string") {
      this.violation("layer message without a track or a layer");
      return;
    }
    const i = d.track.indexOf(":");
    if (i < 0) return;
    const l = { track: d.track, layer: d.layer, width: d.width || 0, height: d.height || 0 };
    this.layers.set(d.track, l);
    this.emit("layer", { participant: d.track.slice(i + 1), source: d.track.slice(0, i), ...l });
  }

  // sendStats reports what the browser sends for each layer of the camera
  // (confabTest.outbound).
  async sendStats() {
    const out = [];
    const pc = this.pc;
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type === "candidate-pair" && r.nominated && r.availableOutgoingBitrate) {
        out.push({ rid: "bwe", bytes: r.availableOutgoingBitrate });
      }
      if (r.type !== "outbound-rtp" || r.kind !== "video") return;
      out.push({ rid: r.rid || "", width: r.frameWidth || 0, height: r.frameHeight || 0, frames: r.framesEncoded || 0,
        bytes: r.bytesSent || 0, active: r.active !== false, limitation: r.qualityLimitationReason || "" });
    });
    return out;
  }

  // localSDP is the latest answer (confabTest.localSDP).
  localSDP() {
    return this.pc && this.pc.localDescription ? this.pc.localDescription.sdp : "";
  }

  // trackForTransceiver returns the local track for source if it fits the
  // transceiver's kind.
  trackForTransceiver(source, t) {
    const track = this.media.trackFor(source);
    if (!track) return null;
    if (t.receiver.track && t.receiver.track.kind !== track.kind) {
      this.violation(`publish mid ${t.mid} for ${source} is not a ${track.kind} m-line`);
      return null;
    }
    return track;
  }

  // route maps each receiving transceiver's track to its participant by
  // mid, from the offer's tracks map, never from the msid. Mids that left
  // the map, or now carry someone else's track, are detached first.
  route(pc, publish, tracks) {
    const next = new Map();
    for (const t of pc.getTransceivers()) {
      const mid = t.mid;
      if (mid == null) continue;
      const ref = tracks[mid];
      if (!ref) continue;
      if (publish[mid]) {
        this.violation(`mid ${mid} is in both publish and tracks`);
        continue;
      }
      const track = t.receiver.track;
      const want = ref.source === "microphone" ? "audio" : "video";
      if (track.kind !== want) {
        this.violation(`mid ${mid} carries ${track.kind} but tracks says ${ref.source}`);
        continue;
      }
      next.set(mid, { participant: ref.participant, source: ref.source, kind: track.kind, track });
    }
    const same = (a, b) => a && b && a.participant === b.participant && a.source === b.source && a.track === b.track;
    for (const [mid, old] of this.midMap) {
      if (!same(old, next.get(mid))) this.emit("track", { participant: old.participant, source: old.source, kind: old.kind, track: null, old: old.track });
    }
    const prev = this.midMap;
    this.midMap = next;
    for (const [mid, n] of next) {
      if (!same(prev.get(mid), n)) this.emit("track", { ...n });
    }
  }

  // sourceChanged tells the server that a local source went on or off and
  // puts the track on (or takes it off) its publish m-line. Turning a
  // source off keeps the m-line (§5.1 set_source).
  sourceChanged(source) {
    const track = this.media.trackFor(source);
    this.send("set_source", { source, enabled: !!track });
    return this.enqueue(async () => {
      const pc = this.pc;
      const mid = Object.keys(this.publish).find((m) => this.publish[m] === source);
      if (mid == null) return; // no m-line yet: the next offer names one
      const t = pc.getTransceivers().find((x) => x.mid === mid);
      if (!t) return;
      const fit = this.trackForTransceiver(source, t);
      await t.sender.replaceTrack(fit);
      if (fit && source === "camera") await this.tuneLayers(t.sender);
      if (fit && t.direction !== "sendonly") {
        t.direction = "sendonly";
        this.send("renegotiate");
      }
    });
  }

  // replaceLocal swaps the track of a source that stays on (a new device).
  replaceLocal(source) {
    return this.enqueue(async () => {
      const mid = Object.keys(this.publish).find((m) => this.publish[m] === source);
      if (mid == null) return;
      const t = this.pc.getTransceivers().find((x) => x.mid === mid);
      if (!t) return;
      await t.sender.replaceTrack(this.trackForTransceiver(source, t));
      if (source === "camera") await this.tuneLayers(t.sender);
    });
  }

  onParticipant(p) {
    if (!p || !p.id) return;
    if (this.you && p.id === this.you.id) {
      this.you = p;
    } else {
      const before = this.participants.get(p.id);
      this.participants.set(p.id, p);
      if (!before) this.emit("notice", { text: `${p.name} joined` });
      else if (p.hand_raised_at && !before.hand_raised_at) this.emit("notice", { text: `${p.name} raised their hand` });
    }
    this.emit("roster");
  }

  // Raised hand and reactions (§5.1 set_hand, react; §5.2 reaction).

  // setHand raises or lowers the hand. The server answers everyone with
  // participant_updated; after a reconnect onJoined raises it again.
  setHand(raised) {
    this.handUp = !!raised;
    return this.send("set_hand", { raised: this.handUp });
  }

  // setRecording asks the server to start (true) or stop recording the
  // room (§5.1 start_recording); only when joined.can_record said so.
  // The answer is a recording event, or an error that comes as a
  // "record-error" event; until then recordPending says which was asked.
  setRecording(start) {
    if (!this.canRecord || this.phase !== "call" || this.recordPending) return false;
    if (!this.send(start ? "start_recording" : "stop_recording")) return false;
    this.recordPending = start ? "start" : "stop";
    return true;
  }

  // react sends one of REACTIONS; false if it is not one or not connected.
  react(emoji) {
    if (!REACTIONS.includes(emoji) || this.phase !== "call") return false;
    return this.send("react", { emoji });
  }

  onReaction(d) {
    if (typeof d.from !== "string" || typeof d.emoji !== "string" || d.emoji === "" || d.emoji.length > 16) {
      this.violation("reaction without a from or an emoji");
      return;
    }
    const r = { from: d.from, emoji: d.emoji, at: typeof d.at === "number" ? d.at : Date.now() };
    this.reactions.push(r);
    if (this.reactions.length > 50) this.reactions.shift();
    this.emit("reaction", r);
  }

  onLeft(d) {
    const p = this.participants.get(d.id);
    if (!p) return;
    this.participants.delete(d.id);
    this.emit("notice", { text: `${p.name} left` });
    this.emit("roster");
  }

  // Chat (§5.1 chat/history, §5.2 chat).

  sendChat(text) {
    // Lone UTF-16 surrogates cannot be sent as JSON text the server takes.
    text = typeof text.toWellFormed === "function" ? text.toWellFormed() : text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
    const id = messageID();
    this.chat.addPending(id, text);
    this.transmitChat(id);
    return id;
  }

  retryChat(id) {
    const p = this.chat.pending.get(id);
    if (!p) return;
    p.tries = 0;
    p.status = "sending";
    p.error = null;
    this.transmitChat(id);
  }

  transmitChat(id) {
    const p = this.chat.pending.get(id);
    this.emit("chat");
    this.send("chat", { id: p.id, text: p.text }); // if closed: re-sent after rejoining
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (p.status === "sending" && this.chat.pending.has(id) && this.phase === "call") {
        p.status = "failed";
        p.error = "No answer from the server.";
        this.emit("chat");
      }
    }, CHAT_ACK_WAIT_MS);
  }

  onChatMessage(m) {
    if (this.chat.add(m, this.you ? this.you.id : null)) this.emit("chat", { added: m });
  }

  // loadOlder asks for the page before the lowest seq seen.
  loadOlder() {
    if (this.historyPending) return false;
    return this.requestHistory("before", this.chat.lowestSeq());
  }

  // requestHistory asks for a page "before" a seq (older messages) or
  // "after" one (filling the gap a rejoin left, joined.chat_gap).
  requestHistory(mode, seq) {
    this.historyReq++;
    const req = "h" + this.historyReq;
    const data = mode === "after" ? { req, before: 0, after: seq, limit: 50 } : { req, before: seq, limit: 50 };
    if (!this.send("history", data)) return false;
    this.historyPending = { req, mode };
    return true;
  }

  onHistory(d) {
    const p = this.historyPending;
    if (!p || (d.req && d.req !== p.req)) return;
    this.historyPending = null;
    for (const m of d.messages || []) this.chat.add(m, this.you ? this.you.id : null);
    if (p.mode === "before") {
      this.chat.more = !!d.more;
      this.emit("chat", { older: true });
      return;
    }
    this.emit("chat");
    const msgs = d.messages || [];
    if (d.more && msgs.length > 0) this.requestHistory("after", this.chat.contiguousSeq());
  }

  onError(e) {
    const code = e.code || "internal";
    if (e.ref && this.chat.pending.has(e.ref)) {
      const p = this.chat.pending.get(e.ref);
      clearTimeout(p.timer);
      // Not stored: the server was busy (overloaded), failed to store
      // (internal) or too many messages went out (rate_limited). Resend by
      // itself a few times, same id.
      if ((code === "overloaded" || code === "rate_limited" || code === "internal") && (p.tries || 0) < 3) {
        p.tries = (p.tries || 0) + 1;
        p.timer = setTimeout(() => { if (this.chat.pending.get(p.id) === p && p.status === "sending") this.transmitChat(p.id); }, 1000 * 2 ** p.tries);
        return;
      }
      p.status = "failed";
      p.error = e.message || code;
      this.emit("chat");
      return;
    }
    if (e.ref && this.historyPending && e.ref === this.historyPending.req) {
      this.historyPending = null;
      this.emit("notice", { text: "Older messages could not be loaded." });
      return;
    }
    if (!e.fatal && (code === "recording_unavailable" || (code === "permission_denied" && this.recordPending))) {
      const start = this.recordPending ? this.recordPending === "start" : !this.recording;
      this.recordPending = null;
      this.emit("record-error", { code, start });
      return;
    }
    if (e.fatal) {
      if (NO_RETRY.has(code)) this.errorCode = code;
      this.fatalMessage = e.message || code;
      return; // the server closes the socket next
    }
    this.emit("notice", { text: e.message || code });
  }

  // Connection life (§8).

  onClose(ev) {
    this.teardownMedia();
    this.historyPending = null;
    if (this.closing) return;
    if (this.errorCode) {
      this.participants.clear();
      this.setPhase("error", this.errorCode);
      return;
    }
    if (!this.joinedOnce) {
      // The first connection failed: the server could not be reached, or
      // refused for a reason that may pass (then say so).
      this.errorCode = this.fatalMessage ? "refused" : "unreachable";
      this.setPhase("error", this.errorCode);
      return;
    }
    this.lost(ev);
  }

  lost() {
    if (!this.dropAt) this.dropAt = Date.now();
    if (Date.now() - this.dropAt > RETRY_FOR_MS) {
      this.errorCode = "server_gone";
      this.participants.clear();
      this.setPhase("error", "server_gone");
      return;
    }
    if (this.phase !== "reconnecting") this.setPhase("reconnecting");
    const delay = Math.min(3000, 250 * 2 ** this.attempt);
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // teardownMedia closes the PeerConnection and detaches every remote track.
  teardownMedia() {
    if (this.pc) {
      try { this.pc.close(); } catch { /* already closed */ }
    }
    this.pc = null;
    this.curOffer = null;
    this.publish = {};
    for (const old of this.midMap.values()) {
      this.emit("track", { participant: old.participant, source: old.source, kind: old.kind, track: null, old: old.track });
    }
    this.midMap = new Map();
  }

  leave() {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.send("leave");
    const ws = this.ws;
    this.ws = null;
    if (ws) setTimeout(() => { try { ws.close(1000); } catch { /* gone */ } }, 200);
    this.teardownMedia();
    this.chat.stopTimers();
    this.participants.clear();
    this.setPhase("left");
  }

  // stats sums inbound RTP counters per participant (confabTest.stats).
  async stats() {
    const out = {};
    const pc = this.pc;
    if (!pc) return out;
    const byTrack = new Map();
    for (const t of pc.getTransceivers()) {
      if (t.mid != null && t.receiver.track) byTrack.set(t.receiver.track.id, t.mid);
    }
    const report = await pc.getStats();
    // A reused mid can have an older stream's report too: per mid, count
    // the stream that received last.
    const latest = new Map();
    report.forEach((r) => {
      if (r.type !== "inbound-rtp") return;
      let mid = r.mid;
      if (mid == null && r.trackIdentifier) mid = byTrack.get(r.trackIdentifier);
      if (mid == null || !this.midMap.has(mid)) return;
      const prev = latest.get(mid);
      if (!prev || (r.lastPacketReceivedTimestamp || 0) > (prev.lastPacketReceivedTimestamp || 0)) latest.set(mid, r);
    });
    latest.forEach((r, mid) => {
      const m = this.midMap.get(mid);
      const o = out[m.participant] || (out[m.participant] = { videoFrames: 0, screenFrames: 0, audioEnergy: 0, audioSamples: 0 });
      if (r.kind === "video") {
        if (m.source === "screen") o.screenFrames += r.framesDecoded || 0;
        else o.videoFrames += r.framesDecoded || 0;
      } else if (r.kind === "audio") {
        o.audioEnergy += r.totalAudioEnergy || 0;
        o.audioSamples += r.totalSamplesReceived || 0;
      }
    });
    return out;
  }
}
