package npmlock

import (
	"context"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// trivyBun is what Seawall reports for trivy's bun fixture.
var trivyBun = []inventory.Package{
	pkg("jquery@3.3.1", "direct"),
	// A peer dependency of the root is installed like a dependency.
	pkg("typescript@5.8.3", "direct"),
	pkg("@types/bun@1.2.14", "dev", "direct"),
	pkg("bun-types@1.2.14", "dev"),
	pkg("@types/node@22.15.21", "dev"),
	pkg("undici-types@6.21.0", "dev"),
}

func TestBun(t *testing.T) {
	wrappy := pkg("wrappy@1.0.2", "direct")
	runCases(t, "bun", ParseBun, []parseCase{
		{name: "one package", file: "scalibr-one-package.json5", want: []inventory.Package{wrappy}},
		{name: "one dev package", file: "scalibr-one-package-dev.json5", want: []inventory.Package{wrappy}},
		{name: "two packages", file: "scalibr-two-packages.json5", want: []inventory.Package{pkg("has-flag@4.0.0", "direct"), wrappy}},
		{name: "scoped", file: "scalibr-scoped-packages.json5", want: []inventory.Package{pkg("@typescript-eslint/types@5.62.0", "direct")}},
		{name: "scoped and dev", file: "scalibr-scoped-packages-mixed.json5", want: []inventory.Package{
			pkg("@babel/code-frame@7.26.2", "direct"), pkg("@babel/helper-validator-identifier@7.25.9"),
			pkg("js-tokens@4.0.0"), pkg("picocolors@1.1.1"), pkg("wrappy@1.0.2", "dev", "direct"),
		}},
		{
			// An alias installs the real package under another key.
			name: "alias", file: "scalibr-alias.json5",
			want: []inventory.Package{
				pkg("has-flag@3.0.0"), pkg("has-flag@4.0.0"),
				pkg("supports-color@6.1.0", "direct"), pkg("supports-color@7.2.0", "direct"),
			},
		},
		{name: "tuples without a name", file: "scalibr-bad-tuple.json5", want: []inventory.Package{wrappy}},
		{
			// Nested install paths: chalk's own supports-color and has-flag
			// are reached only from chalk, a dev dependency.
			name: "nested", file: "scalibr-nested-dependencies.json5",
			want: []inventory.Package{
				pkg("ansi-styles@4.3.0", "dev"), pkg("chalk@4.1.2", "dev", "direct"), pkg("color-convert@2.0.1", "dev"),
				pkg("color-name@1.1.4", "dev"), pkg("has-flag@2.0.0", "direct"), pkg("has-flag@3.0.0"),
				pkg("has-flag@4.0.0", "dev"), pkg("supports-color@5.5.0", "direct"), pkg("supports-color@7.2.0", "dev"),
			},
		},
		// Only a GitHub dependency, which has no version.
		{name: "blog sample", file: "scalibr-blog-sample.json5"},
		{
			// chalk's supports-color is the hoisted production one.
			name: "nested, shared", file: "scalibr-nested-dependencies-dup.json5",
			want: []inventory.Package{
				pkg("ansi-styles@4.3.0", "dev"), pkg("chalk@4.1.2", "dev", "direct"), pkg("color-convert@2.0.1", "dev"),
				pkg("color-name@1.1.4", "dev"), pkg("has-flag@2.0.0", "direct"), pkg("has-flag@4.0.0"),
				pkg("supports-color@7.2.0", "direct"),
			},
		},
		{
			// has-flag is a dev dependency and a production one's dependency.
			name: "same package in two groups", file: "scalibr-same-package-different-groups.json5",
			want: []inventory.Package{pkg("has-flag@3.0.0", "direct"), pkg("supports-color@5.5.0", "direct")},
		},
		{name: "optional", file: "scalibr-optional-package.json5", want: []inventory.Package{
			pkg("acorn@8.14.0", "direct"), pkg("fsevents@0.3.8", "direct"), pkg("nan@2.22.0"),
		}},
		{name: "peer, explicit", file: "scalibr-peer-dependencies-explicit.json5", want: []inventory.Package{
			pkg("acorn@8.14.0", "direct"), pkg("acorn-jsx@5.3.2", "direct"),
		}},
		{name: "peer, implicit", file: "scalibr-peer-dependencies-implicit.json5", want: []inventory.Package{
			pkg("acorn@8.14.0"), pkg("acorn-jsx@5.3.2", "direct"),
		}},
		{
			// Git dependencies carry no version and are left out; what
			// they depend on, and peers, are kept.
			name: "git dependencies", file: "scalibr-commits.json5",
			want: []inventory.Package{
				pkg("@babel/helper-plugin-utils@7.26.5", "dev"), pkg("@babel/helper-string-parser@7.25.9", "dev"),
				pkg("@babel/helper-validator-identifier@7.25.9", "dev"), pkg("@babel/parser@7.26.5", "dev"),
				pkg("@babel/types@7.26.5", "dev"), pkg("jquery@3.7.1", "dev"), pkg("lodash@1.3.1", "direct"),
				pkg("make-synchronized@0.2.9", "dev"), pkg("php-parser@2.2.0", "dev"), pkg("prettier@3.4.2", "dev"),
				pkg("stopwords@0.0.1", "direct"),
			},
		},
		{name: "file dependency", file: "scalibr-files.json5", want: []inventory.Package{pkg("lodash@1.3.1", "direct")}},
		{name: "empty object", file: "scalibr-empty.json5"},
		{name: "no packages", file: "scalibr-no-packages.json5"},
		{name: "not JSON", file: "scalibr-not-json.txt", wantErr: true},
		{name: "git with a short hash, osv-scanner", file: "osvscanner-shorthash.lock"},
		{name: "empty file, syft", file: "syft-glob-paths.lock", wantErr: true},
		{name: "trivy", file: "trivy-bun.lock", want: trivyBun},
		{
			// Members resolve their own dependencies first; workspace,
			// link, file and tarball entries are left out.
			name: "workspaces", file: "workspaces.lock",
			want: []inventory.Package{
				pkg("lodash@3.10.1", "direct"), pkg("lodash@4.17.21", "direct"), pkg("ms@2.1.3"),
				pkg("typescript@5.8.3", "dev", "direct"),
			},
		},
	})
}

func TestJSONC(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "plain", in: `{"a": [1, 2]}`, want: `{"a": [1, 2]}`},
		{name: "trailing commas", in: `{"a": [1, 2,], }`, want: `{"a": [1, 2 ]  }`},
		{name: "comma before a comment", in: "[1, // x\n]", want: "[1  \n]"},
		{name: "block comment", in: `{/* c */"a": 1}`, want: `{ "a": 1}`},
		{name: "comment markers in strings", in: `{"a": "// /* , ]"}`, want: `{"a": "// /* , ]"}`},
		{name: "escaped quote", in: `["a\",", ]`, want: `["a\","  ]`},
		{name: "unterminated string", in: `{"a`, wantErr: true},
		{name: "unterminated comment", in: `{/* `, wantErr: true},
		{name: "too deep", in: strings.Repeat("[", maxJSONCDepth+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsoncToJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBunHostile checks that deep or long install paths and cycles do
// not blow up.
func TestBunHostile(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"workspaces": {"": {"dependencies": {"a": "1"}}}, "packages": {`)
	b.WriteString(`"a": ["a@1.0.0", "", {"dependencies": {"b": "1"}}],`)
	b.WriteString(`"b": ["b@1.0.0", "", {"dependencies": {"a": "1"}}],`)
	deep := strings.TrimSuffix(strings.Repeat("a/", maxNesting+5), "/")
	b.WriteString(`"` + deep + `": ["c@1.0.0", "", {"dependencies": {"a": "1"}}],`)
	b.WriteString(`"` + strings.Repeat("x", maxBunKey+1) + `": ["d@1.0.0", "", {}]`)
	b.WriteString(`}}`)
	got, err := ParseBun(context.Background(), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@1.0.0", "b@1.0.0"}; strings.Join(nameVersions(got), " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", nameVersions(got), want)
	}
}

func FuzzParseBun(f *testing.F) {
	fuzzSeeds(f, "bun")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParseBun(context.Background(), b)
		checkFuzzResult(t, pkgs)
	})
}
