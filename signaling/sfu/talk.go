package sfu

import "time"

// Heard returns when id last spoke (its smoothed level above Threshold),
// zero if never or if id was forgotten. Meeting analytics bracket talk
// time with it.
func (d *SpeakerDetector) Heard(id string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l := d.levels[id]; l != nil {
		return l.heard
	}
	return time.Time{}
}
