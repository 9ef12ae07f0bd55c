package syndicate

import (
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCoreKnowsNoPlatform: nothing under syndicate/, tests included,
// imports a platform (bots/) or a binary (cmd/); the platforms depend on
// the core, never the other way round.
func TestCoreKnowsNoPlatform(t *testing.T) {
	const module = "github.com/syndicate-bot/syndicate/"
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(gotoken.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok && (strings.HasPrefix(rest, "bots/") || strings.HasPrefix(rest, "cmd/")) {
				t.Errorf("%s imports %s", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Errorf("read %d Go files, want the whole core", files)
	}
}
