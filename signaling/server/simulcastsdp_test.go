package server

import (
	"errors"
	"strings"
	"testing"
)

const sdpHead = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"

func section(mid, dir string, extra ...string) string {
	return "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:" + mid + "\r\na=rtpmap:96 VP8/90000\r\n" +
		strings.Join(extra, "") + "a=" + dir + "\r\n"
}

func TestOfferSimulcast(t *testing.T) {
	offer := sdpHead + section("0", "recvonly") + section("1", "sendonly")
	got := offerSimulcast(offer, "0")
	want := sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
		"a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n" +
		"a=rtpmap:96 VP8/90000\r\na=recvonly\r\n" + section("1", "sendonly")
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// An offer that has it (pion repeats the answer's RIDs) is left alone.
	if again := offerSimulcast(got, "0"); again != got {
		t.Fatalf("added twice:\n%s", again)
	}
	if other := offerSimulcast(offer, "7"); other != offer {
		t.Fatal("changed an offer without that mid")
	}
}

func TestCheckSimulcast(t *testing.T) {
	offer := offerSimulcast(sdpHead+section("0", "recvonly")+section("1", "recvonly"), "0")
	pionEcho := "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"
	for _, c := range []struct {
		name   string
		answer string
		err    string // "" accepted
		sends  string // what sends["0"] must be
	}{
		{"three layers", section("0", "sendonly", "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n"), "", "simulcast"},
		{"pion's answer", section("0", "sendonly", pionEcho, "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n"), "", "simulcast"},
		{"two layers, one paused", section("0", "sendonly", "a=rid:h send\r\na=rid:f send\r\na=simulcast:send h;~f\r\n"), "", "simulcast"},
		{"no simulcast", section("0", "sendonly"), "", "sendonly"},
		{"no simulcast from pion", section("0", "sendonly", pionEcho), "", "sendonly"},
		{"inactive", section("0", "inactive"), "", "inactive"},
		{"unknown rid", section("0", "sendonly", "a=rid:x send\r\na=simulcast:send x\r\n"), `sends RID "x", which the offer does not receive`, ""},
		{"no simulcast line", section("0", "sendonly", "a=rid:q send\r\n"), "no a=simulcast:send", ""},
		{"unlisted rid", section("0", "sendonly", "a=rid:q send\r\na=rid:f send\r\na=simulcast:send f\r\n"), `RID "q" is not in a=simulcast:send`, ""},
		{"listed without rid line", section("0", "sendonly", "a=rid:f send\r\na=simulcast:send h;f\r\n"), `names "h", which has no a=rid:h send line`, ""},
		{"alternatives", section("0", "sendonly", "a=rid:h send\r\na=rid:f send\r\na=simulcast:send h,f\r\n"), "alternatives", ""},
		{"twice", section("0", "sendonly", "a=rid:f send\r\na=rid:f send\r\na=simulcast:send f\r\n"), "has a=rid:f twice", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			answer := sdpHead + c.answer + section("1", "sendonly")
			clean, sends, err := checkSimulcast(offer, answer)
			if c.err != "" {
				if err == nil || !errors.Is(err, errAnswer) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sends["0"] != c.sends || sends["1"] != "sendonly" {
				t.Errorf("sends %v", sends)
			}
			if strings.Contains(clean, " recv\r\n") || strings.Contains(clean, "simulcast:recv") {
				t.Errorf("receive RIDs left in\n%s", clean)
			}
		})
	}
	// Receive RIDs are dropped anywhere.
	answer0 := sdpHead + section("0", "sendonly") + section("1", "sendonly", "a=rid:f recv\r\na=simulcast:recv f\r\n")
	if clean, _, err := checkSimulcast(offer, answer0); err != nil || strings.Contains(clean, "recv\r\n") {
		t.Fatalf("receive RIDs on an m-line without simulcast: %v\n%s", err, clean)
	}
	// Simulcast on an m-line the offer does not receive it on.
	answer := sdpHead + section("0", "sendonly") + section("1", "sendonly", "a=rid:f send\r\na=simulcast:send f\r\n")
	if _, _, err := checkSimulcast(offer, answer); err == nil || !strings.Contains(err.Error(), `m-section 1 (mid "1") has a=rid:f send, but the offer has no simulcast there`) {
		t.Fatalf("simulcast where none was offered: %v", err)
	}
}
