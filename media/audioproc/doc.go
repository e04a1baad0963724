// Package audioproc is the microphone's audio processing stage: acoustic
// echo cancellation (AEC) against what the app plays out, noise
// suppression (NS) and automatic gain control (AGC), on 10 ms frames of
// mono 16-bit audio at 48 kHz, between capture and the Opus encoder.
//
// It wraps a maintained implementation through cgo, so it is client side
// only (the server never imports it and builds with CGO_ENABLED=0):
//
//   - EngineWebRTC, the default: the WebRTC project's AudioProcessing
//     module (Debian libwebrtc-audio-processing, pkg-config
//     webrtc-audio-processing), the canceller browsers ship.
//   - EngineSpeex: speexdsp's MDF echo canceller and preprocessor
//     (Debian libspeexdsp), built only with -tags speex, for comparison
//     (scripts/bench-audio.sh measures both).
//
// A Processor has two sides. The playout side hands it every sample it
// mixes for the speaker with ProcessRender (the far-end reference); the
// capture side runs each microphone chunk through ProcessCapture. The
// processor keeps the reference in a delay line whose length follows the
// delays the app knows (SetRenderDelay, SetCaptureDelay: buffer sizes),
// and the engine finds the rest (the room, the sound card's hidden
// buffers) itself. The WebRTC canceller, when it is turned on, first hears
// 300 ms of a quiet room, so that its comfort noise starts low and it
// converges from the first frame (see primeDBFS).
package audioproc
