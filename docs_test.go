package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdPath is a Markdown file named in a comment: "docs/API.md", "SECURITY.md".
var mdPath = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)

// Comments may point a reader only at documents in this repository: a path from the repository
// root, or a bare name of a file in docs/.
func TestCommentsCiteDocumentsInTheRepository(t *testing.T) {
	cited := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, cg := range f.Comments {
			for _, name := range mdPath.FindAllString(cg.Text(), -1) {
				cited++
				if !exists(name) && !exists(filepath.Join("docs", name)) {
					t.Errorf("%s cites %s, which is not in the repository", path, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 10 {
		t.Fatalf("found only %d citations: the walk is broken", cited)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
