// media.js: the local camera, microphone and screen, and the lists of
// devices to choose from. One LocalMedia lives from the entry screen
// through the call, so the choices made before joining carry over.

const VIDEO = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

// describeError turns a getUserMedia failure into plain words.
export function describeError(e, what) {
  switch (e && e.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `Permission to use the ${what} was refused. You can join without ${what.includes(" and ") ? "them" : "it"}, or allow ${what.includes(" and ") ? "them" : "it"} in the browser's site settings and reload the page.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No ${what} was found.`;
    case "NotReadableError":
    case "AbortError":
      return `The ${what} is in use by another program or could not be started.`;
    default:
      return `The ${what} could not be started${e && e.message ? ": " + e.message : "."}`;
  }
}

export class LocalMedia {
  constructor() {
    this.mic = null; // MediaStreamTrack, kept while muted
    this.camera = null; // MediaStreamTrack, stopped when the camera is off
    this.screen = null;
    this.micOn = true;
    this.cameraOn = true;
    this.micId = "";
    this.cameraId = "";
    this.micError = null;
    this.cameraError = null;
    this.onChange = () => {};
    this.starting = false;
    this.ready = Promise.resolve();
  }

  // trackFor is what the session publishes for source, or null.
  trackFor(source) {
    const live = (t) => (t && t.readyState === "live" ? t : null);
    if (source === "microphone") return this.micOn ? live(this.mic) : null;
    if (source === "camera") return this.cameraOn ? live(this.camera) : null;
    if (source === "screen") return live(this.screen);
    return null;
  }

  // acquire asks for the camera and microphone together (one prompt),
  // then one by one if that fails for a reason other than a refusal.
  // start asks for the camera and microphone; ready resolves when it is
  // done, whatever the answer.
  start() {
    this.starting = true;
    this.onChange();
    this.ready = this.acquire().finally(() => {
      this.starting = false;
      this.onChange();
    });
    return this.ready;
  }

  async acquire() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.micError = this.cameraError = "This browser cannot use a camera or microphone here (a secure https:// address is needed).";
      this.micOn = this.cameraOn = false;
      return;
    }
    const wantVideo = this.cameraOn;
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints(), video: wantVideo ? this.videoConstraints() : false });
      this.setMic(s.getAudioTracks()[0] || null);
      if (wantVideo) this.setCamera(s.getVideoTracks()[0] || null);
    } catch (e) {
      if (e.name === "NotAllowedError" || e.name === "SecurityError") {
        // One refusal covers both: one message for both.
        this.micError = this.cameraError = wantVideo ? describeError(e, "camera and microphone") : describeError(e, "microphone");
        this.micOn = this.cameraOn = false;
      } else {
        await this.startMic().catch(() => {});
        if (wantVideo) await this.startCamera().catch(() => {});
      }
    }
    this.onChange();
  }

  audioConstraints() { return this.micId ? { ...AUDIO, deviceId: { exact: this.micId } } : AUDIO; }
  videoConstraints() { return this.cameraId ? { ...VIDEO, deviceId: { exact: this.cameraId } } : VIDEO; }

  setMic(t) {
    if (this.mic && this.mic !== t) this.mic.stop();
    this.mic = t;
    if (t) {
      this.micError = null;
      this.micId = t.getSettings().deviceId || this.micId;
    }
  }

  setCamera(t) {
    if (this.camera && this.camera !== t) this.camera.stop();
    this.camera = t;
    if (t) {
      this.cameraError = null;
      this.cameraId = t.getSettings().deviceId || this.cameraId;
      t.addEventListener("ended", () => { if (this.camera === t) { this.camera = null; this.cameraOn = false; this.onChange(); } });
    }
  }

  async startMic() {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
      this.setMic(s.getAudioTracks()[0]);
      this.micOn = true;
    } catch (e) {
      this.micError = describeError(e, "microphone");
      this.micOn = false;
      throw e;
    } finally {
      this.onChange();
    }
  }

  async startCamera() {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints() });
      this.setCamera(s.getVideoTracks()[0]);
      this.cameraOn = true;
    } catch (e) {
      this.cameraError = describeError(e, "camera");
      this.cameraOn = false;
      throw e;
    } finally {
      this.onChange();
    }
  }

  // stopCamera turns the camera off and its light with it.
  stopCamera() {
    this.cameraOn = false;
    if (this.camera) this.camera.stop();
    this.camera = null;
    this.onChange();
  }

  // setMicOn mutes or unmutes; a muted microphone's track is kept (and
  // disabled) so unmuting is instant. Without a track, unmuting asks for one.
  async setMicOn(on) {
    if (on && !(this.mic && this.mic.readyState === "live")) {
      await this.startMic();
      return;
    }
    this.micOn = on;
    if (this.mic) this.mic.enabled = on;
    this.onChange();
  }

  async startScreen() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
      throw new Error("This browser cannot share the screen.");
    }
    const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const t = s.getVideoTracks()[0];
    if ("contentHint" in t) t.contentHint = "detail";
    this.screen = t;
    this.onChange();
    return t;
  }

  stopScreen() {
    if (this.screen) this.screen.stop();
    this.screen = null;
    this.onChange();
  }

  // useDevice switches the microphone or camera to the device with id.
  async useDevice(kind, id) {
    if (kind === "audioinput") {
      this.micId = id;
      if (this.mic) {
        const on = this.micOn;
        await this.startMic();
        this.micOn = on;
        if (this.mic) this.mic.enabled = on;
      }
    } else {
      this.cameraId = id;
      if (this.cameraOn) await this.startCamera();
    }
  }

  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return [];
    try {
      return await navigator.mediaDevices.enumerateDevices();
    } catch {
      return [];
    }
  }

  stopAll() {
    for (const t of [this.mic, this.camera, this.screen]) if (t) t.stop();
    this.mic = this.camera = this.screen = null;
  }
}
