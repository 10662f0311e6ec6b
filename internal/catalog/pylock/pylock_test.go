package pylock

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

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// pkg builds an expected package from "name@version" and the flags "dev"
// and "direct".
func pkg(spec string, flags ...string) inventory.Package {
	name, version, ok := strings.Cut(spec, "@")
	if !ok {
		panic("bad spec " + spec)
	}
	p := inventory.Package{Type: inventory.TypePyPI, Name: name, Version: version}
	for _, f := range flags {
		switch f {
		case "dev":
			p.Dev = true
		case "direct":
			p.Direct = true
		default:
			panic("bad flag " + f)
		}
	}
	return p
}

func pkgs(specs ...string) []inventory.Package {
	var out []inventory.Package
	for _, s := range specs {
		out = append(out, pkg(s))
	}
	return out
}

type parseCase struct {
	name    string
	file    string
	want    []inventory.Package
	wantErr bool
	partial bool // packages come back together with an error
}

func runCases(t *testing.T, dir string, parse func(context.Context, []byte) ([]inventory.Package, error), cases []parseCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parse(context.Background(), b)
			if (err != nil) != (tt.wantErr || tt.partial) {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr || tt.partial)
			}
			if tt.wantErr && got != nil {
				t.Errorf("packages returned with a fatal error: %v", got)
			}
			sortPkgs(got)
			sortPkgs(tt.want)
			if diff := cmp.Diff(tt.want, got, cmpEmpty); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.FilterValues(func(a, b []inventory.Package) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func sortPkgs(p []inventory.Package) {
	sort.Slice(p, func(i, j int) bool {
		return normName(p[i].Name)+"@"+p[i].Version < normName(p[j].Name)+"@"+p[j].Version
	})
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{"requirements", "/app/requirements.txt", 0o644, true},
		{"requirements-dev", "/app/requirements-dev.txt", 0o644, true},
		{"prefixed", "/app/my-requirements.txt", 0o644, true},
		{"requirements dir", "/app/requirements/base.txt", 0o644, true},
		{"poetry", "/app/poetry.lock", 0o644, true},
		{"pipenv", "/app/Pipfile.lock", 0o644, true},
		{"uv", "/app/uv.lock", 0o644, true},
		{"pdm", "/app/pdm.lock", 0o644, true},
		{"pylock", "/app/pylock.toml", 0o644, true},
		{"named pylock", "/app/pylock.dev.toml", 0o644, true},
		{"requirements.in", "/app/requirements.in", 0o644, false},
		{"Pipfile", "/app/Pipfile", 0o644, false},
		{"pyproject", "/app/pyproject.toml", 0o644, false},
		{"other txt", "/app/notes.txt", 0o644, false},
		{"in site-packages", "/usr/lib/python3/site-packages/x/requirements.txt", 0o644, false},
		{"in dist-packages", "/usr/lib/python3/dist-packages/x/requirements.txt", 0o644, false},
		{"in node_modules", "/app/node_modules/x/requirements.txt", 0o644, false},
		{"directory", "/app/uv.lock", fs.ModeDir, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if !catalog.IsDeclared(c) {
		t.Error("lockfile cataloger is not Declared")
	}
}

func TestCatalogDispatch(t *testing.T) {
	tests := []struct {
		name, path, file string
		want             int
	}{
		{"requirements", "/a/requirements.txt", "requirements/trivy-requirements.txt", 7},
		{"poetry", "/a/poetry.lock", "poetry/trivy-poetry.lock", 3},
		{"pipenv", "/a/Pipfile.lock", "pipfile/trivy-Pipfile.lock", 1},
		{"uv", "/a/uv.lock", "uv/trivy-uv.lock", 3},
		{"pdm", "/a/pdm.lock", "pdm/scalibr-two-packages.toml", 2},
		{"pylock", "/a/pylock.toml", "pylock/trivy-pylock.toml", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := New().Catalog(context.Background(), image.NewFile(tt.path, 0o644, b))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d", len(got), tt.want)
			}
		})
	}
	big := image.NewFile("/a/requirements.txt", 0o644, make([]byte, maxRequirements+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("Catalog accepted a requirements file over the size limit")
	}
}

func TestRequirements(t *testing.T) {
	runCases(t, "requirements", ParseRequirements, []parseCase{
		{name: "comments", file: "scalibr-comments.txt", want: pkgs("PyCrypto@1.2-alpha", "GMPY2@1", "SymPy@1.2", "requests@1.0", "six@1.2")},
		{name: "variables", file: "scalibr-env_var.txt", want: pkgs("asdf@1.2", "another@1.0")},
		{
			// Only docopt is pinned; the rest are names, ranges, a wildcard
			// pin, a URL, options, a path and a URL to a wheel.
			name: "pip's example", file: "scalibr-example.txt",
			want: pkgs("docopt@0.6.1"),
		},
		{name: "extras", file: "scalibr-extras.txt", want: pkgs("pyjwt@2.1.0", "celery@4.4.7")},
		{name: "not requirements", file: "scalibr-invalid.txt", wantErr: true},
		{name: "includes are not followed", file: "scalibr-loop.txt"},
		{name: "continuations and comments", file: "scalibr-multiline_and_comments.txt", want: pkgs("pkgA@1.0", "pkgB@2.0")},
		{name: "unpinned", file: "scalibr-no_version.txt"},
		{name: "other", file: "scalibr-other-requirements.txt", want: pkgs("pandas@2.2.3")},
		{
			// foo7 has text pip rejects before its options, foo10 and foo15
			// an empty pin: three lines reported as not requirements.
			name: "per-requirement options", file: "scalibr-per_req_options.txt", partial: true,
			want: pkgs("foo1@1.0", "foo2@1.0", "foo3@1.0", "foo4@1.0", "foo5@1.0", "foo6@1.0", "foo8@1.0", "foo9@1.0",
				"foo11@1.0", "foo12@1.0", "foo13@1.0", "foo14@1.0", "foo16-Client@1.0", "foo17--hash@1.0", "foo18-Client@1.0"),
		},
		{name: "backslash at the end", file: "scalibr-trailing_backslash.txt", want: pkgs("pkg1@1.0")},
		{
			name: "version forms", file: "scalibr-with_versions.txt",
			want: pkgs("nltk@3.2.2", "tabulate@0.7.7", "qwerty@0.1", "hy-phen@1.2", "under_score@1.3", "pkg.dot.name@5.0.0", "yolo@1.0"),
		},
		{
			// "==2.3.4" has no name.
			name: "syft", file: "syft-requirements.txt", partial: true,
			want: pkgs("flask@4.0.0", "urllib3@1.26.20", "foo@1.0.0", "SomeProject@5.4", "dots-._allowed@1.0.0", "argh@0.26.2",
				"argh@0.26.3", "celery@4.4.7", "FrIeNdLy-_-bArD@1.0.0", "local-version@1.2.3+gcr.2"),
		},
		{name: "pip-compile output", file: "osvscanner-requirements.prod.txt", want: pkgs("django@2.2.24")},
		{name: "with an include", file: "osvscanner-requirements-transitive.txt", want: pkgs("numpy@2.3.1")},
		{name: "osv-scanner", file: "osvscanner-requirements.txt", want: pkgs("flask@1.0.0", "django@1.11.29", "requests@2.20.0")},
		{name: "trivy", file: "trivy-requirements.txt", want: trivyPip},
	})
}

func TestRequirementsText(t *testing.T) {
	utf16le := []byte{0xff, 0xfe}
	for _, r := range "six==1.16.0\r\n" {
		utf16le = append(utf16le, byte(r), 0)
	}
	tests := []struct {
		name    string
		data    []byte
		want    []inventory.Package
		wantErr bool
	}{
		{"UTF-8 BOM", []byte("\xef\xbb\xbfsix==1.16.0\n"), pkgs("six@1.16.0"), false},
		{"UTF-16 BOM", utf16le, pkgs("six@1.16.0"), false},
		{"binary", []byte("six==1.16.0\x00\x01"), nil, true},
		{"invalid UTF-8", []byte("six==\xff\n"), nil, true},
		{"parenthesised", []byte("six (==1.16.0)\n"), pkgs("six@1.16.0"), false},
		{"comment ends a continuation", []byte("six==1.16.0 \\\n# note\nattrs==24.2.0\n"), pkgs("attrs@24.2.0", "six@1.16.0"), false},
		{"same package twice", []byte("Six==1.16.0\nsix==1.16.0\n"), pkgs("Six@1.16.0"), false},
		{"windows path", []byte("C:\\wheels\\six-1.16.0-py3-none-any.whl\n"), nil, false},
		{"unclosed extras", []byte("six[a==1.0\n"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequirements(context.Background(), tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			sortPkgs(got)
			if diff := cmp.Diff(tt.want, got, cmpEmpty); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoetry(t *testing.T) {
	runCases(t, "poetry", ParsePoetry, []parseCase{
		{name: "one byte", file: "scalibr-empty-file.lock"},
		{name: "no packages", file: "scalibr-empty.lock"},
		{name: "not TOML", file: "scalibr-not-toml.txt", wantErr: true},
		{name: "one package", file: "scalibr-one-package.lock", want: pkgs("numpy@1.23.3")},
		{name: "metadata", file: "scalibr-one-package-with-metadata.lock", want: pkgs("emoji@2.0.0")},
		{name: "optional", file: "scalibr-optional-package.lock", want: pkgs("numpy@1.23.3")},
		{name: "git source", file: "scalibr-source-git.lock", want: pkgs("ike@0.2.0")},
		{name: "legacy source", file: "scalibr-source-legacy.lock", want: pkgs("appdirs@1.4.4")},
		{name: "two packages", file: "scalibr-two-packages.lock", want: pkgs("proto-plus@1.22.0", "protobuf@4.21.5")},
		{name: "names in strings and subtables", file: "scalibr-names-outside-package-block.lock", want: pkgs("first-pkg@1.0.0", "second-pkg@2.0.0")},
		{
			// Poetry 2 groups: six is in main as well as dev, so not Dev.
			name: "groups", file: "scalibr-multiple-packages.v2.lock",
			want: []inventory.Package{
				pkg("async-timeout@5.0.1"), pkg("factory-boy@3.3.1", "dev"), pkg("faker@33.3.0", "dev"),
				pkg("proto-plus@1.22.0"), pkg("proto-plus@1.23.0"), pkg("protobuf@4.25.5"),
				pkg("python-dateutil@2.9.0.post0", "dev"), pkg("redis@5.2.1"), pkg("six@1.17.0"),
				pkg("typing-extensions@4.12.2", "dev"), pkg("urllib3@2.3.0", "dev"),
			},
		},
		{name: "category dev", file: "syft-dev-deps.lock", want: []inventory.Package{
			pkg("added-value@0.14.2", "dev"), pkg("alabaster@0.7.12", "dev"), pkg("appnope@0.1.0", "dev"), pkg("asciitree@0.3.3", "dev"),
		}},
		{name: "case", file: "syft-case-sensitivity.lock", want: pkgs("django@5.2.6", "djangorestframework@3.16.1", "dj-rest-auth@7.0.1")},
		{name: "no groups", file: "syft-simple-deps.lock", want: pkgs("certifi@2024.2.2", "charset-normalizer@3.3.2", "idna@3.7", "requests@2.32.2", "urllib3@2.2.1")},
		{name: "trivy", file: "trivy-poetry.lock", want: trivyPoetry},
	})
}

func TestPipfile(t *testing.T) {
	runCases(t, "pipfile", ParsePipfile, []parseCase{
		{name: "empty file", file: "scalibr-empty-file", wantErr: true},
		{name: "not JSON", file: "scalibr-not-json.txt", wantErr: true},
		{name: "no packages", file: "scalibr-empty.json"},
		{name: "minified", file: "scalibr-minified.json", want: pkgs("markupsafe@2.1.1")},
		{name: "one package", file: "scalibr-one-package.json", want: pkgs("markupsafe@2.1.1")},
		{name: "one dev package", file: "scalibr-one-package-dev.json", want: []inventory.Package{pkg("markupsafe@2.1.1", "dev")}},
		{name: "two packages", file: "scalibr-two-packages.json", want: []inventory.Package{pkg("itsdangerous@2.1.2"), pkg("markupsafe@2.1.1", "dev")}},
		{name: "two default packages", file: "scalibr-two-packages-alt.json", want: pkgs("itsdangerous@2.1.2", "markupsafe@2.1.1")},
		{
			// itsdangerous is in both sections: not Dev. pluggy differs.
			name: "both sections", file: "scalibr-multiple-packages.json",
			want: []inventory.Package{pkg("itsdangerous@2.1.2"), pkg("markupsafe@2.1.1"), pkg("pluggy@1.0.0", "dev"), pkg("pluggy@1.0.1")},
		},
		{name: "git entries without versions", file: "scalibr-no-version.json"},
		{name: "syft", file: "syft-Pipfile.lock", want: []inventory.Package{
			pkg("aio-pika@6.8.0"), pkg("aiodns@2.0.0"), pkg("aiohttp@3.7.4.post0"), pkg("aiohttp-jinja2@1.4.2"),
			pkg("astroid@2.5.2", "dev"), pkg("autopep8@1.5.6", "dev"),
		}},
		{name: "trivy", file: "trivy-Pipfile.lock", want: trivyPipenv},
	})
}

func TestUV(t *testing.T) {
	runCases(t, "uv", ParseUV, []parseCase{
		{name: "empty", file: "scalibr-empty.lock"},
		{name: "no packages", file: "scalibr-no-packages.lock"},
		{name: "not TOML", file: "scalibr-not-toml.txt", wantErr: true},
		{name: "root only", file: "scalibr-no-dependencies.lock"},
		{name: "one package", file: "scalibr-one-package.lock", want: []inventory.Package{pkg("emoji@2.14.0", "direct")}},
		{name: "two packages", file: "scalibr-two-packages.lock", want: []inventory.Package{pkg("emoji@2.14.0", "direct"), pkg("protobuf@4.25.5", "direct")}},
		{name: "git source", file: "scalibr-source-git.lock", want: []inventory.Package{pkg("ruff@0.8.1", "direct")}},
		{name: "names in strings and subtables", file: "scalibr-names-outside-package-block.lock", want: pkgs("first-pkg@1.0.0", "second-pkg@2.0.0")},
		{
			// Extras (optional-dependencies) are production dependencies,
			// even one called "dev".
			name: "extras", file: "scalibr-grouped-packages.lock",
			want: []inventory.Package{
				pkg("black@24.10.0", "direct"), pkg("click@8.1.7", "direct"), pkg("colorama@0.4.6"), pkg("emoji@2.14.0", "direct"),
				pkg("flake8@7.1.1", "direct"), pkg("mccabe@0.7.0"), pkg("mypy-extensions@1.0.0"), pkg("packaging@24.2"),
				pkg("pathspec@0.12.1"), pkg("platformdirs@4.3.6"), pkg("pycodestyle@2.12.1"), pkg("pyflakes@3.2.0"),
				pkg("tomli@2.2.1"), pkg("typing-extensions@4.12.2"),
			},
		},
		{name: "syft", file: "syft-simple-deps.lock", want: []inventory.Package{
			pkg("certifi@2025.1.31"), pkg("charset-normalizer@3.4.1"), pkg("idna@3.10"), pkg("requests@2.32.3", "direct"), pkg("urllib3@2.3.0"),
		}},
		{
			// Hand-written: pytest and what only it needs are Dev; pysocks
			// comes with the requests[socks] extra; local-lib, a directory
			// source, is left out and its dependency idna is direct.
			name: "dev groups", file: "dev-groups.lock",
			want: []inventory.Package{
				pkg("certifi@2024.12.14"), pkg("colorama@0.4.6", "dev"), pkg("idna@3.10", "direct"), pkg("iniconfig@2.0.0", "dev"),
				pkg("packaging@24.2", "dev"), pkg("pluggy@1.5.0", "dev"), pkg("pysocks@1.7.1"),
				pkg("pytest@8.3.4", "dev", "direct"), pkg("requests@2.32.3", "direct"),
			},
		},
		{name: "trivy", file: "trivy-uv.lock", want: trivyUV},
	})
}

func TestPdm(t *testing.T) {
	runCases(t, "pdm", ParsePdm, []parseCase{
		{name: "one package", file: "scalibr-single-package.toml", want: pkgs("toml@0.10.2")},
		{name: "two packages", file: "scalibr-two-packages.toml", want: pkgs("six@1.16.0", "toml@0.10.2")},
		{name: "dev group", file: "scalibr-dev-dependency.toml", want: []inventory.Package{
			pkg("pyroute2@0.7.11", "dev"), pkg("toml@0.10.2"), pkg("win-inet-pton@1.1.0", "dev"),
		}},
		{
			// "tmp" is an optional group; pdm.lock cannot tell it from a
			// development group, and packages only it needs are Dev.
			name: "optional group", file: "scalibr-optional-dependency.toml",
			want: []inventory.Package{pkg("pyroute2@0.7.11", "dev"), pkg("toml@0.10.2"), pkg("win-inet-pton@1.1.0", "dev")},
		},
		{name: "git source", file: "scalibr-git-dependency.toml", want: pkgs("toml@0.10.2")},
		{name: "names outside the package table", file: "scalibr-names-outside-package-block.toml", want: pkgs("first-pkg@1.0.0", "second-pkg@2.0.0")},
		{name: "empty file", file: "scalibr-empty-file.toml"},
		{name: "metadata only", file: "scalibr-empty.toml"},
		{name: "not TOML", file: "scalibr-not-toml.txt", wantErr: true},
		{
			// idna is in "default" and "security": not Dev.
			name: "groups, syft", file: "syft-pdm-lock.lock",
			want: []inventory.Package{
				pkg("certifi@2025.1.31", "dev"), pkg("chardet@3.0.4"), pkg("charset-normalizer@2.0.12", "dev"),
				pkg("colorama@0.3.9", "dev"), pkg("idna@2.7"), pkg("py@1.4.34", "dev"), pkg("pytest@3.2.5", "dev"),
				pkg("requests@2.27.1", "dev"), pkg("setuptools@39.2.0", "dev"), pkg("urllib3@1.26.20", "dev"),
			},
		},
		{
			// coverage has a second entry for its "toml" extra.
			name: "extras, syft", file: "syft-pdm-lock-extras.lock",
			want: []inventory.Package{
				pkg("coverage@7.4.1", "dev"), pkg("pytest@8.0.1", "dev"), pkg("pytest-cov@4.1.0", "dev"),
				pkg("tomli@2.0.1", "dev"), pkg("uvloop@0.19.0", "dev"),
			},
		},
		{
			// An old lockfile without groups: Dev is unknown.
			name: "no groups, syft", file: "syft-pdm-lock-separate-files.lock",
			want: pkgs(
				"anyio@3.6.1", "appnope@0.1.3", "asttokens@2.0.8", "backcall@0.2.0", "black@22.6.0",
				"certifi@2022.6.15", "cffi@1.15.1", "click@8.1.3", "colorama@0.4.5", "commonmark@0.9.1",
				"debugpy@1.6.3", "decorator@5.1.1", "entrypoints@0.4", "executing@0.10.0", "h11@0.12.0",
				"httpcore@0.15.0", "httpx@0.23.0", "idna@3.3", "ipykernel@6.15.1", "ipython@8.4.0",
				"isort@5.10.1", "jedi@0.18.1", "jupyter-client@7.3.5", "jupyter-core@4.11.1",
				"matplotlib-inline@0.1.6", "mutagen@1.45.1", "mypy-extensions@0.4.3", "nest-asyncio@1.5.5",
				"packaging@21.3", "parso@0.8.3", "pathspec@0.9.0", "pexpect@4.8.0", "pickleshare@0.7.5",
				"platformdirs@2.5.2", "prompt-toolkit@3.0.30", "psutil@5.9.1", "ptyprocess@0.7.0",
				"pure-eval@0.2.2", "py@1.11.0", "pycparser@2.21", "pydantic@1.9.2", "pygments@2.13.0",
				"pyparsing@3.0.9", "python-dateutil@2.8.2", "pywin32@304", "pyzmq@23.2.1", "rfc3986@1.5.0",
				"rich@12.5.1", "setuptools@65.3.0", "six@1.16.0", "sniffio@1.2.0", "stack-data@0.5.0",
				"tomli@2.0.1", "tornado@6.2", "traitlets@5.3.0", "typing-extensions@4.3.0", "wcwidth@0.2.5",
			),
		},
	})
	local := []byte(`[[package]]
name = "mine"
version = "0.1.0"
path = "."
editable = true

[[package]]
name = "vendored"
version = "1.0.0"
path = "./vendor/vendored"

[[package]]
name = "built"
version = "2.0.0"
path = "./dist/built-2.0.0-py3-none-any.whl"

[[package]]
name = "remote"
version = "3.0.0"
url = "https://example.com/remote-3.0.0.tar.gz"
`)
	got, err := ParsePdm(context.Background(), local)
	if err != nil {
		t.Fatal(err)
	}
	sortPkgs(got)
	if diff := cmp.Diff(pkgs("built@2.0.0", "remote@3.0.0"), got); diff != "" {
		t.Errorf("local sources (-want +got):\n%s", diff)
	}
}

func TestPylock(t *testing.T) {
	runCases(t, "pylock", ParsePylock, []parseCase{
		{name: "one byte", file: "scalibr-empty.toml"},
		{name: "not TOML", file: "scalibr-not-toml.txt", wantErr: true},
		{name: "example from PEP 751", file: "scalibr-example.toml", want: pkgs("attrs@25.1.0", "cattrs@24.1.2", "numpy@2.2.3")},
		{name: "names in strings and subtables", file: "scalibr-names-outside-package-block.toml", want: pkgs("first-pkg@1.0.0", "second-pkg@2.0.0")},
		{
			// net-inf-eval is the project itself, installed from ".".
			name: "vcs and directory", file: "scalibr-commits.toml",
			want: pkgs("click@8.2.1", "mleroc@0.1.0", "packaging@24.2", "pathspec@0.12.1", "python-dateutil@2.9.0.post0", "scikit-learn@1.6.1", "tqdm@4.67.1"),
		},
		{name: "pdm", file: "scalibr-pdm-full.toml", want: pkgs("certifi@2025.1.31", "chardet@3.0.4", "charset-normalizer@2.0.12", "colorama@0.3.9",
			"idna@2.7", "py@1.4.34", "pytest@3.2.5", "requests@2.27.1", "setuptools@39.2.0", "urllib3@1.26.20")},
		{name: "pip", file: "scalibr-pip-full.toml", want: pkgs("annotated-types@0.7.0", "packaging@25.0", "pyproject-toml@0.1.0", "setuptools@80.9.0", "wheel@0.45.1")},
		{name: "only the project", file: "scalibr-pip-just-self.toml"},
		{name: "trivy", file: "trivy-pylock.toml", want: trivyPylock},
	})
}

// What Seawall finds in trivy's fixtures; TestTrivyGolden compares these
// with trivy's golden results.
var (
	trivyPip = pkgs("click@8.0.0", "Flask@2.0.0", "itsdangerous@2.0.0", "Jinja2@3.0.0", "Werkzeug@0.11", "oauth2-client@4.0.0", "python-gitlab@2.0.0")
	// Trivy reads pyproject.toml for Direct; a lockfile alone cannot say.
	trivyPoetry = pkgs("click@8.1.3", "colorama@0.4.6", "werkzeug@0.14")
	trivyPipenv = pkgs("werkzeug@0.11.1")
	trivyUV     = []inventory.Package{pkg("click@8.1.3", "direct"), pkg("colorama@0.4.6"), pkg("werkzeug@0.11.1", "direct")}
	trivyPylock = pkgs("click@8.1.3", "colorama@0.4.6", "werkzeug@0.11.1")
)

func TestTrivyGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		ours         []inventory.Package
		missing      []string // in trivy's result, left out here on purpose
	}{
		// MarkupSafe>2.0.0 is unpinned; trivy skips it too.
		{name: "pip", golden: "pip.json.golden", ours: trivyPip},
		{name: "poetry", golden: "poetry.json.golden", ours: trivyPoetry},
		{name: "pipenv", golden: "pipenv.json.golden", ours: trivyPipenv},
		// Trivy reports the project itself (source = { virtual = "." }) as
		// the root package; Seawall leaves the project's own code out.
		{name: "uv", golden: "uv.json.golden", ours: trivyUV, missing: []string{"uv-test@0.1.0"}},
		{name: "pylock", golden: "pylock.json.golden", ours: trivyPylock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join("..", "..", "..", "..", "shared", "data", "golden", "trivy-integration", "integration", "testdata", tt.golden)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Skipf("trivy golden %s not present", tt.golden)
			}
			var g struct {
				Results []struct {
					Packages []struct{ Name, Version string }
				}
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, r := range g.Results {
				for _, p := range r.Packages {
					id := p.Name + "@" + p.Version
					keep := true
					for _, m := range tt.missing {
						keep = keep && m != id
					}
					if keep {
						want = append(want, id)
					}
				}
			}
			for _, p := range tt.ours {
				got = append(got, p.Name+"@"+p.Version)
			}
			sort.Strings(want)
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("trivy golden %s (-trivy +seawall):\n%s", tt.golden, diff)
			}
		})
	}
}

func fuzzSeeds(f *testing.F, dir string) {
	entries, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("testdata", dir, e.Name())); err == nil {
			f.Add(b)
		}
	}
}

func fuzzParser(f *testing.F, dir string, parse func(context.Context, []byte) ([]inventory.Package, error)) {
	fuzzSeeds(f, dir)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := parse(context.Background(), b)
		for _, p := range pkgs {
			if !validName(p.Name) || !validVersion(p.Version) || p.Type != inventory.TypePyPI {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzParseRequirements(f *testing.F) { fuzzParser(f, "requirements", ParseRequirements) }
func FuzzParsePoetry(f *testing.F)       { fuzzParser(f, "poetry", ParsePoetry) }
func FuzzParsePipfile(f *testing.F)      { fuzzParser(f, "pipfile", ParsePipfile) }
func FuzzParseUV(f *testing.F)           { fuzzParser(f, "uv", ParseUV) }
func FuzzParsePdm(f *testing.F)          { fuzzParser(f, "pdm", ParsePdm) }
func FuzzParsePylock(f *testing.F)       { fuzzParser(f, "pylock", ParsePylock) }
