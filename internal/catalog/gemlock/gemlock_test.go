package gemlock

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
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
		{name: "Gemfile.lock", path: "/src/app/Gemfile.lock", want: true},
		{name: "gems.locked", path: "/src/app/gems.locked", want: true},
		{name: "Gemfile", path: "/src/app/Gemfile"},
		{name: "Gemfile.next.lock", path: "/src/app/Gemfile.next.lock"},
		{name: "directory", path: "/src/Gemfile.lock", mode: fs.ModeDir},
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

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gem(name, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeGem, Name: name, Version: version}
}

func direct(p inventory.Package) inventory.Package { p.Direct = true; return p }

func meta(p inventory.Package, k, v string) inventory.Package {
	m := map[string]string{k: v}
	for k, v := range p.Metadata {
		m[k] = v
	}
	p.Metadata = m
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Version < b.Version
})

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "no GEM section", file: "scalibr/no-gem-section.lock"},
		{name: "no gems", file: "scalibr/no-gems.lock"},
		{name: "no specs", file: "scalibr/no-spec-section.lock"},
		{name: "spec without a version", file: "scalibr/invalid.lock", wantErr: "not a Gemfile.lock"},
		{name: "not a lockfile at all", data: "hello\nworld\n", wantErr: "not a Gemfile.lock"},
		{name: "one gem", file: "scalibr/one-gem.lock", want: []inventory.Package{direct(gem("ast", "2.4.2"))}},
		{name: "source section at the end", file: "scalibr/source-section-at-end.lock", want: []inventory.Package{direct(gem("ast", "2.4.2"))}},
		{
			name: "some gems",
			file: "scalibr/some-gems.lock",
			want: []inventory.Package{gem("coderay", "1.1.3"), gem("method_source", "1.0.0"), direct(gem("pry", "0.14.1"))},
		},
		{
			name: "multiple gems",
			file: "scalibr/multiple-gems.lock",
			want: []inventory.Package{
				direct(gem("bundler-audit", "0.9.0.1")), gem("coderay", "1.1.3"), direct(gem("dotenv", "2.7.6")),
				gem("method_source", "1.0.0"), direct(gem("pry", "0.14.1")), gem("thor", "1.2.1"),
			},
		},
		{
			name: "rubocop",
			file: "scalibr/rubocop.lock",
			want: []inventory.Package{
				gem("ast", "2.4.2"),
				gem("parallel", "1.21.0"),
				gem("parser", "3.1.1.0"),
				gem("rainbow", "3.1.1"),
				gem("regexp_parser", "2.2.1"),
				gem("rexml", "3.2.5"),
				direct(gem("rubocop", "1.25.1")),
				gem("rubocop-ast", "1.16.0"),
				gem("ruby-progressbar", "1.11.0"),
				gem("unicode-display_width", "2.1.0"),
			},
		},
		{
			name: "git sources",
			file: "scalibr/has-git-gem.lock",
			want: []inventory.Package{
				meta(gem("hanami-controller", "2.0.0.alpha1"), "source", "git+https://github.com/hanami/controller.git#027dbe2e56397b534e859fc283990cad1b6addd6"),
				direct(meta(gem("hanami-utils", "2.0.0.alpha1"), "source", "git+https://github.com/hanami/utils.git#5904fc9a70683b8749aa2861257d0c8c01eae4aa")),
				gem("concurrent-ruby", "1.1.7"),
				gem("rack", "2.2.3"),
				gem("transproc", "1.1.1"),
			},
		},
		{
			name: "path source (left out); platform suffix",
			file: "scalibr/has-local-gem.lock",
			want: []inventory.Package{
				gem("actionpack", "7.0.2.2"),
				gem("actionview", "7.0.2.2"),
				gem("activesupport", "7.0.2.2"),
				gem("builder", "3.2.4"),
				gem("coffee-script", "2.4.1"),
				gem("coffee-script-source", "1.12.2"),
				gem("concurrent-ruby", "1.1.9"),
				gem("crass", "1.0.6"),
				gem("eco", "1.0.0"),
				gem("eco-source", "1.1.0.rc.1"),
				gem("ejs", "1.1.1"),
				gem("erubi", "1.10.0"),
				gem("execjs", "2.8.1"),
				gem("i18n", "1.10.0"),
				gem("jquery-rails", "4.4.0"),
				gem("loofah", "2.14.0"),
				gem("method_source", "1.0.0"),
				gem("minitest", "5.15.0"),
				meta(gem("nokogiri", "1.13.3"), "platform", "x86_64-linux"),
				gem("racc", "1.6.0"),
				gem("rack", "2.2.3"),
				gem("rack-test", "1.1.0"),
				gem("rails-dom-testing", "2.0.3"),
				gem("rails-html-sanitizer", "1.4.2"),
				gem("railties", "7.0.2.2"),
				gem("rake", "13.0.6"),
				gem("thor", "1.2.1"),
				gem("tzinfo", "2.0.4"),
				gem("zeitwerk", "2.5.4"),
			},
		},
		{
			name: "rails",
			file: "scalibr/rails.lock",
			want: []inventory.Package{
				gem("actioncable", "7.0.2.2"),
				gem("actionmailbox", "7.0.2.2"),
				gem("actionmailer", "7.0.2.2"),
				gem("actionpack", "7.0.2.2"),
				gem("actiontext", "7.0.2.2"),
				gem("actionview", "7.0.2.2"),
				gem("activejob", "7.0.2.2"),
				gem("activemodel", "7.0.2.2"),
				gem("activerecord", "7.0.2.2"),
				gem("activestorage", "7.0.2.2"),
				gem("activesupport", "7.0.2.2"),
				gem("builder", "3.2.4"),
				gem("concurrent-ruby", "1.1.9"),
				gem("crass", "1.0.6"),
				gem("digest", "3.1.0"),
				gem("erubi", "1.10.0"),
				gem("globalid", "1.0.0"),
				gem("i18n", "1.10.0"),
				gem("io-wait", "0.2.1"),
				gem("loofah", "2.14.0"),
				gem("mail", "2.7.1"),
				gem("marcel", "1.0.2"),
				gem("method_source", "1.0.0"),
				gem("mini_mime", "1.1.2"),
				gem("minitest", "5.15.0"),
				gem("net-imap", "0.2.3"),
				gem("net-pop", "0.1.1"),
				gem("net-protocol", "0.1.2"),
				gem("net-smtp", "0.3.1"),
				gem("nio4r", "2.5.8"),
				meta(gem("nokogiri", "1.13.3"), "platform", "x86_64-linux"),
				gem("racc", "1.6.0"),
				gem("rack", "2.2.3"),
				gem("rack-test", "1.1.0"),
				direct(gem("rails", "7.0.2.2")),
				gem("rails-dom-testing", "2.0.3"),
				gem("rails-html-sanitizer", "1.4.2"),
				gem("railties", "7.0.2.2"),
				gem("rake", "13.0.6"),
				gem("strscan", "3.0.1"),
				gem("thor", "1.2.1"),
				gem("timeout", "0.2.0"),
				gem("tzinfo", "2.0.4"),
				gem("websocket-driver", "0.7.5"),
				gem("websocket-extensions", "0.1.5"),
				gem("zeitwerk", "2.5.4"),
			},
		},
		{
			// BAD-SECTION is not a source: its bad-entry is not a gem. The
			// PATH gem google-cloud-errors is local code and left out.
			name: "syft: PATH, GIT and an unknown section",
			file: "syft/Gemfile.lock",
			want: []inventory.Package{
				direct(meta(gem("turbolinks", "3.0.0"), "source", "git+https://github.com/rails/turbolinks.git#80216ce9d89920bf073709405e3fce6d0a3ccd9a")),
				gem("actionmailer", "4.1.1"),
				gem("actionpack", "4.1.1"),
				gem("actionview", "4.1.1"),
				gem("activemodel", "4.1.1"),
				gem("activerecord", "4.1.1"),
				gem("activesupport", "4.1.1"),
				gem("arel", "5.0.1.20140414130214"),
				direct(gem("bootstrap-sass", "3.1.1.1")),
				gem("builder", "3.2.2"),
				direct(gem("coffee-rails", "4.0.1")),
				gem("coffee-script", "2.2.0"),
				gem("coffee-script-source", "1.7.0"),
				gem("erubis", "2.7.0"),
				gem("execjs", "2.0.2"),
				gem("hike", "1.2.3"),
				gem("i18n", "0.6.9"),
				direct(gem("jbuilder", "2.0.7")),
				direct(gem("jquery-rails", "3.1.0")),
				gem("json", "1.8.1"),
				gem("kgio", "2.9.2"),
				gem("libv8", "3.16.14.3"),
				gem("mail", "2.5.4"),
				gem("mime-types", "1.25.1"),
				gem("minitest", "5.3.4"),
				gem("multi_json", "1.10.1"),
				direct(gem("mysql2", "0.3.16")),
				gem("polyglot", "0.3.4"),
				gem("rack", "1.5.2"),
				gem("rack-test", "0.6.2"),
				direct(gem("rails", "4.1.1")),
				gem("railties", "4.1.1"),
				gem("raindrops", "0.13.0"),
				gem("rake", "10.3.2"),
				gem("rdoc", "4.1.1"),
				gem("ref", "1.0.5"),
				gem("sass", "3.2.19"),
				direct(gem("sass-rails", "4.0.3")),
				direct(gem("sdoc", "0.4.0")),
				direct(gem("spring", "1.1.3")),
				gem("sprockets", "2.11.0"),
				gem("sprockets-rails", "2.1.3"),
				direct(gem("sqlite3", "1.3.9")),
				direct(gem("therubyracer", "0.12.1")),
				gem("thor", "0.19.1"),
				gem("thread_safe", "0.3.3"),
				gem("tilt", "1.4.1"),
				gem("treetop", "1.4.15"),
				gem("tzinfo", "1.2.0"),
				direct(gem("uglifier", "2.5.0")),
				direct(gem("unicorn", "4.8.3")),
			},
		},
		{
			name: "the same gem for two platforms is one package; CRLF",
			data: "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    nokogiri (1.13.0-x86_64-linux)\r\n      racc (~> 1.4)\r\n    nokogiri (1.13.0-arm64-darwin)\r\n    racc (1.6.0)\r\n\r\nDEPENDENCIES\r\n  nokogiri (>= 1.13)\r\n",
			want: []inventory.Package{direct(meta(gem("nokogiri", "1.13.0"), "platform", "x86_64-linux")), gem("racc", "1.6.0")},
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
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	got, err := New().Catalog(context.Background(), image.NewFile("/src/Gemfile.lock", 0o644, readFixture(t, "scalibr/one-gem.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.Package{direct(gem("ast", "2.4.2"))}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}
