package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/confab/confab/signaling/sfu"
)

// Simulcast publishing (PROTOCOL.md §5.3). pion, as the offerer, cannot
// put "a=simulcast:recv" in an offer (and refuses a munged local offer),
// so the server adds the RID lines to the camera m-line of the offer it
// sends; its own local description stays as pion made it. pion does
// receive the layers the answer declares (one TrackRemote per RID, told
// apart by the rtp-stream-id header extension), and in later offers
// repeats the RIDs of the answer by itself.

// simulcastLines are the lines added to the camera's publish m-line.
var simulcastLines = func() string {
	var b strings.Builder
	for _, rid := range sfu.LayerRIDs {
		b.WriteString("a=rid:" + rid + " recv\r\n")
	}
	b.WriteString("a=simulcast:recv " + strings.Join(sfu.LayerRIDs[:], ";") + "\r\n")
	return b.String()
}()

// offerSimulcast adds RFC 8853 simulcast (receive q, h and f, RFC 8851
// RIDs) to the m-section of offer whose mid is mid, right after its
// a=mid line, unless it has an a=simulcast line already.
func offerSimulcast(offer, mid string) string {
	lines := strings.SplitAfter(offer, "\n")
	var out strings.Builder
	out.Grow(len(offer) + len(simulcastLines))
	section := 0 // index of the current m= line
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(t, "m=") {
			section = i
		}
		out.WriteString(l)
		if section > 0 && t == "a=mid:"+mid && !sectionHas(lines[section:], "a=simulcast:") {
			out.WriteString(simulcastLines)
		}
	}
	return out.String()
}

// sectionHas reports whether the m-section whose m= line starts rest has
// a line with prefix.
func sectionHas(rest []string, prefix string) bool {
	for i, l := range rest {
		t := strings.TrimRight(l, "\r\n")
		if i > 0 && strings.HasPrefix(t, "m=") {
			return false
		}
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// ridLine is one a=rid line: its id and direction (RFC 8851 §4).
func ridLine(value string) (id, dir string) {
	f := strings.Fields(value)
	if len(f) > 0 {
		id = f[0]
	}
	if len(f) > 1 {
		dir = f[1]
	}
	return id, dir
}

// checkSimulcast checks the simulcast of an answer against the offer and
// returns the answer to apply, and for each answered m-section (by mid)
// whether it sends: "simulcast", or its direction. On an m-section whose offer has "a=simulcast:recv",
// the answer may send some or all of the offered RIDs: an "a=rid:<id>
// send" line for each and one "a=simulcast:send" line listing them
// (RFC 8853 §5.3; a "~" before a RID, a paused layer, is accepted; RID
// alternatives "a,b" are not). On any other m-section the answer may
// send no simulcast. "a=rid:<id> recv" and "a=simulcast:recv" lines are
// dropped from the answer before it is applied, wherever they are: pion
// as an answerer echoes the offer's RIDs as its own receive RIDs.
func checkSimulcast(offerSDP, answerSDP string) (string, map[string]string, error) {
	var offer, answer sdp.SessionDescription
	if err := offer.UnmarshalString(offerSDP); err != nil {
		return "", nil, fmt.Errorf("%w: the offer cannot be read: %w", errAnswer, err)
	}
	if err := answer.UnmarshalString(answerSDP); err != nil {
		return "", nil, fmt.Errorf("%w: not valid SDP: %v", errAnswer, err)
	}
	sends := map[string]string{}
	for i, am := range answer.MediaDescriptions {
		if amid, _ := am.Attribute("mid"); amid != "" {
			sends[amid] = direction(am)
		}
		if i >= len(offer.MediaDescriptions) {
			break // checkAnswer says why
		}
		om := offer.MediaDescriptions[i]
		mid, _ := om.Attribute("mid")
		where := fmt.Sprintf("m-section %d (mid %q)", i, mid)
		var offered []string
		for _, a := range om.Attributes {
			if a.Key == "rid" {
				if id, dir := ridLine(a.Value); dir == "recv" {
					offered = append(offered, id)
				}
			}
		}
		var ridSend, listed []string
		hasSimulcast := false
		for _, a := range am.Attributes {
			switch a.Key {
			case "rid":
				id, dir := ridLine(a.Value)
				if dir == "recv" {
					continue
				}
				if len(offered) == 0 {
					return "", nil, fmt.Errorf("%w: %s has a=rid:%s, but the offer has no simulcast there", errAnswer, where, a.Value)
				}
				if dir != "send" {
					return "", nil, fmt.Errorf("%w: %s has a=rid:%s; the direction must be send", errAnswer, where, a.Value)
				}
				if !slices.Contains(offered, id) {
					return "", nil, fmt.Errorf("%w: %s sends RID %q, which the offer does not receive (it receives %s)", errAnswer, where, id, strings.Join(offered, ", "))
				}
				if slices.Contains(ridSend, id) {
					return "", nil, fmt.Errorf("%w: %s has a=rid:%s twice", errAnswer, where, id)
				}
				ridSend = append(ridSend, id)
			case "simulcast":
				dir, list, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
				if dir == "recv" {
					continue
				}
				if len(offered) == 0 {
					return "", nil, fmt.Errorf("%w: %s has a=simulcast:%s, but the offer has no simulcast there", errAnswer, where, a.Value)
				}
				if dir != "send" || hasSimulcast {
					return "", nil, fmt.Errorf("%w: %s has a=simulcast:%s; an answer has one a=simulcast:send", errAnswer, where, a.Value)
				}
				hasSimulcast = true
				for _, r := range strings.Split(strings.TrimSpace(list), ";") {
					if strings.Contains(r, ",") {
						return "", nil, fmt.Errorf("%w: %s: RID alternatives (%q) are not supported", errAnswer, where, r)
					}
					listed = append(listed, strings.TrimPrefix(r, "~"))
				}
			}
		}
		if len(ridSend) == 0 && !hasSimulcast {
			continue
		}
		if !hasSimulcast {
			return "", nil, fmt.Errorf("%w: %s has a=rid send lines but no a=simulcast:send", errAnswer, where)
		}
		for _, id := range listed {
			if !slices.Contains(ridSend, id) {
				return "", nil, fmt.Errorf("%w: %s: a=simulcast:send names %q, which has no a=rid:%s send line", errAnswer, where, id, id)
			}
		}
		for _, id := range ridSend {
			if !slices.Contains(listed, id) {
				return "", nil, fmt.Errorf("%w: %s: RID %q is not in a=simulcast:send", errAnswer, where, id)
			}
		}
		if amid, _ := am.Attribute("mid"); amid != "" {
			sends[amid] = "simulcast"
		}
	}
	return dropReceiveRIDs(answerSDP), sends, nil
}

// dropReceiveRIDs removes "a=rid:<id> recv" and "a=simulcast:recv" lines.
func dropReceiveRIDs(s string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if v, ok := strings.CutPrefix(t, "a=rid:"); ok {
			if _, dir := ridLine(v); dir == "recv" {
				continue
			}
		}
		if strings.HasPrefix(t, "a=simulcast:recv") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}
