// Package sqlq holds what raw SQL needs across engines, for statements written outside bun.
package sqlq

import (
	"strconv"
	"strings"
)

// Numbered turns a statement's ? placeholders into PostgreSQL's $1, $2…; the statements it is
// given hold no ? inside a string literal.
func Numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
