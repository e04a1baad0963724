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
