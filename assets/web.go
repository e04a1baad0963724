package assets

import "embed"

// Web holds the browser guest page under web/: index.html and the plain
// ES modules, style sheet and icons it loads. signaling/server serves it at
// / and /r/{room}, the other files under /web/.
//
//go:embed web
var Web embed.FS
