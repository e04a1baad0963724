package clientmedia

import "github.com/confab/confab/media/capture"

// audioReserve is what SetSendBudget leaves for the microphone: Opus at
// capture's rate plus RTP/UDP/IP headers at 50 packets a second.
const audioReserve = capture.DefaultAudioBitRate + 50*(12+8+20)*8

// SetSendBudget shares bps, what the connection may send now (the
// session's congestion-control estimate, client.Session.OnSendEstimate),
// among the video encoders: the microphone's share is set aside, a screen
// share gets up to two thirds of the rest (text must stay readable), the
// camera what is left, which its simulcast layers share (the top layers
// stop when it is too little for them: capture.VideoTrack.SetBitRate);
// neither above its configured bit rate nor below capture.MinVideoBitRate. It is safe from any goroutine and returns at
// once: the encoders take the new target with their next frame.
func (m *Media) SetSendBudget(bps int) {
	m.mu.Lock()
	cam, scr := m.camera, m.screen
	m.mu.Unlock()
	left := bps - audioReserve
	if scr != nil && !ended(scr) {
		s := min(scr.ConfiguredBitRate(), max(left*2/3, capture.MinVideoBitRate))
		scr.SetBitRate(s)
		left -= s
	}
	if cam != nil && !ended(cam) {
		cam.SetBitRate(min(cam.ConfiguredBitRate(), max(left, capture.MinVideoBitRate)))
	}
}

// ended reports whether t has stopped delivering (closed, or the device
// went away).
func ended(t *capture.VideoTrack) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}
