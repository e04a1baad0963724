package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// reportInterval is how often a subscriber gets a sender report for each
// track it receives (RFC 3550 §6.2 leaves it to the profile; pion's own
// report interceptor and browsers use about a second).
const reportInterval = time.Second

// maxNackedPerPacket bounds the packets one NACK message can ask for
// again: the cache holds no more than that anyway.
const maxNackedPerPacket = cacheSize

// relayFeedback reads the RTCP that a subscriber sends through sender for
// local until the sender stops: PLI and FIR (RFC 4585 §6.3.1, RFC 5104
// §4.3.1) call keyframe; each generic NACK (RFC 4585 §6.2.1) calls resend
// once per lost packet, with the subscriber's binding. Receiver reports
// need nothing from the SFU: the bandwidth estimate comes from TWCC
// feedback, which pion's congestion controller reads on its own. Until it
// returns, a goroutine it waits for sends the subscriber a sender report
// every reportInterval, from local's counters.
func relayFeedback(sender *webrtc.RTPSender, local *LocalTrack, clockRate uint32, keyframe func(), resend func(b *binding, seq uint16)) {
	var ssrc uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		ssrc = uint32(enc[0].SSRC)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendReports(sender, local, ssrc, clockRate, stop)
	}()
	defer wg.Wait()
	defer close(stop)
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				keyframe()
			case *rtcp.TransportLayerNack:
				b := local.bindingFor(p.MediaSSRC)
				if b == nil || resend == nil {
					continue
				}
				n := 0
				for _, pair := range p.Nacks {
					pair.Range(func(seq uint16) bool {
						n++
						if n > maxNackedPerPacket {
							return false
						}
						resend(b, seq)
						return true
					})
				}
			}
		}
	}
}

// sendReports sends a sender report for local's binding with SSRC ssrc
// every reportInterval until stop is closed.
func sendReports(sender *webrtc.RTPSender, local *LocalTrack, ssrc, clockRate uint32, stop <-chan struct{}) {
	if clockRate == 0 || ssrc == 0 {
		return
	}
	tick := time.NewTicker(reportInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			b := local.bindingFor(ssrc)
			if b == nil {
				continue
			}
			sr, ok := b.senderReport(clockRate, now)
			if !ok {
				continue
			}
			if tr := sender.Transport(); tr != nil {
				_, _ = tr.WriteRTCP([]rtcp.Packet{&sr})
			}
		}
	}
}
