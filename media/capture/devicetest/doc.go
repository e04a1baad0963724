// Package devicetest exercises capture with a real device driver rather
// than the mediadevices test drivers: its test opens the app's microphone
// path (mediadevices' microphone driver, miniaudio over ALSA) on a capture
// device built from ALSA plugins, so it runs without a sound card.
package devicetest
