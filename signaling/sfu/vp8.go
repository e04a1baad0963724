package sfu

// vp8Info is what the SFU reads from the start of a VP8 RTP payload: the
// payload descriptor (RFC 7741 §4.2) and, at the start of a keyframe, the
// frame's size from the keyframe header (RFC 6386 §9.1). Offsets are into
// the payload, -1 when the field is absent.
type vp8Info struct {
	start    bool // first packet of a frame (S=1, partition 0)
	keyframe bool // start of a keyframe (P=0 in the payload header)
	width    int  // from the keyframe header; 0 when not a keyframe start
	height   int
	picID    int  // offset of the PictureID field, -1 if absent
	picID15  bool // PictureID is 15 bits (M=1), else 7
	tl0      int  // offset of TL0PICIDX, -1 if absent
}

// parseVP8 reads the descriptor of a VP8 payload; ok is false when the
// payload is too short for what its descriptor announces.
func parseVP8(p []byte) (vi vp8Info, ok bool) {
	vi.picID, vi.tl0 = -1, -1
	if len(p) < 1 {
		return vi, false
	}
	x := p[0]&0x80 != 0
	s := p[0]&0x10 != 0
	pid := p[0] & 0x07
	i := 1
	if x {
		if len(p) < 2 {
			return vi, false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: PictureID
			if len(p) < i+1 {
				return vi, false
			}
			vi.picID = i
			if p[i]&0x80 != 0 {
				vi.picID15 = true
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			vi.tl0 = i
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX byte
			i++
		}
		if len(p) < i {
			return vi, false
		}
	}
	vi.start = s && pid == 0
	if vi.start && len(p) > i && p[i]&0x01 == 0 {
		vi.keyframe = true
		// Keyframe header: 3-byte frame tag, start code 9d 01 2a, then
		// 14-bit width and height, each with a 2-bit scale above.
		if h := p[i:]; len(h) >= 10 && h[3] == 0x9d && h[4] == 0x01 && h[5] == 0x2a {
			vi.width = int(uint16(h[6])|uint16(h[7])<<8) & 0x3fff
			vi.height = int(uint16(h[8])|uint16(h[9])<<8) & 0x3fff
		}
	}
	return vi, true
}

// pictureID reads the PictureID at vi.picID.
func (vi *vp8Info) pictureID(p []byte) uint16 {
	if vi.picID15 {
		return uint16(p[vi.picID]&0x7f)<<8 | uint16(p[vi.picID+1])
	}
	return uint16(p[vi.picID] & 0x7f)
}

// setPictureID writes id, in the width the field already has.
func (vi *vp8Info) setPictureID(p []byte, id uint16) {
	if vi.picID15 {
		p[vi.picID] = 0x80 | byte(id>>8)&0x7f
		p[vi.picID+1] = byte(id)
		return
	}
	p[vi.picID] = byte(id) & 0x7f
}

// pictureIDMask is the largest PictureID of the field's width.
func (vi *vp8Info) pictureIDMask() uint16 {
	if vi.picID15 {
		return 0x7fff
	}
	return 0x7f
}
