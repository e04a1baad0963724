// probe.js exercises what the browser tests rely on: fake camera and
// microphone, screen capture without a prompt, and a WebRTC call between
// two peer connections in this page, recording every ICE candidate.
"use strict";
window.probe = {
  async media() {
    const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    document.getElementById("v").srcObject = s;
    return s.getTracks().map(t => t.kind + ":" + t.label);
  },
  async screen() {
    const s = await navigator.mediaDevices.getDisplayMedia({video: true, audio: false});
    const t = s.getVideoTracks()[0];
    const st = t.getSettings();
    const v = document.createElement("video");
    v.muted = true; v.srcObject = s; await v.play();
    let frames = 0;
    const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
    v.requestVideoFrameCallback(tick);
    await new Promise(r => setTimeout(r, 2000));
    t.stop();
    return {label: t.label, surface: st.displaySurface || "", width: st.width || 0, frames};
  },
  async loop() {
    const cands = [];
    const a = new RTCPeerConnection(), b = new RTCPeerConnection();
    a.onicecandidate = e => { if (e.candidate) { cands.push(e.candidate.candidate); b.addIceCandidate(e.candidate); } };
    b.onicecandidate = e => { if (e.candidate) { cands.push(e.candidate.candidate); a.addIceCandidate(e.candidate); } };
    const s = await navigator.mediaDevices.getUserMedia({video: true});
    s.getTracks().forEach(t => a.addTrack(t, s));
    let frames = 0;
    b.ontrack = e => {
      const v = document.createElement("video");
      v.muted = true; v.srcObject = e.streams[0]; v.play();
      const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
      v.requestVideoFrameCallback(tick);
    };
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    const t0 = performance.now();
    while (frames < 10 && performance.now() - t0 < 20000) await new Promise(r => setTimeout(r, 100));
    a.close(); b.close();
    return {frames, cands};
  },
};
