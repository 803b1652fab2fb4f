// Package migrations embeds the schema migrations. Files are named
// <timestamp>_<name>.up.sql / .down.sql and are never edited once merged; a change is a new file.
// Two tokens stand where SQLite and PostgreSQL differ and are replaced by the runner in models:
// {{id}} (an auto-increment primary key) and {{time}} (a timestamp column type).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
