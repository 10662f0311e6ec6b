package secret

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestAllowlists(t *testing.T) {
	tok := "tok_" + fake(50, "abcdefghijklmnopqrstuvwxyz0123456789", 16)
	base := `
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{16}'''
keywords = ["tok_"]
`
	tests := []struct {
		name, extra, path, content string
		want                       int
	}{
		{"none", "", "/a.txt", "x = " + tok, 1},
		{"global path", "[[allowlists]]\npaths = ['''^/vendor/''']", "/vendor/a.txt", "x = " + tok, 0},
		{"global regex on secret", "[[allowlists]]\nregexes = ['''^tok_''']", "/a.txt", "x = " + tok, 0},
		{"global stopword", "[[allowlists]]\nstopwords = ['''" + strings.ToUpper(tok[6:10]) + "''']", "/a.txt", "x = " + tok, 0},
		{"rule regex target match", "[[rules.allowlists]]\nregexTarget = 'match'\nregexes = ['''^tok_''']", "/a.txt", "x = " + tok, 0},
		{"rule regex target line", "[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''^# fixture''']", "/a.txt", "# fixture " + tok, 0},
		{"rule regex target line, other line", "[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''^# fixture''']", "/a.txt", "# fixture\nx = " + tok, 1},
		{"AND: path and regex both", "[[rules.allowlists]]\ncondition = 'AND'\npaths = ['''\\.md$''']\nregexes = ['''^tok_''']", "/a.md", "x = " + tok, 0},
		{"AND: path only matches", "[[rules.allowlists]]\ncondition = 'AND'\npaths = ['''\\.md$''']\nregexes = ['''^nope''']", "/a.md", "x = " + tok, 1},
		{"AND: with commits never allows", "[[rules.allowlists]]\ncondition = 'AND'\ncommits = ['abc']\npaths = ['''.*''']", "/a.md", "x = " + tok, 1},
		{"OR: commits alone never allow", "[[rules.allowlists]]\ncommits = ['abc']", "/a.md", "x = " + tok, 1},
		{"rule path", "[[rules.allowlists]]\npaths = ['''\\.md$''']", "/a.md", "x = " + tok, 0},
		{"targetRules", "[[allowlists]]\ntargetRules = ['tok']\nregexes = ['''tok_''']", "/a.txt", "x = " + tok, 0},
		{"gitleaks:allow", "", "/a.txt", "x = " + tok + " # gitleaks:allow", 0},
		{"seawall:allow", "", "/a.txt", "x = " + tok + " // seawall:allow", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base
			if strings.HasPrefix(tt.extra, "[[rules.") {
				src += tt.extra + "\n"
			} else {
				src += "\n" + tt.extra + "\n"
			}
			cfg, err := ParseConfig([]byte(src), "gitleaks", "")
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := scanString(t, s, tt.path, tt.content+"\n")
			if len(got) != tt.want {
				t.Errorf("%d findings, want %d: %+v", len(got), tt.want, got)
			}
		})
	}
}

func TestPathRules(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
[[rules]]
id = "pkcs12-file"
description = "PKCS #12 file"
path = '''(?i)\.p(?:12|fx)$'''
[[rules]]
id = "env-password"
path = '''\.env$'''
regex = '''PASSWORD=(\S+)'''
keywords = ["password"]
`), "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Wants("/certs/client.p12", 0o644) {
		t.Error("a path rule's binary file is not wanted")
	}
	got := scanString(t, s, "/certs/client.p12", "\x30\x82\x00\x00binary")
	if len(got) != 1 || got[0].ID != "pkcs12-file" || got[0].Line != 0 {
		t.Errorf("path-only rule: %+v", got)
	}
	if got := scanString(t, s, "/app/config", "PASSWORD=hunter22\n"); len(got) != 0 {
		t.Errorf("path-restricted rule ran on another path: %+v", got)
	}
	if got := scanString(t, s, "/app/.env", "PASSWORD=hunter22\n"); len(got) != 1 {
		t.Errorf("path-restricted rule: %+v", got)
	}
}

// TestComposite: a gitleaks composite rule reports only with its
// requirement near, and the requirement (skipReport) never on its own.
func TestComposite(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
[[rules]]
id = "primary-rule"
regex = 'password\s*=\s*"([^"]+)"'
[[rules.required]]
id = "username-rule"
withinLines = 2
[[rules]]
id = "username-rule"
regex = 'username\s*=\s*"([^"]+)"'
skipReport = true
`), "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for content, want := range map[string][]string{
		"username = \"admin\"\npassword = \"hunter2\"\n":         {"primary-rule"},
		"password = \"hunter2\"\n":                               nil,
		"username = \"admin\"\n\n\n\n\npassword = \"hunter2\"\n": nil,
		"username = \"admin\"\n":                                 nil,
	} {
		got := ids(scanString(t, s, "/a.conf", content))
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%q: %v, want %v", content, got, want)
		}
	}
}

func TestImageConfig(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := &image.Image{
		Layers: []*image.Layer{{Index: 0, Digest: "sha256:aaa"}, {Index: 1, Digest: "sha256:bbb"}},
		Config: &v1.ConfigFile{
			Config: v1.Config{
				Env:        []string{"PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=" + awsSecret},
				Labels:     map[string]string{"maintainer": "x", "ci.token": ghp},
				Cmd:        []string{"/app/server", "--db", "postgres://app:" + dbPassword + "@db:5432/app"},
				Entrypoint: []string{"/bin/sh"},
			},
			History: []v1.History{
				{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in /"},
				{CreatedBy: "/bin/sh -c #(nop) ENV X=1", EmptyLayer: true},
				{CreatedBy: "|1 NPM_TOKEN=npm_" + fake(51, alnum, 36) + " /bin/sh -c npm ci"},
			},
		},
	}
	got, err := s.ImageScanner().ScanImage(context.Background(), img, &inventory.Inventory{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		ConfigEnvPrefix + "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key",
		ConfigLabelPrefix + "ci.token":            "github-pat",
		ConfigCmd:                                 "database-url-password",
		ConfigHistoryPrefix + "3":                 "npm-token",
	}
	seen := map[string]bool{}
	for _, f := range got {
		if want[f.Location.Path] != f.ID {
			t.Errorf("unexpected finding %s at %s", f.ID, f.Location.Path)
			continue
		}
		seen[f.Location.Path] = true
		if strings.Contains(f.Snippet, awsSecret) || strings.Contains(f.Snippet, ghp) || strings.Contains(f.Snippet, dbPassword) {
			t.Errorf("unmasked snippet %q", f.Snippet)
		}
		switch f.Location.Path {
		case ConfigHistoryPrefix + "3":
			if f.Location.LayerIndex != 1 || f.Location.LayerDigest != "sha256:bbb" {
				t.Errorf("history finding in layer %d %s, want 1 sha256:bbb", f.Location.LayerIndex, f.Location.LayerDigest)
			}
		default:
			if f.Location.LayerIndex != -1 {
				t.Errorf("%s: layer %d, want -1", f.Location.Path, f.Location.LayerIndex)
			}
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("nothing found at %s", p)
		}
	}
	if out, err := s.ImageScanner().ScanImage(context.Background(), &image.Image{}, nil); err != nil || len(out) != 0 {
		t.Errorf("no config: %v %v", out, err)
	}
}
