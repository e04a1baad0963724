package wire

// Recording a room (PROTOCOL.md §5.1 start_recording and stop_recording,
// §5.2 recording). The server records a room from its first join when
// its --record policy names the room, or when a participant whose token
// has the admin grant asks; everyone in the room is told with a
// recording event, and joined.recording tells who joins a recorded room
// before any media flows.
const (
	TypeStartRecording = "start_recording" // client -> server
	TypeStopRecording  = "stop_recording"  // client -> server
	TypeRecording      = "recording"       // server -> client
)

// CodeRecordingUnavailable refuses start_recording on a server that has
// nowhere to put recordings.
const CodeRecordingUnavailable = "recording_unavailable"

// Why a recording started or stopped (Recording.Reason).
const (
	RecordingAdmin      = "admin"          // an admin started or stopped it (By names them)
	RecordingPolicy     = "policy"         // the server records this room (--record)
	RecordingDiskFull   = "disk_full"      // writing stopped: the disk is full
	RecordingWriteError = "write_error"    // writing stopped: another write error
	RecordingMeetingEnd = "meeting_ended"  // the last participant left
	RecordingServerStop = "server_stopped" // the server is shutting down
)

// Recording tells the room that recording started or stopped; the server
// also sends it to one admin alone when a start or stop changes nothing,
// with the current state.
type Recording struct {
	// Active is true while the room is recorded.
	Active bool `json:"active"`
	// Reason is one of the Recording* reasons.
	Reason string `json:"reason"`
	// By and ByName are the admin's identity and name for reason
	// "admin"; absent otherwise.
	By     string `json:"by,omitempty"`
	ByName string `json:"by_name,omitempty"`
	// Since is when the current recording started (Unix ms), while
	// Active.
	Since int64 `json:"since,omitempty"`
}
