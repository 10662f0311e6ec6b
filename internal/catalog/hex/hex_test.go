package hex

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
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "lockfile", path: "/app/mix.lock", want: true},
		{name: "mix.exs", path: "/app/mix.exs"},
		{name: "a dependency's lockfile", path: "/app/deps/plug/mix.lock"},
		{name: "a project under a deps directory", path: "/srv/deps/app/api/mix.lock", want: true},
		{name: "directory", path: "/app/mix.lock", mode: fs.ModeDir},
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

func pkg(spec string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	return inventory.Package{Type: inventory.TypeHex, Name: name, Version: version}
}

func pkgs(specs ...string) []inventory.Package {
	var out []inventory.Package
	for _, s := range specs {
		out = append(out, pkg(s))
	}
	return out
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool { return a.Name+"@"+a.Version < b.Name+"@"+b.Version })

func TestParse(t *testing.T) {
	org := pkg("acme_auth@0.3.1")
	org.Namespace = "acme"
	mirror := pkg("internal_tool@1.0.0")
	mirror.Metadata = map[string]string{"repo": "mirror"}
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "trivy", file: "trivy-mix.lock", want: pkgs(
			"castore@0.1.18", "jason@1.4.0", "phoenix@1.6.13", "phoenix_html@3.2.0", "phoenix_pubsub@2.1.1",
			"phoenix_template@1.0.0", "phoenix_view@2.0.1", "plug@1.14.0", "plug_crypto@1.2.3", "telemetry@1.1.0",
		)},
		{
			// enacl (git) and local_dep (path) have no version.
			name: "syft",
			file: "syft-mix.lock",
			want: pkgs(
				"castore@0.1.17", "connection@1.1.0", "cowboy@2.9.0", "cowboy_telemetry@0.4.0", "cowlib@2.11.0",
				"db_connection@2.4.2", "decimal@2.0.0", "earmark_parser@1.4.25", "ecto@3.8.1", "ecto_sql@3.8.1",
				"esbuild@0.5.0", "ex_doc@0.28.4", "gettext@0.19.1", "hpax@0.1.1", "jason@1.3.0",
			),
		},
		{name: "syft: a renamed dependency is the real package", file: "syft-mix-alias.lock", want: pkgs("jason@1.3.0")},
		{
			name: "organisations, other repositories, old form",
			file: "private.lock",
			want: []inventory.Package{org, mirror, pkg("plug@1.14.0"), pkg("poison@3.1.0")},
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
	got, err := New().Catalog(context.Background(), image.NewFile("/app/mix.lock", 0o644, read(t, "trivy-mix.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Errorf("got %d packages, want 10", len(got))
	}
	big := image.NewFile("/app/mix.lock", 0o644, make([]byte, maxLock+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a lockfile over the size limit was read")
	}
}

// TestTrivyGolden compares with trivy's result for the same lockfile
// (integration/testdata/mix.lock.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(read(t, "trivy-mix.lock.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version)
		}
	}
	got, err := Parse(context.Background(), read(t, "trivy-mix.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, p := range got {
		have = append(have, p.Name+"@"+p.Version)
	}
	sort.Strings(want)
	sort.Strings(have)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("packages (-trivy +seawall):\n%s", diff)
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{name: "empty", in: ""},
		{name: "comment only", in: "# nothing\n"},
		{name: "not a map", in: "[1, 2]", wantErr: true},
		{name: "unterminated map", in: `%{"a": {:hex, :a, "1.0.0"`, wantErr: true},
		{name: "unterminated string", in: `%{"a": {:hex, :a, "1.0.0}}`, wantErr: true},
		{name: "nested too deep", in: "%{\"a\": " + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + "}", wantErr: true},
		{name: "map element without a key", in: `%{{:hex, :a, "1.0.0"}}`, wantErr: true},
		{name: "trailing garbage", in: `%{} %{}`, wantErr: true},
		{name: "stray character", in: `%{"a": {:hex, :a, "1.0.0" ; }}`, wantErr: true},
		{
			name: "bad names and versions are skipped",
			in:   `%{"a": {:hex, :"../a", "1.0.0"}, "b": {:hex, :b, "1.0 0"}, "c": {:hex, :c, 100}, "d": {:hex, :d, "1.0.0"}}`,
			want: 1,
		},
		{name: "tuples too short", in: `%{"a": {:hex}, "b": {:hex, :b}, "c": {}}`},
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
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypeHex {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
