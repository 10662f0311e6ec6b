package conan

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "lockfile", path: "/src/conan.lock", want: true},
		{name: "conanfile", path: "/src/conanfile.txt"},
		{name: "directory", path: "/src/conan.lock", mode: fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if !New().Declared() {
		t.Error("Declared() = false")
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pkg builds an expected package from "name/version[@user/channel]" and
// the flags "direct" and "dev".
func pkg(ref string, flags ...string) inventory.Package {
	nv, uc, _ := strings.Cut(ref, "@")
	name, version, _ := strings.Cut(nv, "/")
	p := inventory.Package{Type: inventory.TypeConan, Name: name, Version: version}
	if uc != "" {
		user, channel, _ := strings.Cut(uc, "/")
		p.Metadata = map[string]string{"user": user, "channel": channel}
	}
	for _, f := range flags {
		switch f {
		case "direct":
			p.Direct = true
		case "dev":
			p.Dev = true
		default:
			panic("bad flag " + f)
		}
	}
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool { return a.Name+"/"+a.Version < b.Name+"/"+b.Version })

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{
			name: "0.4, trivy",
			file: "trivy-conan.lock",
			want: []inventory.Package{
				pkg("poco/1.9.4", "direct"), pkg("bzip2/1.0.8"), pkg("expat/2.4.8"), pkg("openssl/1.1.1q"),
				pkg("pcre/8.43"), pkg("sqlite3/3.39.2"), pkg("zlib/1.2.12"),
			},
		},
		{
			// The root node is spdlog's own conanfile.py (conan create).
			name: "0.4 with a user and channel, syft",
			file: "syft-conan.lock",
			want: []inventory.Package{pkg("fmt/9.1.0@my_user/my_channel", "direct")},
		},
		{name: "0.5, syft", file: "syft-conanlock-v2.lock", want: []inventory.Package{pkg("sound32/1.0"), pkg("matrix/1.1")}},
		{
			name: "0.5 with build requirements, trivy",
			file: "trivy-happy_v2.lock",
			want: []inventory.Package{
				pkg("sound32/1.0"), pkg("matrix/1.3"), pkg("automake/1.16.5", "dev"), pkg("autoconf/2.71", "dev"),
			},
		},
		{
			name: "build context, pref node, bad reference",
			file: "build-context.lock",
			want: []inventory.Package{
				pkg("openssl/3.0.3", "direct"), pkg("zlib/1.2.12"), pkg("cmake/3.25.1", "direct", "dev"),
				pkg("bzip2/1.0.8@acme/stable"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), read(t, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	got, err := New().Catalog(context.Background(), image.NewFile("/src/conan.lock", 0o644, read(t, "trivy-conan.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 {
		t.Errorf("got %d packages, want 7", len(got))
	}
	big := image.NewFile("/src/conan.lock", 0o644, make([]byte, maxLock+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a lockfile over the size limit was read")
	}
}

// TestTrivyGolden compares names, versions, package URLs and direct
// dependencies with trivy's result for the same lockfile
// (integration/testdata/conan.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct {
				Name, Version, Relationship string
				Identifier                  struct{ PURL string }
			}
		}
	}
	if err := json.Unmarshal(read(t, "trivy-conan.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" "+p.Identifier.PURL+" "+p.Relationship)
		}
	}
	got, err := Parse(context.Background(), read(t, "trivy-conan.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for i, p := range got {
		rel := "indirect"
		if p.Direct {
			rel = "direct"
		}
		have = append(have, p.Name+"@"+p.Version+" "+purl.For(&got[i], nil)+" "+rel)
	}
	sort.Strings(want)
	sort.Strings(have)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("packages (-trivy +seawall):\n%s", diff)
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in                           string
		name, version, user, channel string
		ok                           bool
	}{
		{in: "zlib/1.2.12", name: "zlib", version: "1.2.12", ok: true},
		{in: "zlib/1.2.12#b76db676bd992afa93dd18a675323942%1675278904.07", name: "zlib", version: "1.2.12", ok: true},
		{in: "fmt/9.1.0@my_user/my_channel#6708c9d8", name: "fmt", version: "9.1.0", user: "my_user", channel: "my_channel", ok: true},
		{in: "pkg/1.0@user", name: "pkg", version: "1.0", user: "user", ok: true},
		{in: "pkg/1.0@_/_", name: "pkg", version: "1.0", ok: true},
		{in: "bzip2/1.0.8:3df6ebb8#0", name: "bzip2", version: "1.0.8", ok: true},
		{in: "zlib"},
		{in: "zlib/"},
		{in: "/1.0"},
		{in: "a/b/c"},
		{in: "zlib/[>1.0]"},
		{in: "../../x/1.0"},
	}
	for _, tt := range tests {
		name, version, user, channel, ok := ParseRef(tt.in)
		if name != tt.name || version != tt.version || user != tt.user || channel != tt.channel || ok != tt.ok {
			t.Errorf("ParseRef(%q) = %q %q %q %q %v", tt.in, name, version, user, channel, ok)
		}
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{name: "not JSON", in: "[graph_lock]", wantErr: true},
		{name: "empty object", in: "{}"},
		{name: "nodes not a map", in: `{"graph_lock": {"nodes": []}}`, wantErr: true},
		{name: "requires of the wrong type", in: `{"graph_lock": {"nodes": {"0": {"requires": 5}}}}`, wantErr: true},
		{name: "old map form of requires", in: `{"graph_lock": {"nodes": {"0": {"path": "conanfile.txt", "requires": {"zlib": "1"}}, "1": {"pref": "zlib/1.2.11:abc"}}}}`, want: 1},
		{name: "requirement to a missing node", in: `{"graph_lock": {"nodes": {"0": {"path": "x", "requires": ["9"]}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), []byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d", len(got), tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.lock")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypeConan {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
