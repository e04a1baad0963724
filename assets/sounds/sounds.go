// Package sounds holds the short notification sounds of the app, as
// 48 kHz mono 16-bit WAV files made by gensounds.py.
package sounds

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
)

// Names of the sounds.
const (
	Join  = "join"  // someone joined the call: a rising two-note chime
	Leave = "leave" // someone left: a falling one
	Hand  = "hand"  // someone raised their hand: two short high pings
	Ring  = "ring"  // a call is coming in: a soft five-note phrase, repeated while it rings
)

// SampleRate is the rate of every sound.
const SampleRate = 48000

var (
	//go:embed join.wav
	joinWAV []byte
	//go:embed leave.wav
	leaveWAV []byte
	//go:embed hand.wav
	handWAV []byte
	//go:embed ring.wav
	ringWAV []byte
)

// ErrFormat means a WAV file is not 48 kHz mono 16-bit PCM.
var ErrFormat = errors.New("sounds: not 48 kHz mono 16-bit PCM WAV")

// PCM returns the samples of the sound called name, nil for an unknown
// name.
func PCM(name string) []int16 {
	var wav []byte
	switch name {
	case Join:
		wav = joinWAV
	case Leave:
		wav = leaveWAV
	case Hand:
		wav = handWAV
	case Ring:
		wav = ringWAV
	default:
		return nil
	}
	pcm, err := Decode(wav)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return pcm
}

// Decode reads a 48 kHz mono 16-bit PCM WAV file.
func Decode(wav []byte) ([]int16, error) {
	if len(wav) < 12 || string(wav[0:4]) != "RIFF" || string(wav[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	var fmtOK bool
	for p := 12; p+8 <= len(wav); {
		id, size := string(wav[p:p+4]), int(binary.LittleEndian.Uint32(wav[p+4:p+8]))
		body := wav[p+8:]
		if size > len(body) {
			return nil, fmt.Errorf("%w: chunk %q runs past the end", ErrFormat, id)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body[0:2]) != 1 || binary.LittleEndian.Uint16(body[2:4]) != 1 ||
				binary.LittleEndian.Uint32(body[4:8]) != SampleRate || binary.LittleEndian.Uint16(body[14:16]) != 16 {
				return nil, ErrFormat
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, fmt.Errorf("%w: data before fmt", ErrFormat)
			}
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, nil
		}
		p += 8 + size + size%2
	}
	return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
}
