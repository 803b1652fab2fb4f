// Package migrations embeds the schema migrations, which bun/migrate runs (models/migrate.go).
// Files are named <timestamp>_<name>.tx.up.sql / .tx.down.sql (each runs in a transaction) and
// are never edited once merged; a change is a new file. Template fields stand where SQLite and
// PostgreSQL differ: {{.ID}} (an auto-increment primary key), {{.Time}} (a timestamp column type)
// and {{.Bytes}} (a binary column type).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
