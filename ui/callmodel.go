package ui

import (
	"slices"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// screenSuffix marks the tile key of a screen share.
const screenSuffix = ":screen"

// tileKey names the tile of a participant's camera or screen share.
func tileKey(participantID string, screen bool) string {
	if screen {
		return participantID + screenSuffix
	}
	return participantID
}

// tileSpec is what one tile should show.
type tileSpec struct {
	Key           string
	ParticipantID string
	Name          string
	Screen        bool
	Self          bool
	MicMuted      bool
	CameraOff     bool
	Speaking      bool
	// Hand is the place of their raised hand in the order hands went up,
	// 0 when it is down.
	Hand  int
	Video client.VideoSource
}

// callModel is the state of a call built from the session's events, with
// no widgets: who is here, their videos, who speaks and what is pinned.
// It is owned by the UI goroutine.
type callModel struct {
	state    client.State
	stateErr error
	room     string
	selfID   string
	self     client.Participant

	people  map[string]client.Participant
	order   []string // participant ids in join order
	videos  map[string]client.VideoSource
	speaker string

	pinned     string          // tile key, "" for the grid
	userPinned bool            // pinned by a click rather than automatically
	dismissed  map[string]bool // shares the user unpinned: not auto-pinned again
}

func newCallModel() *callModel {
	return &callModel{
		state:     client.StateConnecting,
		people:    map[string]client.Participant{},
		videos:    map[string]client.VideoSource{},
		dismissed: map[string]bool{},
	}
}

// apply updates the model with one event and reports whether the tiles
// may have changed. Chat events are not the model's business.
func (m *callModel) apply(ev client.Event) bool {
	switch e := ev.(type) {
	case client.Welcome:
		m.room = e.Room
		m.selfID = e.You.ID
		m.self = e.You
		old := m.people
		m.people = map[string]client.Participant{}
		m.order = m.order[:0]
		m.put(e.You)
		for _, p := range e.Participants {
			m.put(p)
		}
		for id := range old {
			if _, ok := m.people[id]; !ok {
				m.dropVideos(id)
			}
		}
		if m.state == client.StateConnecting || m.state == client.StateReconnecting {
			m.state = client.StateConnected
			m.stateErr = nil
		}
	case client.StateChanged:
		m.state = e.State
		m.stateErr = e.Err
		return false
	case client.ParticipantJoined:
		m.put(e.Participant)
	case client.ParticipantUpdated:
		m.put(e.Participant)
	case client.ParticipantLeft:
		if _, ok := m.people[e.ID]; !ok {
			return false
		}
		delete(m.people, e.ID)
		m.order = slices.DeleteFunc(m.order, func(id string) bool { return id == e.ID })
		m.dropVideos(e.ID)
		if m.speaker == e.ID {
			m.speaker = ""
		}
	case client.VideoAdded:
		m.videos[tileKey(e.ParticipantID, e.Source == wire.SourceScreen)] = e.Video
	case client.VideoRemoved:
		delete(m.videos, tileKey(e.ParticipantID, e.Source == wire.SourceScreen))
	case client.SpeakersChanged:
		speaker := ""
		if len(e.Speakers) > 0 {
			speaker = e.Speakers[0].ID
		}
		if speaker == m.speaker {
			return false
		}
		m.speaker = speaker
	default:
		return false
	}
	m.fixPin()
	return true
}

// knows reports whether participant id is in the call.
func (m *callModel) knows(id string) bool {
	_, ok := m.people[id]
	return ok
}

// put adds or updates a participant, keeping the join order.
func (m *callModel) put(p client.Participant) {
	if p.ID == "" {
		return
	}
	if _, ok := m.people[p.ID]; !ok {
		m.order = append(m.order, p.ID)
	}
	m.people[p.ID] = p
	if p.ID == m.selfID {
		m.self = p
	}
}

// dropVideos forgets the videos of a participant who left.
func (m *callModel) dropVideos(id string) {
	delete(m.videos, tileKey(id, false))
	delete(m.videos, tileKey(id, true))
}

// setSelf changes the user's own mic, camera or screen state before the
// server confirms it, so the controls answer at once.
func (m *callModel) setSelf(f func(p *client.Participant)) {
	p, ok := m.people[m.selfID]
	if !ok {
		p = m.self
	}
	f(&p)
	m.self = p
	if ok {
		m.people[m.selfID] = p
	}
	m.fixPin()
}

// hasScreen reports whether participant p has a screen-share tile.
func (m *callModel) hasScreen(p client.Participant) bool {
	return p.Screen || m.videos[tileKey(p.ID, true)] != nil
}

// tiles lists the tiles to show: screen shares first, then the user,
// then everyone else in the order they joined.
func (m *callModel) tiles() []tileSpec {
	var shares, cams []tileSpec
	hands := m.handOrder()
	add := func(id string) {
		p, ok := m.people[id]
		if !ok {
			return
		}
		self := id == m.selfID
		if m.hasScreen(p) {
			video := m.videos[tileKey(id, true)]
			if self {
				// Your own screen drawn on your screen would show itself
				// over and over: the tile says you are sharing instead.
				video = nil
			}
			shares = append(shares, tileSpec{Key: tileKey(id, true), ParticipantID: id, Name: p.Name, Screen: true, Self: self,
				Video: video})
		}
		cams = append(cams, tileSpec{Key: tileKey(id, false), ParticipantID: id, Name: p.Name, Self: self,
			MicMuted: !p.Mic, CameraOff: !p.Camera, Speaking: id == m.speaker, Hand: hands[id], Video: m.videos[tileKey(id, false)]})
	}
	if m.selfID != "" {
		add(m.selfID)
	}
	for _, id := range m.order {
		if id != m.selfID {
			add(id)
		}
	}
	if len(cams) > 0 && cams[0].Self && len(shares) > 0 && shares[0].Self {
		// Keep the user's own share after other people's shares.
		shares = append(shares[1:], shares[0])
	}
	return append(shares, cams...)
}

// hasTile reports whether a tile with key exists.
func (m *callModel) hasTile(key string) bool {
	for _, t := range m.tiles() {
		if t.Key == key {
			return true
		}
	}
	return false
}

// fixPin unpins a tile that went away and pins a newly shared screen of
// someone else, unless the user pinned something or unpinned that share.
func (m *callModel) fixPin() {
	tiles := m.tiles()
	exists := map[string]bool{}
	for _, t := range tiles {
		exists[t.Key] = true
	}
	for k := range m.dismissed {
		if !exists[k] {
			delete(m.dismissed, k) // a new share later may be auto-pinned again
		}
	}
	if m.pinned != "" && !exists[m.pinned] {
		m.pinned, m.userPinned = "", false
	}
	if m.userPinned {
		return
	}
	if m.pinned != "" && m.isScreenKey(m.pinned) {
		return
	}
	for _, t := range tiles {
		if t.Screen && !t.Self && !m.dismissed[t.Key] {
			m.pinned = t.Key
			return
		}
	}
}

// isScreenKey reports whether key names a screen-share tile.
func (m *callModel) isScreenKey(key string) bool {
	return len(key) > len(screenSuffix) && key[len(key)-len(screenSuffix):] == screenSuffix
}

// togglePin pins the tile with key, or unpins it if it is pinned.
func (m *callModel) togglePin(key string) {
	if m.pinned == key {
		if m.isScreenKey(key) {
			m.dismissed[key] = true
		}
		m.pinned, m.userPinned = "", false
		return
	}
	if !m.hasTile(key) {
		return
	}
	m.pinned, m.userPinned = key, true
}

// featured is the tile a speaker view shows large when nothing is pinned:
// the active speaker, else the first other person's camera, else your own.
func (m *callModel) featured() string {
	tiles := m.tiles()
	if m.speaker != "" && m.speaker != m.selfID && m.hasTile(tileKey(m.speaker, false)) {
		return tileKey(m.speaker, false)
	}
	for _, t := range tiles {
		if !t.Self {
			return t.Key
		}
	}
	if len(tiles) > 0 {
		return tiles[0].Key
	}
	return ""
}
