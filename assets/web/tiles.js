// tiles.js: the call's tiles. One tile per participant's camera (the own
// one mirrored), one more for each screen share; names, mute and camera
// state, the active speaker, raised hands, reactions floating up, and a
// pinned tile shown large. Text from people is only ever set as
// textContent.

const MIC_OFF_SVG = "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M4 4l16 16";
const SVG_NS = "http://www.w3.org/2000/svg";

// REACTION_MS is how long a reaction stays on its tile; MAX_FLOATING
// bounds the reactions shown on one tile at once (the oldest go first).
export const REACTION_MS = 4000;
const MAX_FLOATING = 6;
// FLOAT_SLOTS are where reactions rise, across the tile (percent from the
// left), taken in turn so that a burst does not pile up on one spot.
const FLOAT_SLOTS = [50, 25, 75, 37, 63, 15, 85];

function icon(d, cls) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon " + cls);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", d);
  svg.appendChild(path);
  return svg;
}

function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const first = (s) => Array.from(s)[0] || "";
  const s = parts.length > 1 ? first(parts[0]) + first(parts[parts.length - 1]) : first(parts[0] || "?");
  return s.toUpperCase();
}

class Tile {
  constructor(key, kind, onPin) {
    this.key = key;
    this.kind = kind; // "camera" or "screen"
    this.track = null;
    this.el = document.createElement("div");
    this.el.className = "tile " + kind;
    this.el.tabIndex = 0;
    this.el.setAttribute("role", "button");
    this.el.setAttribute("aria-pressed", "false");
    this.el.dataset.key = key;
    this.video = document.createElement("video");
    this.video.autoplay = true;
    this.video.muted = true;
    this.video.playsInline = true;
    this.avatar = document.createElement("div");
    this.avatar.className = "avatar";
    this.avatar.setAttribute("aria-hidden", "true");
    const label = document.createElement("div");
    label.className = "tile-label";
    this.micOff = icon(MIC_OFF_SVG, "mic-off");
    this.nameEl = document.createElement("span");
    this.nameEl.className = "tile-name";
    label.append(this.micOff, this.nameEl);
    this.hand = document.createElement("div");
    this.hand.className = "hand-badge";
    this.hand.setAttribute("aria-hidden", "true"); // the tile's label says it
    this.hand.hidden = true;
    this.floats = document.createElement("div");
    this.floats.className = "reaction-layer";
    this.floats.setAttribute("aria-hidden", "true");
    this.el.append(this.video, this.avatar, label, this.hand, this.floats);
    const pin = (e) => { e.preventDefault(); onPin(this.key); };
    this.el.addEventListener("click", pin);
    this.el.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") pin(e); });
  }

  update({ id, name, mic, camera, self, speaking, pinned, mirrored, hand, hands }) {
    if (this.el.dataset.participant !== id) this.el.dataset.participant = id || "";
    const label = this.kind === "screen" ? (self ? "Your screen" : `${name}'s screen`) : (self ? `${name} (you)` : name);
    if (this.nameEl.textContent !== label) this.nameEl.textContent = label;
    const ini = initials(name);
    if (this.avatar.textContent !== ini) this.avatar.textContent = ini;
    const showVideo = !!this.track && (this.kind === "screen" || camera);
    this.el.classList.toggle("video-off", !showVideo);
    this.el.classList.toggle("muted", this.kind === "camera" && !mic);
    this.el.classList.toggle("speaking", !!speaking && this.kind === "camera");
    this.el.classList.toggle("pinned", !!pinned);
    this.video.classList.toggle("mirrored", !!mirrored);
    this.micOff.classList.toggle("hidden", this.kind !== "camera" || mic);
    this.el.setAttribute("aria-pressed", pinned ? "true" : "false");
    // hand: 0 (down) or the hand's place among the hands raised, from 1;
    // hands: how many are raised. With two or more, the place is shown.
    const handUp = this.kind === "camera" && hand > 0;
    this.hand.hidden = !handUp;
    this.el.classList.toggle("hand-up", handUp);
    const handText = handUp && hands > 1 ? `\u270B ${hand}` : "\u270B";
    if (handUp && this.hand.textContent !== handText) this.hand.textContent = handText;
    const states = [];
    if (this.kind === "camera") {
      if (handUp) states.push(hands > 1 ? `hand raised, ${hand} of ${hands}` : "hand raised");
      if (!mic) states.push("muted");
      if (!camera) states.push("camera off");
      if (speaking) states.push("speaking");
    }
    const aria = `${label}${states.length ? ", " + states.join(", ") : ""}. ${pinned ? "Pinned; press to unpin" : "Press to pin"}`;
    if (this.el.getAttribute("aria-label") !== aria) this.el.setAttribute("aria-label", aria);
  }

