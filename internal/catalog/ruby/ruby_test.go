package ruby

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		{name: "installed gem", path: "/usr/local/bundle/specifications/rack-2.2.3.gemspec", want: true},
		{name: "default gem", path: "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", want: true},
		{name: "gemspec in a source tree", path: "/src/mygem/mygem.gemspec"},
		{name: "Gemfile.lock", path: "/src/Gemfile.lock"},
		{name: "directory", path: "/x/specifications/a.gemspec", mode: fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gem(name, version string, licenses ...string) *inventory.Package {
	return &inventory.Package{Type: inventory.TypeGem, Name: name, Version: version, Licenses: licenses}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		want    *inventory.Package
		wantErr string
	}{
		{name: "bundler", file: "syft/bundler.gemspec", want: gem("bundler", "2.1.4", "MIT")},
		{name: "frozen version string", file: "syft/formatador.gemspec", want: gem("formatador", "1.1.0", "MIT")},
		{name: "not a gemspec", file: "syft/bogus.gemspec", wantErr: "not a gem specification"},
		{
			name: "other block variable, single quotes, Gem::Version, license",
			data: "Gem::Specification.new do |spec|\n  spec.name = 'rack'\n  spec.version = Gem::Version.new(\"2.2.3\")\n  spec.license = \"MIT\" # comment 'x'\n  s.name = \"wrong\"\nend\n",
			want: gem("rack", "2.2.3", "MIT"),
		},
		{
			name: "several licenses",
			data: "Gem::Specification.new do |s|\n  s.name = \"json\".freeze\n  s.version = \"2.6.1\"\n  s.licenses = [\"Ruby\".freeze, \"BSD-2-Clause\".freeze]\nend\n",
			want: gem("json", "2.6.1", "Ruby", "BSD-2-Clause"),
		},
		{
			name: "stub comment when the assignments are not literals",
			data: "# stub: nokogiri 1.13.3 x86_64-linux lib\nGem::Specification.new do |s|\n  s.name = NAME\n  s.version = VERSION\nend\n",
			want: gem("nokogiri", "1.13.3"),
		},
		{
			name:    "unterminated string",
			data:    "Gem::Specification.new do |s|\n  s.name = \"x\n  s.version = '1\nend\n",
			wantErr: "not a gem specification",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.data)
			if tt.file != "" {
				b = readFixture(t, tt.file)
			}
			got, err := Parse(b)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	f := image.NewFile("/usr/local/bundle/specifications/bundler-2.1.4.gemspec", 0o644, readFixture(t, "syft/bundler.gemspec"))
	got, err := New().Catalog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.Package{*gem("bundler", "2.1.4", "MIT")}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/syft/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Gem::Specification.new do |spec|\n  spec.name = 'a\\'b'\n  spec.version = \"1\\u00e9\"\nend\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err == nil && (p.Name == "" || p.Version == "") {
			t.Fatalf("package without name or version: %+v", p)
		}
	})
}
