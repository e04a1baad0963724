package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// errAnswer is wrapped by every reason checkAnswer gives.
var errAnswer = errors.New("answer does not fit the offer")

// fingerprintLen is the digest size, in bytes, of each hash function a
// DTLS fingerprint may use (RFC 8122 §5).
var fingerprintLen = map[string]int{"sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64}

// answerDirections lists, for each direction the server offers, the
// directions an answer may take (RFC 3264 §6.1).
var answerDirections = map[string][]string{
	"sendrecv": {"sendrecv", "sendonly", "recvonly", "inactive"},
	"sendonly": {"recvonly", "inactive"},
	"recvonly": {"sendonly", "inactive"},
	"inactive": {"inactive"},
}

// checkAnswer verifies that answer is a usable answer to offer before it
// is applied: the same m-sections in the same order with the same mids,
// a payload type the offer has, directions RFC 3264 allows, ICE
// credentials, a well-formed DTLS fingerprint and setup role, and valid
// connection addresses. pion applies some broken answers without error
// and fails later, and a failed apply can leave the offer unusable, so
// they are refused here while the offer is still open.
func checkAnswer(offerSDP, answerSDP string) error {
	var offer, answer sdp.SessionDescription
	if err := offer.UnmarshalString(offerSDP); err != nil {
		return fmt.Errorf("%w: the offer cannot be read: %w", errAnswer, err)
	}
	if err := answer.UnmarshalString(answerSDP); err != nil {
		return fmt.Errorf("%w: not valid SDP: %v", errAnswer, err)
	}
	if err := checkConnection(answer.ConnectionInformation); err != nil {
		return err
	}
	if got, want := len(answer.MediaDescriptions), len(offer.MediaDescriptions); got != want {
		return fmt.Errorf("%w: it has %d m-sections, the offer has %d", errAnswer, got, want)
	}
	offerUfrag := iceAttr(&offer, offer.MediaDescriptions[0], "ice-ufrag")
	for i, am := range answer.MediaDescriptions {
		om := offer.MediaDescriptions[i]
		omid, _ := om.Attribute("mid")
		amid, _ := am.Attribute("mid")
		where := fmt.Sprintf("m-section %d (mid %q)", i, omid)
		if am.MediaName.Media != om.MediaName.Media {
			return fmt.Errorf("%w: %s is %s in the offer, %s in the answer", errAnswer, where, om.MediaName.Media, am.MediaName.Media)
		}
		if amid != omid {
			return fmt.Errorf("%w: %s has mid %q in the answer", errAnswer, where, amid)
		}
		if am.MediaName.Port.Value == 0 {
			continue // rejected: nothing more to check
		}
		if !slices.ContainsFunc(am.MediaName.Formats, func(f string) bool { return slices.Contains(om.MediaName.Formats, f) }) {
			return fmt.Errorf("%w: %s has none of the offered payload types %v", errAnswer, where, om.MediaName.Formats)
		}
		if ad, allowed := direction(am), answerDirections[direction(om)]; !slices.Contains(allowed, ad) {
			return fmt.Errorf("%w: %s is %s in the offer; the answer must be one of %v, not %s", errAnswer, where, direction(om), allowed, ad)
		}
		if err := checkConnection(am.ConnectionInformation); err != nil {
			return err
		}
		ufrag, pwd := iceAttr(&answer, am, "ice-ufrag"), iceAttr(&answer, am, "ice-pwd")
		if ufrag == "" || pwd == "" {
			return fmt.Errorf("%w: %s has no ice-ufrag or ice-pwd", errAnswer, where)
		}
		if ufrag == offerUfrag {
			return fmt.Errorf("%w: %s carries the offer's own ICE credentials", errAnswer, where)
		}
		if err := checkFingerprint(iceAttr(&answer, am, "fingerprint")); err != nil {
			return fmt.Errorf("%w: %s: %w", errAnswer, where, err)
		}
		if setup := iceAttr(&answer, am, "setup"); setup != "" && setup != "active" && setup != "passive" {
			return fmt.Errorf("%w: %s has setup %q; an answer is active or passive (RFC 5763 §5)", errAnswer, where, setup)
		}
	}
	return nil
}

// iceAttr returns a media-level attribute, or the session-level one.
func iceAttr(s *sdp.SessionDescription, m *sdp.MediaDescription, key string) string {
	if v, ok := m.Attribute(key); ok {
		return v
	}
	v, _ := s.Attribute(key)
	return v
}

// direction returns an m-section's direction attribute (sendrecv when none).
func direction(m *sdp.MediaDescription) string {
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := m.Attribute(d); ok {
			return d
		}
	}
	return "sendrecv"
}

// checkFingerprint checks "hash-func HEX:HEX:..." (RFC 8122 §5).
func checkFingerprint(fp string) error {
	if fp == "" {
		return errors.New("no DTLS fingerprint")
	}
	alg, value, ok := strings.Cut(strings.TrimSpace(fp), " ")
	n, known := fingerprintLen[strings.ToLower(alg)]
	if !ok || !known {
		return fmt.Errorf("fingerprint %q: unknown hash function", fp)
	}
	parts := strings.Split(strings.TrimSpace(value), ":")
	if len(parts) != n {
		return fmt.Errorf("fingerprint %q: %s needs %d bytes", fp, alg, n)
	}
	for _, b := range parts {
		if len(b) != 2 {
			return fmt.Errorf("fingerprint %q is not colon-separated hex bytes", fp)
		}
		if _, err := hex.DecodeString(b); err != nil {
			return fmt.Errorf("fingerprint %q is not colon-separated hex bytes", fp)
		}
	}
	return nil
}

// checkConnection checks a c= line's address, when there is one.
func checkConnection(c *sdp.ConnectionInformation) error {
	if c == nil || c.Address == nil {
		return nil
	}
	if c.NetworkType != "IN" || (c.AddressType != "IP4" && c.AddressType != "IP6") {
		return fmt.Errorf("%w: connection line %q is not IN IP4 or IN IP6", errAnswer, c.String())
	}
	addr, _, _ := strings.Cut(c.Address.Address, "/")
	ip := net.ParseIP(addr)
	if ip == nil || (c.AddressType == "IP4") != (ip.To4() != nil) {
		return fmt.Errorf("%w: connection address %q is not an %s address", errAnswer, c.Address.Address, c.AddressType)
	}
	return nil
}
