package wire

// ICEServer is a STUN or TURN server a client may use for its
// PeerConnection, as in the WebRTC RTCIceServer dictionary: pass it to
// `new RTCPeerConnection({iceServers})` (or pion's Configuration) as is.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}
