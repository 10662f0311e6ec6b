package ignore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestParseKinds(t *testing.T) {
	in := `secrets:
  - id: aws-access-token
    paths: [/app/.env, "test/**"]
    reason: test credentials
misconfigurations:
  - id: SW-IMG-001
    reason: r
malware: []
vulnerabilities:
`
	f, err := Parse([]byte(in), ".seawallignore")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Kind: inventory.KindSecret, ID: "aws-access-token", Paths: []string{"/app/.env", "test/**"}, Reason: "test credentials", Line: 2},
		{Kind: inventory.KindMisconfiguration, ID: "SW-IMG-001", Reason: "r", Line: 6},
	}
	if diff := cmp.Diff(want, f.Entries); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseKindErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"packages on a secret", "secrets:\n  - id: x\n    reason: r\n    packages: [{name: a}]\n", `.seawallignore:4: field "packages" applies to vulnerabilities only`},
		{"paths not a list", "secrets:\n  - id: x\n    reason: r\n    paths: /a\n", `.seawallignore:4: field "paths" must be a list`},
		{"bad glob", "misconfigurations:\n  - id: x\n    reason: r\n    paths: [\"a/[b\"]\n", `.seawallignore:4: field "paths": "a/[b": bad glob`},
		{"partial double star", "malware:\n  - id: x\n    reason: r\n    paths: [\"a/b**\"]\n", `must be a whole path segment`},
		{"unknown list", "misconfiguration:\n  - id: x\n", `unknown field "misconfiguration" at the top level: the file holds the lists vulnerabilities, secrets, malware and misconfigurations`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), ".seawallignore")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMatchesKindsAndPaths(t *testing.T) {
	f, err := Parse([]byte(`secrets:
  - id: AWS-ACCESS-TOKEN
    paths: ["app/**/*.env", /etc/app.conf]
    reason: r
misconfigurations:
  - id: SW-IMG-006
    reason: r
  - id: SW-DF-001
    paths: [build/ci.Dockerfile]
    reason: r
vulnerabilities:
  - id: CVE-1
    paths: [/app/package-lock.json]
    reason: r
`), "f")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, id, path string
		want           bool
	}{
		{inventory.KindSecret, "aws-access-token", "/app/.env", true},
		{inventory.KindSecret, "aws-access-token", "/app/a/b/prod.env", true},
		{inventory.KindSecret, "aws-access-token", "/etc/app.conf", true},
		{inventory.KindSecret, "aws-access-token", "/etc/other.conf", false},
		{inventory.KindSecret, "github-pat", "/app/.env", false},
		{inventory.KindMisconfiguration, "aws-access-token", "/app/.env", false},
		{inventory.KindMisconfiguration, "SW-IMG-006", inventory.PathImageConfig, true},
		{inventory.KindMisconfiguration, "SW-DF-001", "build/ci.Dockerfile", true},
		{inventory.KindMisconfiguration, "SW-DF-001", "/build/ci.Dockerfile", true},
		{inventory.KindMisconfiguration, "SW-DF-001", "/Dockerfile", false},
		{inventory.KindSecret, "SW-IMG-006", inventory.PathImageConfig, false},
		{inventory.KindVulnerability, "CVE-1", "/app/package-lock.json", true},
		{"", "CVE-1", "/app/package-lock.json", true},
		{inventory.KindVulnerability, "CVE-1", "/srv/package-lock.json", false},
	}
	for _, tt := range tests {
		fd := []inventory.Finding{{ID: tt.id, Kind: tt.kind, Location: inventory.Location{Path: tt.path}}}
		f.Apply(fd, time.Unix(0, 0))
		if got := fd[0].Suppression != nil; got != tt.want {
			t.Errorf("%s %s at %s: suppressed %v, want %v", tt.kind, tt.id, tt.path, got, tt.want)
		}
	}
}

func TestMatchPath(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"/app/.env", "/app/.env", true},
		{"app/.env", "/app/.env", true},
		{"./app/.env", "/app/.env", true},
		{"/app/*", "/app/.env", true},
		{"/app/*", "/app/a/.env", false},
		{"/app/**", "/app/a/b/c", true},
		{"/app/**", "/app", true},
		{"**/.env", "/.env", true},
		{"**/.env", "/x/y/.env", true},
		{"**", "/anything/at/all", true},
		{"/usr/share/doc/**/examples/*.pem", "/usr/share/doc/openssl/examples/key.pem", true},
		{"/usr/share/doc/**/examples/*.pem", "/usr/share/doc/examples/key.pem", true},
		{"/usr/share/doc/**/examples/*.pem", "/usr/share/doc/a/key.pem", false},
		{"image config", "image config", true},
		{"/a/?.txt", "/a/b.txt", true},
		{"/a/[bc].txt", "/a/d.txt", false},
		{strings.Repeat("**/", 200) + "x", strings.Repeat("/y", 200) + "/x", true},
	}
	for _, tt := range tests {
		if got := MatchPath(tt.glob, tt.path); got != tt.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}
