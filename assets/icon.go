// Package assets holds the files Confab embeds: the app icon and, later,
// sounds and the browser guest page.
package assets

import _ "embed"

// IconPNG is the 512x512 app icon, drawn by scripts/genicon.
//
//go:embed icon.png
var IconPNG []byte
