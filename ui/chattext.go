package ui

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"fyne.io/fyne/v2/widget"
)

// formatTime shows a message time: the clock for today, else the date too.
func formatTime(ms int64, now time.Time) string {
	if ms <= 0 {
		return ""
	}
	t := time.UnixMilli(ms).In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04")
	}
	if y1 == y2 {
		return t.Format("Jan 2, 15:04")
	}
	return t.Format("Jan 2 2006, 15:04")
}

// linkPattern finds web links in chat text.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// textSegments turns chat text into rich-text segments: plain text exactly
// as typed, with http and https links made clickable. Nothing else is
// interpreted: no Markdown, no HTML.
func textSegments(text string) []widget.RichTextSegment {
	var segs []widget.RichTextSegment
	plain := func(s string) {
		if s != "" {
			segs = append(segs, &widget.TextSegment{Text: s, Style: widget.RichTextStyleInline})
		}
	}
	last := 0
	for _, loc := range linkPattern.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		// Leave trailing punctuation out of the link.
		for end > start && strings.ContainsRune(".,;:!?)]}'", rune(text[end-1])) {
			end--
		}
		u, err := url.Parse(text[start:end])
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		plain(text[last:start])
		segs = append(segs, &widget.HyperlinkSegment{Text: text[start:end], URL: u})
		last = end
	}
	plain(text[last:])
	return segs
}

// maxJumboEmoji is the most emoji a message may hold and still be shown
// large, as chat apps do for a message that is only an emoji or two.
const maxJumboEmoji = 5

// bodySegments returns the segments of a message body: a message of up
// to maxJumboEmoji emoji and nothing else is shown large (the built-in
// emoji font draws its glyphs small at text size), anything else as
// textSegments does. The whole message is one size, so no line mixes
// sizes.
func bodySegments(text string) []widget.RichTextSegment {
	if n := emojiOnlyCount(text); n > 0 && n <= maxJumboEmoji {
		return []widget.RichTextSegment{&widget.TextSegment{
			Text:  strings.TrimSpace(text),
			Style: widget.RichTextStyle{Inline: true, SizeName: sizeNameJumboEmoji},
		}}
	}
	return textSegments(text)
}

// emojiOnlyCount returns how many emoji text holds if it holds only emoji
// and spaces, else 0. A sequence joined by ZWJ, a modifier or a pair of
// regional indicators counts once.
func emojiOnlyCount(text string) int {
	n, flags := 0, 0
	joined := false
	for _, r := range text {
		switch {
		case r == ' ':
			joined = false
		case r == 0x200D: // zero-width joiner: the next emoji extends this one
			joined = true
		case r == 0xFE0F || r == 0x20E3 || (r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F):
			// variation selector, keycap, skin tone, tag: part of the emoji before
		case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators: two make a flag
			if flags%2 == 0 {
				n++
			}
			flags++
		case isEmojiBase(r):
			if !joined {
				n++
			}
			joined = false
		default:
			return 0
		}
	}
	return n
}

// isEmojiBase reports whether r lies in a block made of emoji (Unicode's
// Extended_Pictographic, approximated by blocks).
func isEmojiBase(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, // mahjong to symbols and pictographs extended-A
		r >= 0x2600 && r <= 0x27BF, // miscellaneous symbols, dingbats
		r >= 0x2300 && r <= 0x23FF, // watch, hourglass, media keys
		r >= 0x2B05 && r <= 0x2B55, // arrows, star, circle
		r == 0x2934 || r == 0x2935 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299:
		return true
	}
	return false
}