  // react floats emoji up over the tile for REACTION_MS.
  react(emoji) {
    while (this.floats.childElementCount >= MAX_FLOATING) this.floats.firstElementChild.remove();
    const f = document.createElement("span");
    f.className = "reaction-float";
    f.textContent = emoji;
    f.dataset.emoji = emoji;
    this.slot = this.slot || 0;
    f.style.left = `${FLOAT_SLOTS[this.slot]}%`;
    this.slot = (this.slot + 1) % FLOAT_SLOTS.length;
    this.floats.appendChild(f);
    setTimeout(() => f.remove(), REACTION_MS);
  }

  setTrack(track) {
    if (this.track === track) return;
    this.track = track;
    this.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) this.video.play().catch(() => { /* muted video: autoplay allowed */ });
  }
}

// SIZE_STEP quantizes the size a remote video is asked for (§5.1
// set_layer), to the nearest step, so that small resizes send nothing.
const SIZE_STEP = 16;

// TileGrid keeps the tiles in #grid (and the pinned one in #stage) in step
// with the call's participants. onVideoWant(participant, source, want) is
// told what each remote video is needed for: {width, height} in device
// pixels as shown, or {paused: true} while its tile is out of sight (the
// page hidden, or the tile scrolled away).
export class TileGrid {
  constructor({ root, stage, grid, onFirstFrame, onVideoWant }) {
    this.root = root;
    this.stage = stage;
    this.grid = grid;
    this.onFirstFrame = onFirstFrame;
    this.onVideoWant = onVideoWant || (() => {});
    this.visible = new Set(); // tile keys in sight
    this.sizeTimer = 0;
    if (window.IntersectionObserver) {
      this.seen = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.isIntersecting) this.visible.add(e.target.dataset.key);
          else this.visible.delete(e.target.dataset.key);
        }
        this.reportSizes();
      });
    }
    document.addEventListener("visibilitychange", () => this.reportSizes());
    this.tiles = new Map(); // key -> Tile
    this.remote = new Map(); // "id|source" -> track
    this.pinned = null;
    this.speaking = new Set();
    this.last = null;
    this.framed = new Set();
    if (window.ResizeObserver) new ResizeObserver(() => { this.fit(); this.reportSizes(); }).observe(root);
    else window.addEventListener("resize", () => { this.fit(); this.reportSizes(); });
  }

  // reportSizes tells onVideoWant, after layout, the size each
  // remote video is shown at, or that it is out of sight.
  reportSizes() {
    if (this.sizeTimer) return;
    const run = () => {
      this.sizeTimer = 0;
      const dpr = window.devicePixelRatio || 1;
      const step = (v) => Math.max(SIZE_STEP, Math.round((v * dpr) / SIZE_STEP) * SIZE_STEP);
      for (const [key, t] of this.tiles) {
        if (key === "self" || key === "screen:self" || !t.track) continue;
        const participant = t.el.dataset.participant;
        const source = t.kind === "screen" ? "screen" : "camera";
        const inSight = !document.hidden && (!this.seen || this.visible.has(key)) && t.el.isConnected;
        const w = t.video.clientWidth;
        const h = t.video.clientHeight;
        if (!inSight || w === 0 || h === 0) this.onVideoWant(participant, source, { paused: true });
        else this.onVideoWant(participant, source, { width: step(w), height: step(h) });
      }
    };
    // A timer, not requestAnimationFrame: a hidden page runs no frames,
    // and it must still say that its videos are out of sight.
    this.sizeTimer = setTimeout(run, 50);
  }

  // setLayer records on a remote tile the layer its video arrives in (§5.2
  // layer), as data-layer (and the size as data-layer-size).
  setLayer(participant, source, d) {
    const t = this.tiles.get((source === "screen" ? "screen:" : "cam:") + participant);
    if (!t) return;
    t.el.dataset.layer = d.layer;
    t.el.dataset.layerSize = d.width && d.height ? `${d.width}x${d.height}` : "";
  }

  clear() {
    for (const t of this.tiles.values()) {
      t.setTrack(null);
      t.el.remove();
      if (this.seen) this.seen.unobserve(t.el);
    }
    this.tiles.clear();
    this.visible.clear();
    this.remote.clear();
    this.pinned = null;
    this.framed.clear();
  }

  // setRemoteTrack attaches (or, with track null, detaches) a remote
  // camera or screen track; old is the track a detach is meant for.
  setRemoteTrack(participant, source, track, old) {
    const k = participant + "|" + source;
    if (track) this.remote.set(k, track);
    else if (!old || this.remote.get(k) === old) this.remote.delete(k);
    if (this.last) this.render(this.last);
  }

  pin(key) {
    this.pinned = this.pinned === key ? null : key;
    if (this.last) this.render(this.last);
  }

  setSpeakers(ids) {
    this.speaking = ids;
    if (this.last) this.render(this.last);
  }

  // react shows a reaction from participant id (selfId: your own) over
  // their camera tile; one from someone without a tile is dropped.
  react(id, emoji, selfId) {
    const t = this.tiles.get(id === selfId ? "self" : "cam:" + id);
    if (t) t.react(emoji);
  }

  tile(key, kind) {
    let t = this.tiles.get(key);
    if (!t) {
      t = new Tile(key, kind, (k) => this.pin(k));
      this.tiles.set(key, t);
      if (this.seen && key !== "self" && key !== "screen:self") this.seen.observe(t.el);
    }
    return t;
  }

  // render draws state: {you, participants, local: LocalMedia}.
  render(state) {
    this.last = state;
    const { you, participants, local } = state;
    const order = [];
    const want = new Set();
    const add = (key, kind, info, track) => {
      const t = this.tile(key, kind);
      want.add(key);
      t.setTrack(track);
      t.update({ ...info, speaking: this.speaking.has(info.id), pinned: this.pinned === key, hands: hand.size });
      order.push(t);
      return t;
    };
    const others = Array.from(participants.values()).sort((a, b) => (a.joined_at || 0) - (b.joined_at || 0));
    // Raised hands are numbered in the order they went up (hand_raised_at,
    // §5.2): hand.get(id) is the place, from 1.
    const hand = new Map();
    [...others, ...(you ? [you] : [])].filter((p) => p.hand_raised_at > 0)
      .sort((a, b) => a.hand_raised_at - b.hand_raised_at)
      .forEach((p, i) => hand.set(p.id, i + 1));
    // Screen shares first: they are what people look at.
    if (local.screen && local.screen.readyState === "live") {
      add("screen:self", "screen", { id: you ? you.id : "", name: you ? you.name : "You", self: true, mic: true, camera: true }, local.screen);
    }
    for (const p of others) {
      const tr = this.remote.get(p.id + "|screen") || null;
      if (p.screen) add("screen:" + p.id, "screen", { id: p.id, name: p.name, mic: p.mic, camera: p.camera }, tr);
    }
    if (you) {
      add("self", "camera", { id: you.id, name: you.name, self: true, mirrored: true, mic: !!local.trackFor("microphone"), camera: !!local.trackFor("camera"), hand: hand.get(you.id) || 0 }, local.trackFor("camera"));
    }
    for (const p of others) {
      const tr = this.remote.get(p.id + "|camera") || null;
      const t = add("cam:" + p.id, "camera", { id: p.id, name: p.name, mic: p.mic, camera: p.camera, hand: hand.get(p.id) || 0 }, tr);
      if (tr && !this.framed.has(p.id) && t.video.requestVideoFrameCallback) {
        this.framed.add(p.id);
        t.video.requestVideoFrameCallback(() => this.onFirstFrame(p.id, performance.now()));
      }
    }
    for (const [key, t] of this.tiles) {
      if (!want.has(key)) {
        t.setTrack(null);
        t.el.remove();
        this.tiles.delete(key);
        if (this.seen) this.seen.unobserve(t.el);
        this.visible.delete(key);
      }
    }
    if (this.pinned && !want.has(this.pinned)) this.pinned = null;
    // Place tiles in order: appendChild moves nodes without pausing video,
    // but a moved node loses focus, which is given back.
    const active = document.activeElement;
    this.root.classList.toggle("has-pin", !!this.pinned); // the stage shows first: focus needs it
    let prev = null;
    for (const t of order) {
      const parent = t.key === this.pinned ? this.stage : this.grid;
      if (t.el.parentNode !== parent || (parent === this.grid && t.el.previousElementSibling !== prev)) {
        if (parent === this.grid) {
          const next = prev ? prev.nextElementSibling : this.grid.firstElementChild;
          this.grid.insertBefore(t.el, next);
        } else {
          this.stage.appendChild(t.el);
        }
      }
      if (parent === this.grid) prev = t.el;
    }
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
    this.count = order.length - (this.pinned ? 1 : 0);
    this.fit();
    this.reportSizes();
  }

  // fit picks the column count that gives the largest 16:9 tiles in the
  // space there is; a narrow phone screen gets one column.
  fit() {
    const n = Math.max(1, this.count || 1);
    if (this.pinned) {
      this.grid.style.removeProperty("--cols");
      this.grid.style.removeProperty("--rows");
      return;
    }
    const w = this.grid.clientWidth || this.root.clientWidth || 1;
    const h = this.grid.clientHeight || this.root.clientHeight || 1;
    let best = 1;
    let bestSize = 0;
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const size = Math.min(w / cols, (h / rows) * (16 / 9));
      if (size > bestSize + 0.5) { best = cols; bestSize = size; }
    }
    this.grid.style.setProperty("--cols", String(best));
    this.grid.style.setProperty("--rows", String(Math.ceil(n / best)));
  }
}
