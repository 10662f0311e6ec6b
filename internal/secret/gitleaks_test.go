package secret

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/gitleaks"
)

// sharedSecrets is ../shared/data/secrets, or a skip.
func sharedSecrets(t testing.TB) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", "secrets")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no ../shared/data/secrets")
	}
	return p
}

// scanDir runs s over dir as `seawall scan --dir` walks it.
func scanDir(t testing.TB, s *Scanner, dir string) []inventory.Finding {
	t.Helper()
	img, err := image.OpenTree(dir, image.KindDir)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	tmp := image.NewTempDir(t.TempDir())
	defer tmp.Close()
	res, err := catalog.Scan(context.Background(), img, catalog.Options{FileScanners: []catalog.FileScanner{s}, Walk: image.WalkOptions{Temp: tmp}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Inventory.Warnings {
		t.Logf("warning: %s", w)
	}
	return res.Findings
}

type glFinding struct {
	file, rule string
	line       int
}

func readGolden(t *testing.T, name string) []glFinding {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []glFinding
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		n, _ := strconv.Atoi(p[2])
		out = append(out, glFinding{p[0], p[1], n})
	}
	return out
}

// TestGitleaksParity: with gitleaks' default config imported, Seawall
// finds every finding gitleaks v8.30.1 reports on the shared corpora. Our
// line is the secret's, gitleaks' the match's start: the secret is on
// that line or a few lines below.
func TestGitleaksParity(t *testing.T) {
	root := sharedSecrets(t)
	cfg, err := ParseConfig(gitleaks.Default, "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, dir string }{
		{"gitleaks", filepath.Join(root, "gitleaks", "testdata")},
		{"detect-secrets", filepath.Join(root, "detect-secrets", "test_data")},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := readGolden(t, "gitleaks-findings-"+c.name+".tsv")
			got := scanDir(t, s, c.dir)
			used := make([]bool, len(got))
			for _, w := range want {
				found := false
				for i, g := range got {
					if !used[i] && g.Location.Path == w.file && g.ID == w.rule && g.Line >= w.line && g.Line <= w.line+5 {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("gitleaks finds %s:%d %s; Seawall does not", w.file, w.line, w.rule)
				}
			}
			var extra []string
			for i, g := range got {
				if !used[i] {
					extra = append(extra, fmt.Sprintf("%s:%d %s", g.Location.Path, g.Line, g.ID))
				}
			}
			sort.Strings(extra)
			t.Logf("%d gitleaks findings, %d Seawall findings; Seawall only: %v", len(want), len(got), extra)
		})
	}
}
