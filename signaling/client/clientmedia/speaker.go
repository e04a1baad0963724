package clientmedia

// UseSpeaker moves what the call plays to the speaker with id (from
// playout.Devices; "" for the default) at once, while audio flows. If the
// device cannot be opened, sound stays where it was and the error says
// why. The echo canceller keeps its reference: it is the mix, whatever
// device plays it.
func (m *Media) UseSpeaker(id string) error { return m.player.UseDevice(id) }
