package clientmedia

// SetCameraID chooses the camera the next OpenCamera opens; a camera on
// now keeps running until it is reopened.
func (m *Media) SetCameraID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cameraID = id
}

// SetMicID chooses the microphone the next OpenMicrophone opens.
func (m *Media) SetMicID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.micID = id
}

// SetScreenID chooses the screen the next OpenScreen shares ("" for the
// default one).
func (m *Media) SetScreenID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.screenID = id
}
