package secret

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/image"
)

// FuzzScan: whatever the content, scanning never panics, every finding is
// masked and on a real line, and the planned strategies agree with FindAll
// over the whole text.
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		"AWS_ACCESS_KEY_ID=" + awsID + "\n",
		"token = \"" + ghp + "\"\n" + privateKey,
		"postgres://app:" + dbPassword + "@db/x password=\xff\xfe" + jwtToken,
		corpus(99, 2000),
	} {
		f.Add([]byte(seed))
	}
	addSeedDir(f, filepath.Join("testdata", "fuzz", "scan"))
	s, err := New(nil, Options{ScanBinaries: true})
	if err != nil {
		f.Fatal(err)
	}
	ref, err := New(nil, Options{ScanBinaries: true})
	if err != nil {
		f.Fatal(err)
	}
	ref.forceFull = true
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := s.Scan(context.Background(), image.NewFile("/f", 0o644, data))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, x := range got {
			if x.Line < 1 || x.Line > lines || !strings.Contains(x.Snippet, "*****") {
				t.Fatalf("finding %+v in %d lines", x, lines)
			}
		}
		want, _ := ref.Scan(context.Background(), image.NewFile("/f", 0o644, data))
		if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
			t.Fatalf("planned strategies differ from FindAll (-full +planned):\n%s", diff)
		}
	})
}

// FuzzConfig: the YAML and TOML readers refuse or accept any input
// without panicking, and whatever they accept compiles or is refused by
// New with an error.
func FuzzConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "gitleaks", "testdata", "config", "*", "*.toml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, true)
		}
	}
	f.Add(defaultRules, false)
	f.Add([]byte("extends: default\nrules: [{id: x, regex: 'a(', keywords: [a]}]"), false)
	addSeedDir2(f, filepath.Join("testdata", "fuzz", "config"))
	f.Fuzz(func(t *testing.T, data []byte, isTOML bool) {
		format := "seawall"
		if isTOML {
			format = "gitleaks"
		}
		cfg, err := ParseConfig(data, format, t.TempDir())
		if err != nil {
			return
		}
		s, err := New(cfg, Options{})
		if err != nil {
			return
		}
		if _, err := s.Scan(context.Background(), image.NewFile("/f.txt", 0o644, data)); err != nil {
			t.Fatal(err)
		}
	})
}

func addSeedDir(f *testing.F, dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			f.Add(b)
		}
	}
}

func addSeedDir2(f *testing.F, dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			f.Add(b, strings.HasSuffix(e.Name(), ".toml"))
		}
	}
}
