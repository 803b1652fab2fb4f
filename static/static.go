// Package static embeds the browser assets the server serves under /static/,
// so a single binary carries everything it needs.
package static

import "embed"

// FS holds the asset files at its root: app.css for now. The server mounts it
// at /static/, so static/app.css here is /static/app.css in the browser.
//
//go:embed app.css
var FS embed.FS
