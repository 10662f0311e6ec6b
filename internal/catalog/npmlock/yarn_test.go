package npmlock

import (
	"context"
	"testing"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// trivyYarn is what Seawall finds in trivy's yarn fixture; TestTrivyGolden
// compares it with trivy's golden result.
var trivyYarn = []inventory.Package{pkg("asap@2.0.6"), pkg("jquery@3.2.1"), pkg("promise@8.0.3")}

func TestYarnClassic(t *testing.T) {
	runCases(t, "yarn", ParseYarn, []parseCase{
		{name: "empty", file: "scalibr-empty.v1.lock"},
		{name: "one package", file: "scalibr-one-package.v1.lock", want: []inventory.Package{pkg("balanced-match@1.0.2")}},
		{name: "descriptor without range", file: "scalibr-no-version.v1.lock", want: []inventory.Package{pkg("balanced-match@1.0.2")}},
		{name: "two packages", file: "scalibr-two-packages.v1.lock", want: []inventory.Package{pkg("concat-map@0.0.1"), pkg("concat-stream@1.6.2")}},
		{name: "quoted keys", file: "scalibr-with-quotes.v1.lock", want: []inventory.Package{pkg("concat-map@0.0.1"), pkg("concat-stream@1.6.2")}},
		{name: "scoped", file: "scalibr-scoped-packages.v1.lock", want: []inventory.Package{
			pkg("@babel/code-frame@7.12.11"), pkg("@babel/compat-data@7.14.0"),
		}},
		{name: "several descriptors", file: "scalibr-multiple-constraints.v1.lock", want: []inventory.Package{
			pkg("@babel/code-frame@7.12.13"), pkg("domelementtype@1.3.1"),
		}},
		{name: "several versions", file: "scalibr-multiple-versions.v1.lock", want: []inventory.Package{
			pkg("define-properties@1.1.3"), pkg("define-property@0.2.5"), pkg("define-property@1.0.0"), pkg("define-property@2.0.2"),
		}},
		{name: "prereleases", file: "scalibr-with-prerelease.v1.lock", want: []inventory.Package{
			pkg("css-tree@1.0.0-alpha.37"), pkg("gensync@1.0.0-beta.2"), pkg("node-fetch@3.0.0-beta.9"),
			pkg("resolve@1.20.0"), pkg("resolve@2.0.0-next.3"),
		}},
		{name: "build metadata", file: "scalibr-with-build-string.v1.lock", want: []inventory.Package{
			pkg("domino@2.1.6+git"), pkg("tslib@2.6.2"),
		}},
		{name: "aliases", file: "scalibr-with-aliases.v1.lock", want: []inventory.Package{
			pkg("@babel/helper-validator-identifier@7.22.20"), pkg("ansi-regex@5.0.1"), pkg("ansi-regex@6.0.1"),
		}},
		{
			// file: directories and link: are local; the entry mixing a
			// file: descriptor with a registry range resolved to the local
			// copy (version 0.0.0, nothing resolved) and is left out too.
			name: "local packages", file: "scalibr-files.v1.lock",
			want: []inventory.Package{pkg("etag@1.8.1"), pkg("lodash@1.3.1")},
		},
		{name: "git dependencies", file: "scalibr-commits.v1.lock", want: []inventory.Package{
			pkg("@bower_components/alertify@0.0.0"), pkg("@bower_components/angular-animate@1.4.14"),
			pkg("babel-preset-php@1.1.1"), pkg("bats@1.5.0"), pkg("bats-assert@2.0.0"), pkg("bats-support@0.3.0"),
			pkg("casadistance@1.0.0"), pkg("is-number@2.0.0"), pkg("is-number@5.0.0"), pkg("kit@1.0.0"),
			pkg("mine1@1.0.0-alpha.37"), pkg("mine2@0.0.1"), pkg("mine3@1.2.3"), pkg("mine4@0.0.2"), pkg("mine4@0.0.4"),
			pkg("minimist@0.0.8"), pkg("my-package@1.8.3"), pkg("vue@2.6.12"),
		}},
		{name: "syft", file: "syft-yarn.lock", want: []inventory.Package{
			pkg("@babel/code-frame@7.10.4"), pkg("@types/minimatch@3.0.3"), pkg("@types/qs@6.9.4"), pkg("ajv@6.12.3"),
			pkg("asn1.js@4.10.1"), pkg("atob@2.1.2"), pkg("aws-sdk@2.706.0"), pkg("c0n-fab_u.laTION@7.7.7"), pkg("jhipster-core@7.3.4"),
		}},
		{name: "duplicates and a name field", file: "syft-yarn-dups.lock", want: []inventory.Package{
			pkg("async@0.9.2"), pkg("async@3.2.3"), pkg("merge-objects@1.0.5"), pkg("resize-observer-polyfill@1.5.2"), pkg("should-type@1.3.0"),
		}},
		{
			// Dev needs package.json; the lockfile alone cannot tell.
			name: "dev dependencies", file: "syft-yarn-dev-deps.lock",
			want: []inventory.Package{pkg("dev-only-transitive@1.0.0"), pkg("dev-pkg@1.0.0"), pkg("prod-pkg@1.0.0"), pkg("shared-pkg@1.0.0")},
		},
		{name: "trivy", file: "trivy-yarn.lock", want: trivyYarn},
	})
}

func TestYarnBerry(t *testing.T) {
	runCases(t, "yarn", ParseYarn, []parseCase{
		{name: "comments only", file: "scalibr-empty.v2.lock"},
		{name: "metadata only", file: "scalibr-metadata-only.v2.lock"},
		{name: "one package", file: "scalibr-one-package.v2.lock", want: []inventory.Package{pkg("balanced-match@1.0.2")}},
		{name: "two packages", file: "scalibr-two-packages.v2.lock", want: []inventory.Package{pkg("compare-func@2.0.0"), pkg("concat-map@0.0.1")}},
		{name: "quoted keys", file: "scalibr-with-quotes.v2.lock", want: []inventory.Package{pkg("compare-func@2.0.0"), pkg("concat-map@0.0.1")}},
		{name: "scoped", file: "scalibr-scoped-packages.v2.lock", want: []inventory.Package{
			pkg("@babel/cli@7.16.8"), pkg("@babel/code-frame@7.16.7"), pkg("@babel/compat-data@7.16.8"),
		}},
		{name: "several versions", file: "scalibr-multiple-versions.v2.lock", want: []inventory.Package{
			pkg("debug@2.6.9"), pkg("debug@3.2.7"), pkg("debug@4.3.3"),
		}},
		{
			// The workspace's dependencies name none of these two.
			name: "prereleases", file: "scalibr-with-prerelease.v2.lock",
			want: []inventory.Package{pkg("@nicolo-ribaudo/chokidar-2@2.1.8-no-fsevents.3"), pkg("gensync@1.0.0-beta.2")},
		},
		{name: "build metadata", file: "scalibr-with-build-string.v2.lock", want: []inventory.Package{
			pkg("domino@2.1.6+git", "direct"), pkg("tslib@2.6.2", "direct"),
		}},
		{name: "aliases", file: "scalibr-with-aliases.v2.lock", want: []inventory.Package{
			pkg("@babel/helper-validator-identifier@7.22.20", "direct"), pkg("ansi-regex@5.0.1", "direct"), pkg("ansi-regex@6.0.1", "direct"),
		}},
		{name: "workspaces left out", file: "scalibr-exclude-root.v2.lock", want: []inventory.Package{pkg("ansi-regex@6.1.0", "direct")}},
		{name: "file directory", file: "scalibr-files.v2.lock"},
		{name: "git dependencies", file: "scalibr-commits.v2.lock", want: []inventory.Package{
			pkg("@my-scope/my-first-package@0.0.6"), pkg("@typegoose/typegoose@7.2.0"), pkg("is-really-great@1.0.0"),
			pkg("my-node-sdk@1.1.0"), pkg("my-second-package@0.2.2"), pkg("my-third-package@0.16.1-dev"), pkg("vuejs@2.5.0"),
		}},
		{
			// The fixture repeats a key, which yaml.v3 would reject as a map.
			name: "syft with a duplicated key", file: "syft-yarn-berry.lock",
			want: []inventory.Package{
				pkg("@babel/code-frame@7.10.4", "direct"), pkg("@types/minimatch@3.0.3", "direct"), pkg("@types/qs@6.9.4", "direct"),
				pkg("ajv@6.12.3", "direct"), pkg("asn1.js@4.10.1", "direct"), pkg("atob@2.1.2", "direct"),
				pkg("aws-sdk@2.706.0"), pkg("jhipster-core@7.3.4"),
			},
		},
		{name: "two versions", file: "syft-yarn-berry-dups.lock", want: []inventory.Package{pkg("async@0.9.2"), pkg("async@3.2.6")}},
		{name: "dev dependencies", file: "syft-yarn-berry-dev-deps.lock", want: []inventory.Package{
			pkg("dev-only-transitive@1.0.0"), pkg("dev-pkg@1.0.0"), pkg("prod-pkg@1.0.0"), pkg("shared-pkg@1.0.0"),
		}},
		{
			// Hand-written: patch: resolves to the npm package under it
			// (and merges with the unpatched entry), virtual: to its npm
			// part; portal: and link: are local; a file: tarball, a git
			// checkout and an https tarball are third-party.
			name: "protocols", file: "protocols.v8.lock",
			want: []inventory.Package{
				pkg("is-number@7.0.0", "direct"), pkg("left-pad@1.3.0", "direct"), pkg("local-tgz@2.0.0", "direct"),
				pkg("resolve@1.22.8", "direct"), pkg("typescript@5.4.5", "direct"), pkg("virtual-example@2.0.1"),
			},
		},
	})
}

func TestYarnMalformed(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    int
		wantErr bool
	}{
		{"garbage", "hello\nworld\n", 0, true},
		{"garbage after an entry", "a@^1:\n  version \"1.0.0\"\nnot a header\n", 1, true},
		{"entry without version", "a@^1:\n  resolved \"x\"\n", 0, false},
		{"unterminated quote", "\"a@^1:\n  \"version\n", 0, false},
		{"berry that is not YAML", "__metadata:\n  version: 6\n\"a@npm:1\": [\n", 0, true},
		{"berry with a bad resolution", "__metadata:\n  version: 6\n\"a\":\n  resolution: \"nope\"\n", 0, true},
		{"berry patch loop", "__metadata:\n  version: 6\n\"a@x\":\n  version: 1.0.0\n  resolution: \"a@patch:a@patch:a@patch:a@patch:a@patch:a@patch:a@npm%3A1.0.0\"\n", 0, true},
		{"berry entry not a mapping", "__metadata:\n  version: 6\n\"a@npm:1\": [5]\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseYarn(context.Background(), []byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}
