// Package static embeds the browser assets the server serves under /static/,
// so a single binary carries everything it needs.
package static

import "embed"

// FS holds the built assets at its root: app.css (Tailwind, built from src/app.css by
// `make generate`), app.js (the few lines of plain JS the pages need), htmx.min.js and its SSE
// extension sse.min.js, and the Korean font — fonts.css and fonts/, Noto Sans KR as a variable
// font split by Unicode range, so a browser fetches only the pieces a page's text uses, and a
// kiosk without Korean fonts shows Hangul rather than boxes (all copied from npm, versions
// pinned in package.json). The server mounts it at /static/.
//
//go:embed app.css app.js htmx.min.js sse.min.js fonts.css fonts
var FS embed.FS
