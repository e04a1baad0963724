// audio.js: remote sound. Each participant's microphone plays in its own
// <audio> element; when the browser's autoplay policy holds sound back, a
// banner asks for the click that lets it play.

// AudioSink plays each participant's microphone in its own <audio>.
export class AudioSink {
  constructor(root, banner) {
    this.root = root;
    this.banner = banner; // shown when the browser holds back autoplay
    this.els = new Map(); // participant -> {el, track}
    this.blocked = false;
  }

  set(participant, track, old) {
    let a = this.els.get(participant);
    if (!track) {
      if (a && (!old || a.track === old)) {
        a.el.srcObject = null;
        a.el.remove();
        this.els.delete(participant);
      }
      return;
    }
    if (!a) {
      const el = document.createElement("audio");
      el.autoplay = true;
      el.dataset.participant = participant;
      this.root.appendChild(el);
      a = { el, track: null };
      this.els.set(participant, a);
    }
    if (a.track === track) return;
    a.track = track;
    a.el.srcObject = new MediaStream([track]);
    this.play(a.el);
  }

  play(el) {
    const p = el.play();
    if (p && p.catch) {
      p.catch((e) => {
        if (e && e.name === "NotAllowedError") {
          this.blocked = true;
          this.banner.hidden = false;
        }
      });
    }
  }

  resume() {
    this.blocked = false;
    this.banner.hidden = true;
    for (const a of this.els.values()) this.play(a.el);
  }

  prune(participants) {
    for (const id of Array.from(this.els.keys())) {
      if (!participants.has(id)) this.set(id, null);
    }
  }

  clear() {
    for (const id of Array.from(this.els.keys())) this.set(id, null);
    this.banner.hidden = true;
  }
}
