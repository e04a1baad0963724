package main

// UseSpeaker moves the call's sound to speaker id at once.
func (c *call) UseSpeaker(id string) error { return c.media.UseSpeaker(id) }
