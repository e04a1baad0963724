package sfubench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/client"
)

// confabServer runs confab-server (its binary in CONFAB_SERVER_BIN).
type confabServer struct {
	bin  string
	cmd  *exec.Cmd
	url  string
	dir  string
	room string
}

func (s *confabServer) name() string { return "confab" }

func (s *confabServer) start(dir string, profile string) error {
	http, udp := freePort("tcp"), freePort("udp")
	s.url = fmt.Sprintf("http://127.0.0.1:%d", http)
	s.dir = dir
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", http), "--udp-port", fmt.Sprint(udp),
		"--data", filepath.Join(dir, "data"), "--open", "--log-level", "error", "--max-participants", "64"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	return waitHTTP(s.url + "/healthz")
}

func (s *confabServer) pid() int { return s.cmd.Process.Pid }
func (s *confabServer) stop()    { stopProcess(s.cmd) }

// clipMedia gives the session the pump's track as its camera.
type clipMedia struct{ track *webrtc.TrackLocalStaticRTP }

type clipTrack struct{ *webrtc.TrackLocalStaticRTP }

func (clipTrack) Close() error { return nil }

var errNoSource = errors.New("sfubench: no such source")

func (m clipMedia) OpenCamera() (client.LocalTrack, error) { return clipTrack{m.track}, nil }
func (clipMedia) OpenMicrophone() (client.LocalTrack, error) {
	return nil, errNoSource
}
func (clipMedia) OpenScreen() (client.LocalTrack, error) { return nil, errNoSource }

func (s *confabServer) publish(ctx context.Context, track *webrtc.TrackLocalStaticRTP) (func(), error) {
	sess, err := client.Join(ctx, client.Config{Server: s.url, Room: "bench", Name: "Publisher", Camera: true,
		Media: clipMedia{track}, LoopbackOnly: true, ReconnectFor: -1})
	if err != nil {
		return nil, err
	}
	go drainEvents(sess)
	return func() { _ = sess.Leave() }, nil
}

// countingDecoders counts video packets instead of decoding them.
type countingDecoders struct{ c *counter }

type countingVideo struct{ c *counter }

func (d countingDecoders) NewVideoDecoder(func()) (client.VideoDecoder, error) {
	return countingVideo(d), nil
}
func (countingDecoders) NewAudioDecoder() (client.AudioDecoder, error) { return nopAudio{}, nil }

func (v countingVideo) Push(*rtp.Packet) error   { v.c.add(); return nil }
func (countingVideo) FramesDecoded() uint64      { return 0 }
func (countingVideo) Source() client.VideoSource { return noVideo{} }
func (countingVideo) Close() error               { return nil }
func (noVideo) Seq() uint64                      { return 0 }
func (nopAudio) Push(*rtp.Packet)                {}
func (nopAudio) Decoded() uint64                 { return 0 }
func (nopAudio) Close() error                    { return nil }
func (noVideo) Render(dst *image.RGBA, _, _ int, _ bool) (*image.RGBA, image.Point, uint64) {
	return dst, image.Point{}, 0
}

type noVideo struct{}
type nopAudio struct{}

type confabSub struct {
	*counter
	sess *client.Session
}

func (s *confabSub) Close() { _ = s.sess.Leave() }

func (s *confabServer) subscribe(ctx context.Context, i int) (subscriber, error) {
	c := &counter{}
	sess, err := client.Join(ctx, client.Config{Server: s.url, Room: "bench", Name: fmt.Sprintf("Sub %d", i),
		Decoders: countingDecoders{c}, LoopbackOnly: true, ReconnectFor: -1})
	if err != nil {
		return nil, err
	}
	go drainEvents(sess)
	return &confabSub{counter: c, sess: sess}, nil
}

func drainEvents(s *client.Session) {
	for range s.Events() {
	}
}
