package npmlock

import (
	"context"
	"testing"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// trivyPnpm is what Seawall finds in trivy's pnpm fixture; TestTrivyGolden
// compares it with trivy's golden result.
var trivyPnpm = []inventory.Package{pkg("jquery@3.3.9", "direct"), pkg("lodash@4.17.4", "direct")}

func TestPnpm(t *testing.T) {
	runCases(t, "pnpm", ParsePnpm, []parseCase{
		{name: "comment only", file: "scalibr-empty.yaml"},
		{name: "no packages", file: "scalibr-no-packages.yaml"},
		{name: "v9 no packages", file: "scalibr-no-packages.v9.yaml"},
		{name: "version only", file: "scalibr-missing-packages.yaml"},
		{name: "not YAML", file: "scalibr-not-yaml.txt", wantErr: true},
		{name: "truncated", file: "syft-corrupt.yaml", wantErr: true},
		{name: "v5 one package", file: "scalibr-one-package.yaml", want: []inventory.Package{pkg("acorn@8.7.0", "direct")}},
		{name: "v5 one package, dev false", file: "scalibr-one-package-dev.yaml", want: []inventory.Package{pkg("acorn@8.7.0", "direct")}},
		{name: "v6 one package", file: "scalibr-one-package-v6-lockfile.yaml", want: []inventory.Package{pkg("acorn@8.7.0", "direct")}},
		{name: "v9 one package", file: "scalibr-one-package.v9.yaml", want: []inventory.Package{pkg("acorn@8.11.3", "direct")}},
		{name: "v9 dev", file: "scalibr-one-package-dev.v9.yaml", want: []inventory.Package{pkg("acorn@8.11.3", "dev", "direct")}},
		{name: "v5 scoped", file: "scalibr-scoped-packages.yaml", want: []inventory.Package{pkg("@typescript-eslint/types@5.13.0", "direct")}},
		{name: "v6 scoped", file: "scalibr-scoped-packages-v6-lockfile.yaml", want: []inventory.Package{pkg("@typescript-eslint/types@5.57.1", "direct")}},
		{name: "v9 scoped", file: "scalibr-scoped-packages.v9.yaml", want: []inventory.Package{pkg("@typescript-eslint/types@5.62.0", "direct")}},
		{name: "v5 peer suffix", file: "scalibr-peer-dependencies.yaml", want: []inventory.Package{
			pkg("acorn@8.7.0", "direct"), pkg("acorn-jsx@5.3.2", "direct"),
		}},
		{name: "v5 peer suffix, syft", file: "syft-pnpm-v5-peer-suffix.yaml", want: []inventory.Package{
			pkg("acorn@8.8.0", "direct"), pkg("acorn-jsx@5.3.2", "direct"), pkg("webpack-cli@4.10.0", "direct"),
		}},
		{name: "v6 peer suffix", file: "scalibr-peer-dependencies-v6.yaml", want: []inventory.Package{
			pkg("js-tokens@4.0.0"), pkg("loose-envify@1.4.0"), pkg("react@18.2.0"), pkg("react-dom@18.2.0", "direct"), pkg("scheduler@0.23.0"),
		}},
		{name: "v9 peer suffix", file: "scalibr-peer-dependencies.v9.yaml", want: []inventory.Package{
			pkg("acorn@8.11.3"), pkg("acorn-jsx@5.3.2", "direct"),
		}},
		{name: "v5 hashed peer suffix", file: "scalibr-peer-dependencies-advanced.yaml", want: []inventory.Package{
			pkg("@typescript-eslint/eslint-plugin@5.13.0", "direct"), pkg("@typescript-eslint/parser@5.13.0", "direct"),
			pkg("@typescript-eslint/type-utils@5.13.0"), pkg("@typescript-eslint/types@5.13.0"),
			pkg("@typescript-eslint/typescript-estree@5.13.0"), pkg("@typescript-eslint/utils@5.13.0"),
			pkg("eslint@8.10.0", "direct"), pkg("eslint-utils@3.0.0"), pkg("tsutils@3.21.0"),
		}},
		{name: "v6 canary versions", file: "scalibr-peer-dependencies-advanced-v6.yaml", want: []inventory.Package{
			pkg("js-tokens@4.0.0"), pkg("loose-envify@1.4.0"), pkg("react@18.3.0-canary-ab31a9ed2-20230824"),
			pkg("react-dom@18.3.0-canary-ab31a9ed2-20230824", "direct"), pkg("scheduler@0.24.0-canary-ab31a9ed2-20230824"),
		}},
		{name: "v6 release candidate", file: "scalibr-peer-dependencies-advanced-rc-v6.yaml", want: []inventory.Package{
			pkg("js-tokens@4.0.0"), pkg("loose-envify@1.4.0"), pkg("react@18.2.0"), pkg("react-dom@18.0.0-rc.3", "direct"), pkg("scheduler@0.21.0"),
		}},
		{name: "v9 nested peers", file: "scalibr-peer-dependencies-advanced.v9.yaml", want: []inventory.Package{
			pkg("@eslint-community/eslint-utils@4.4.0"), pkg("@eslint/eslintrc@2.1.4"),
			pkg("@typescript-eslint/eslint-plugin@5.62.0", "direct"), pkg("@typescript-eslint/parser@5.62.0", "direct"),
			pkg("@typescript-eslint/type-utils@5.62.0"), pkg("@typescript-eslint/typescript-estree@5.62.0"),
			pkg("@typescript-eslint/utils@5.62.0"), pkg("debug@4.3.4"), pkg("eslint@8.57.0", "direct"), pkg("has-flag@4.0.0"),
			pkg("supports-color@7.2.0"), pkg("tsutils@3.21.0"), pkg("typescript@4.9.5", "direct"),
		}},
		{name: "v5 groups", file: "scalibr-mixed-groups.v53.yaml", want: []inventory.Package{
			pkg("ansi-regex@5.0.1", "direct"), pkg("is-number@7.0.0", "dev", "direct"), pkg("uuid@8.3.2", "direct"),
		}},
		{name: "v5.4 groups", file: "scalibr-mixed-groups.v54.yaml", want: []inventory.Package{
			pkg("ansi-regex@5.0.1", "direct"), pkg("is-number@7.0.0", "dev", "direct"), pkg("uuid@8.3.2", "direct"),
		}},
		{name: "v6 groups", file: "scalibr-mixed-groups.v6.yaml", want: []inventory.Package{
			pkg("ansi-regex@5.0.0", "direct"), pkg("is-number@7.0.0", "dev", "direct"), pkg("uuid@8.0.0", "direct"),
		}},
		{
			// v9 has no dev flags: is-number is only reached from devDependencies.
			name: "v9 groups", file: "scalibr-mixed-groups.v9.yaml",
			want: []inventory.Package{pkg("ansi-regex@5.0.1", "direct"), pkg("is-number@7.0.0", "dev", "direct"), pkg("uuid@8.3.2", "direct")},
		},
		{name: "v5 several versions", file: "scalibr-multiple-versions.yaml", want: []inventory.Package{
			pkg("uuid@3.3.2"), pkg("uuid@8.3.2", "direct"), pkg("xmlbuilder@9.0.7"),
		}},
		{name: "v9 several versions", file: "scalibr-multiple-versions.v9.yaml", want: []inventory.Package{
			pkg("uuid@8.0.0"), pkg("uuid@8.3.2", "direct"), pkg("xmlbuilder@11.0.1"),
		}},
		{name: "v5 many packages", file: "scalibr-multiple-packages.yaml", want: []inventory.Package{
			pkg("aws-sdk@2.1087.0", "direct"), pkg("base64-js@1.5.1"), pkg("buffer@4.9.2"), pkg("events@1.1.1"), pkg("ieee754@1.1.13"),
			pkg("isarray@1.0.0"), pkg("jmespath@0.16.0"), pkg("punycode@1.3.2"), pkg("querystring@0.2.0"), pkg("sax@1.2.1"),
			pkg("url@0.10.3"), pkg("uuid@3.3.2"), pkg("xml2js@0.4.19"), pkg("xmlbuilder@9.0.7"),
		}},
		{
			// Registry prefixes are dropped; keys without a version are skipped.
			name: "v5 unusual keys", file: "scalibr-exotic.yaml",
			want: []inventory.Package{
				pkg("@foo/bar@1.0.0"), pkg("@foo/bar@1.1.0"), pkg("foo@1.0.0"), pkg("foo@1.1.0"), pkg("foo@1.2.0"), pkg("foo@1.3.0"), pkg("foo@1.4.0"),
			},
		},
		{name: "v5 keys that are not paths", file: "scalibr-invalid-path.yaml", want: []inventory.Package{pkg("acorn@8.7.0")}},
		{name: "v5 keys that are not paths, twice", file: "scalibr-invalid-paths.yaml", want: []inventory.Package{pkg("acorn@8.7.0")}},
		{
			// Only the tarball is kept: the others resolve to directories.
			name: "v5 local packages", file: "scalibr-files.yaml",
			want: []inventory.Package{pkg("my-file-package@0.0.0")},
		},
		{name: "v5 tarball", file: "scalibr-tarball.yaml", want: []inventory.Package{pkg("@my-org/my-package@3.2.3", "dev", "direct")}},
		{
			// The bitbucket dependency names a key that is not in the file.
			name: "v5 git dependencies", file: "scalibr-commits.yaml",
			want: []inventory.Package{
				pkg("@my-scope/my-other-package@1.0.0"), pkg("@my-scope/my-package@1.0.0", "direct"), pkg("faker-parser@0.0.1"),
				pkg("mocks@20.0.1", "direct"), pkg("my-bitbucket-package@1.0.0"),
			},
		},
		{name: "v9 git dependencies", file: "scalibr-commits.v9.yaml", want: []inventory.Package{
			pkg("ansi-regex@6.0.1", "direct"), pkg("is-number@7.0.0", "direct"),
		}},
		{name: "v5.4, syft", file: "syft-pnpm.yaml", want: []inventory.Package{pkg("@bcoe/v8-coverage@0.2.3", "dev")}},
		{name: "v6, syft", file: "syft-pnpm-v6.yaml", want: []inventory.Package{
			pkg("@babel/core@7.21.4"), pkg("@testing-library/jest-dom@5.16.5", "direct"), pkg("@testing-library/react@13.4.0", "direct"),
			pkg("@testing-library/user-event@13.5.0", "direct"), pkg("@types/eslint@8.37.0"), pkg("react@18.2.0", "direct"),
			pkg("react-dom@18.2.0", "direct"), pkg("read-cache@1.0.0"), pkg("schema-utils@3.1.2"), pkg("web-vitals@2.1.4", "direct"),
		}},
		{
			// Hand-edited v9 with v6-style keys and dev flags.
			name: "v9 with v6 keys, syft", file: "syft-pnpm-v9.yaml",
			want: []inventory.Package{
				pkg("@babel/core@7.24.7"), pkg("@babel/helper-plugin-utils@7.24.7"), pkg("is-positive@3.1.0", "direct"), pkg("rollup@4.18.0", "direct"),
			},
		},
		{name: "v9 snapshots, syft", file: "syft-pnpm-v9-snapshots.yaml", want: []inventory.Package{
			pkg("cross-spawn@7.0.6", "direct"), pkg("isexe@2.0.0"), pkg("path-key@3.1.1"), pkg("shebang-command@2.0.0"),
			pkg("shebang-regex@3.0.0"), pkg("which@2.0.2"),
		}},
		{
			// The first document locks pnpm itself and is not the project's.
			name: "two documents", file: "syft-pnpm-multi-doc.yaml",
			want: []inventory.Package{pkg("minimist@1.2.0", "direct")},
		},
		{
			// Hand-written workspace: ms@2.1.3 and tinypool are reached only
			// through vitest, a devDependency; ms@2.1.2 also through a
			// production dependency. The alias string-width-cjs resolves to
			// string-width; link: and the local directory are left out.
			name: "v9 workspace", file: "workspace.v9.yaml",
			want: []inventory.Package{
				pkg("debug@4.3.4", "direct"), pkg("has-flag@4.0.0"), pkg("ms@2.1.2", "direct"), pkg("ms@2.1.3", "dev"),
				pkg("string-width@4.2.3", "direct"), pkg("supports-color@8.1.1"), pkg("tinypool@0.8.4", "dev"),
				pkg("vitest@1.6.0", "dev", "direct"),
			},
		},
		{name: "v6, trivy", file: "trivy-pnpm.yaml", want: trivyPnpm},
	})
}

func TestPnpmMalformed(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr bool
	}{
		{"no version", "packages:\n  /a/1.0.0: {}\n", true},
		{"version not a number", "lockfileVersion: x\npackages:\n  /a/1.0.0: {}\n", true},
		{"version a list", "lockfileVersion: [1]\n", true},
		{"packages a list", "lockfileVersion: 5.4\npackages: [1, 2]\n", true},
		{"many documents", "lockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n---\nlockfileVersion: 5.4\n", true},
		{"alias bomb", "lockfileVersion: 5.4\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\npackages: *i\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePnpm(context.Background(), []byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
