package domain

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayersImportOneWay checks the design's import rules: the domain knows nothing of HTTP or
// SQL libraries, app and jobs never import each other, and only domain/store speaks to GORM.
func TestLayersImportOneWay(t *testing.T) {
	const module = "github.com/coop-exchange/coop/"
	rules := []struct {
		dir       string // a folder of the repository, and those below it
		skip      string // a folder below dir that the rule does not cover
		forbidden []string
	}{
		{"domain", "domain/store", []string{"github.com/gofiber/", "gorm.io/", "github.com/jackc/", module + "app", module + "jobs", module + "domain/store", "database/sql"}},
		{"domain/store", "", []string{"github.com/gofiber/", module + "app", module + "jobs"}},
		{"app", "", []string{module + "jobs", "gorm.io/", module + "domain/store\""}},
		{"jobs", "", []string{module + "app", "gorm.io/", "github.com/gofiber/"}},
		{"email", "", []string{module + "app", module + "jobs", module + "domain/store", "gorm.io/", "github.com/gofiber/"}},
		{"webhook", "", []string{"github.com/", "gorm.io/"}}, // the standard library only: services' programs import it
	}
	for _, r := range rules {
		root := filepath.Join("..", r.dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel("..", path)
			if d.IsDir() {
				if r.skip != "" && rel == r.skip {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range r.forbidden {
					if strings.HasPrefix(p, strings.TrimSuffix(bad, `"`)) && (!strings.HasSuffix(bad, `"`) || p == strings.TrimSuffix(bad, `"`)) {
						t.Errorf("%s imports %s, which %s must not", rel, p, r.dir)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
