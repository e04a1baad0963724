// guest.js: see index.html. Plain protocol, no retries, no reconnect.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const st = {phase: "entry", you: "", error: "", participants: [], chat: [], protocolViolations: []};
  const times = {joinClicked: 0, joined: 0, firstFrame: {}};
  const frames = {}; // pid -> {videoFrames, screenFrames}
  let ws = null, pc = null, mic = null, cam = null, screen = null;
  let publish = {}, owners = {};
  let queue = Promise.resolve();
  const send = (type, data) => ws.send(JSON.stringify(data === undefined ? {v: 1, type} : {v: 1, type, data}));
  const violation = what => { if (!st.protocolViolations.includes(what)) st.protocolViolations.push(what); };
  const setParticipant = p => {
    const i = st.participants.findIndex(q => q.id === p.id);
    const v = {id: p.id, name: p.name, mic: p.mic, camera: p.camera, screen: p.screen};
    if (i < 0) st.participants.push(v); else st.participants[i] = v;
  };
  const addChat = m => {
    const i = st.chat.findIndex(c => c.from === m.from && c.id === m.id);
    const v = {seq: m.seq, id: m.id, from: m.from, name: m.name, text: m.text, status: "sent"};
    if (i < 0) st.chat.push(v); else st.chat[i] = v;
    const div = document.createElement("div");
    div.textContent = m.name + ": " + m.text;
    $("chat").append(div);
  };
  const count = (pid, key) => {
    const f = frames[pid] || (frames[pid] = {videoFrames: 0, screenFrames: 0});
    f[key]++;
    if (key === "videoFrames" && !times.firstFrame[pid]) times.firstFrame[pid] = performance.now();
  };

  function onTrack(e) {
    const mid = e.transceiver.mid;
    const o = owners[mid] || {participant: (e.streams[0] || {}).id, source: e.track.id.split(":")[0]};
    if (publish[mid]) violation("remote track on publish mid " + mid);
    const stream = new MediaStream([e.track]);
    if (e.track.kind === "audio") {
      const a = document.createElement("audio");
      a.autoplay = true; a.srcObject = stream; document.body.append(a);
      return;
    }
    const v = document.createElement("video");
    v.muted = true; v.autoplay = true; v.playsInline = true; v.srcObject = stream;
    v.title = o.participant + " " + o.source;
    $("tiles").append(v);
    const key = o.source === "screen" ? "screenFrames" : "videoFrames";
    const tick = () => { count(o.participant, key); v.requestVideoFrameCallback(tick); };
    v.requestVideoFrameCallback(tick);
    e.track.onended = () => v.remove();
  }

  async function onOffer(d) {
    if (!pc) {
      pc = new RTCPeerConnection();
      pc.ontrack = onTrack;
    }
    publish = d.publish || {};
    owners = d.tracks || {};
    for (const mid of Object.keys(owners)) if (publish[mid]) violation("mid " + mid + " both in publish and tracks");
    await pc.setRemoteDescription({type: "offer", sdp: d.sdp});
    for (const t of pc.getTransceivers()) {
      const source = publish[t.mid];
      if (!source) continue;
      const track = source === "microphone" ? mic : source === "camera" ? cam : screen;
      await t.sender.replaceTrack(track);
      t.direction = track ? "sendonly" : "inactive";
    }
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== "complete") {
      await new Promise(r => pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r()));
    }
    send("answer", {sdp: pc.localDescription.sdp});
  }

  function onMessage(ev) {
    const m = JSON.parse(ev.data);
    const d = m.data || {};
    switch (m.type) {
    case "joined":
      st.you = d.you.id; st.phase = "call"; times.joined = performance.now();
      setParticipant(d.you);
      (d.participants || []).forEach(setParticipant);
      (d.chat || []).forEach(addChat);
      break;
    case "offer": queue = queue.then(() => onOffer(d)).catch(e => { st.error = String(e); }); break;
    case "participant_joined": case "participant_updated": setParticipant(d.participant); break;
    case "participant_left": st.participants = st.participants.filter(p => p.id !== d.id); break;
    case "chat": addChat(d.message); break;
    case "error": st.error = d.code + ": " + d.message; if (d.fatal) st.phase = "error"; break;
    case "layer": // §5.3: which layer of a simulcast track this page is sent
      if (st.phase !== "call") violation("layer before joined");
      if (typeof d.track !== "string" || typeof d.layer !== "string") violation("layer without track and layer");
      break;
    case "speakers": case "history": case "reaction": case "recording": break;
    default: violation("unknown message type " + m.type);
    }
  }

  $("join").onclick = async () => {
    times.joinClicked = performance.now();
    st.phase = "joining";
    try {
      const s = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 480}});
      mic = s.getAudioTracks()[0]; cam = s.getVideoTracks()[0];
      const room = $("room").value, name = $("name").value;
      const r = await fetch("/api/token?room=" + encodeURIComponent(room) + "&name=" + encodeURIComponent(name));
      const tok = await r.json();
      if (!r.ok) throw new Error(tok.message);
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
      ws.onmessage = onMessage;
      ws.onclose = () => { if (st.phase === "call" || st.phase === "joining") st.phase = "left"; };
      ws.onopen = () => send("join", {token: tok.token, room, mic: true, camera: true});
    } catch (e) {
      st.phase = "error"; st.error = String(e);
    }
  };
  $("share").onclick = async () => {
    const s = await navigator.mediaDevices.getDisplayMedia({video: true});
    screen = s.getVideoTracks()[0];
    send("set_source", {source: "screen", enabled: true});
  };
  $("mute").onclick = () => { mic.enabled = !mic.enabled; send("set_source", {source: "microphone", enabled: mic.enabled}); };
  $("camera").onclick = () => { cam.enabled = !cam.enabled; send("set_source", {source: "camera", enabled: cam.enabled}); };
  $("leave").onclick = () => {
    send("leave");
    st.phase = "left";
    if (pc) pc.close();
    [mic, cam, screen].forEach(t => t && t.stop());
  };
  $("chat-toggle").onclick = () => { $("chat").hidden = !$("chat").hidden; };
  $("chat-send").onclick = () => {
    const text = $("chat-input").value;
    if (!text) return;
    const id = "p" + Math.random().toString(36).slice(2, 12);
    st.chat.push({seq: 0, id, from: st.you, name: $("name").value, text, status: "sending"});
    send("chat", {id, text});
    $("chat-input").value = "";
  };

  window.confabTest = {
    state: () => JSON.parse(JSON.stringify(st)),
    timings: () => JSON.parse(JSON.stringify(times)),
    async stats() {
      const out = {};
      for (const [pid, f] of Object.entries(frames)) out[pid] = {videoFrames: f.videoFrames, screenFrames: f.screenFrames, audioEnergy: 0, audioSamples: 0};
      if (!pc) return out;
      const rep = await pc.getStats();
      rep.forEach(r => {
        if (r.type !== "inbound-rtp") return;
        if (publish[r.mid] && r.packetsReceived > 0) violation("media received on publish mid " + r.mid);
        const o = owners[r.mid];
        if (!o || r.kind !== "audio") return;
        const s = out[o.participant] || (out[o.participant] = {videoFrames: 0, screenFrames: 0, audioEnergy: 0, audioSamples: 0});
        s.audioEnergy += r.totalAudioEnergy || 0;
        s.audioSamples += r.totalSamplesReceived || 0;
      });
      return out;
    },
  };
})();
