package report

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

var update = flag.Bool("update", false, "rewrite golden files and generated data from the current output")

// fixedMeta is what SOURCE_DATE_EPOCH=1700000000 gives.
var fixedMeta = Meta{ToolVersion: "1.2.3-test", Created: time.Unix(1700000000, 0).UTC()}

const (
	layer0Digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	layer0DiffID = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	layer1Digest = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	layer1DiffID = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	manifestDig  = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	configDig    = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func inLayer(path string, i int) []inventory.Location {
	l := inventory.Location{Path: path, LayerIndex: i}
	switch i {
	case 0:
		l.LayerDigest, l.LayerDiffID = layer0Digest, layer0DiffID
	case 1:
		l.LayerDigest, l.LayerDiffID = layer1Digest, layer1DiffID
	}
	return []inventory.Location{l}
}

// goMeta is what the Go cataloger records for every module of one binary.
func goMeta() map[string]string {
	return map[string]string{"goVersion": "go1.26.0", "mainModule": "example.com/app", "GOOS": "linux", "GOARCH": "arm64"}
}

// imageInventory has a package of every type, with the values that tend to
// break SBOM writers: a scoped npm name, a Maven groupId, a Composer vendor
// inside the name, an RPM epoch, a Debian epoch and a source package with
// its own version, non-ASCII names and paths, a path inside an archive,
// license expressions, exceptions, free-text licenses and several licenses
// on one package.
func imageInventory() *inventory.Inventory {
	distro := &inventory.Distro{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", Source: "/etc/os-release"}
	pkgs := []inventory.Package{
		{Type: inventory.TypeDeb, Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", Arch: "amd64", Licenses: []string{"Apache-2.0"}, FoundBy: "dpkg", Locations: inLayer("/var/lib/dpkg/status", 0)},
		{Type: inventory.TypeDeb, Name: "mount", Version: "2.38.1-5+b1", SourceName: "util-linux", SourceVersion: "2.38.1-5", Arch: "amd64", Licenses: []string{"GPL-2+", "LGPL-2.1+", "BSD-4-Clause"}, FoundBy: "dpkg", Locations: inLayer("/var/lib/dpkg/status", 0)},
		{Type: inventory.TypeDeb, Name: "libgcc-s1", Version: "1:12.2.0-14", SourceName: "gcc-12", SourceVersion: "12.2.0-14", Arch: "amd64", Licenses: []string{"GPL-3.0-or-later WITH GCC-exception-3.1"}, FoundBy: "dpkg", Locations: inLayer("/var/lib/dpkg/status", 0)},
		{Type: inventory.TypeDeb, Name: "base-files", Version: "12.4+deb12u5", Arch: "amd64", FoundBy: "dpkg", Locations: []inventory.Location{
			{Path: "/var/lib/dpkg/status", LayerIndex: 0, LayerDigest: layer0Digest, LayerDiffID: layer0DiffID},
			{Path: "/var/lib/dpkg/status", LayerIndex: 1, LayerDigest: layer1Digest, LayerDiffID: layer1DiffID},
		}},
		{Type: inventory.TypeAPK, Name: "musl", Version: "1.2.4-r2", SourceName: "musl", Arch: "x86_64", Licenses: []string{"MIT"}, FoundBy: "apk", Locations: inLayer("/lib/apk/db/installed", 1)},
		{Type: inventory.TypeRPM, Name: "openssl-libs", Version: "3.0.7-27.el9", Epoch: 1, SourceName: "openssl", SourceVersion: "3.0.7-27.el9", Arch: "x86_64", Licenses: []string{"ASL 2.0"}, FoundBy: "rpm", Locations: inLayer("/var/lib/rpm/rpmdb.sqlite", 1)},
		{Type: inventory.TypeGolang, Name: "example.com/app", Version: "v1.4.0", FoundBy: "gobinary", Locations: inLayer("/usr/local/bin/app", 1), Metadata: goMeta()},
		{Type: inventory.TypeGolang, Name: "github.com/spf13/cobra", Version: "v1.10.2", FoundBy: "gobinary", Locations: inLayer("/usr/local/bin/app", 1), Metadata: goMeta()},
		{Type: inventory.TypeGolang, Name: "stdlib", Version: "go1.26.0", FoundBy: "gobinary", Locations: inLayer("/usr/local/bin/app", 1), Metadata: goMeta()},
		{Type: inventory.TypeNPM, Namespace: "@types", Name: "node", Version: "20.11.5", Licenses: []string{"MIT"}, Dev: true, FoundBy: "npm-lock", Locations: inLayer("/app/package-lock.json", 1)},
		{Type: inventory.TypeNPM, Name: "@babel/core", Version: "7.24.0", Licenses: []string{"MIT"}, Direct: true, FoundBy: "npm-lock", Locations: inLayer("/app/package-lock.json", 1)},
		{Type: inventory.TypeNPM, Name: "left-pad", Version: "1.3.0", Licenses: []string{"WTFPL OR MIT"}, FoundBy: "npm-lock", Locations: inLayer("/app/package-lock.json", 1)},
		{Type: inventory.TypePyPI, Name: "Requests", Version: "2.31.0", Licenses: []string{"Apache 2.0"}, FoundBy: "python-dist-info", Locations: inLayer("/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", 1)},
		{Type: inventory.TypePyPI, Name: "naïve-ünïcode", Version: "1.0", Licenses: []string{"Lizenz für alle © 2024 <ä@example.com>"}, FoundBy: "python-dist-info", Locations: inLayer("/opt/données/site-packages/naïve_ünïcode-1.0.dist-info/METADATA", 1)},
		{Type: inventory.TypeMaven, Namespace: "org.apache.commons", Name: "commons-lang3", Version: "3.14.0", Licenses: []string{"Apache-2.0"}, FoundBy: "java-archive", Locations: inLayer("/app/app.war!/WEB-INF/lib/commons-lang3-3.14.0.jar", 1)},
		{Type: inventory.TypeCargo, Name: "serde", Version: "1.0.197", Licenses: []string{"MIT OR Apache-2.0"}, FoundBy: "cargo-auditable", Locations: inLayer("/usr/local/bin/rusty", 1)},
		{Type: inventory.TypeGem, Name: "rails", Version: "7.1.3", Licenses: []string{"LicenseRef-Acme-EULA"}, FoundBy: "gemspec", Locations: inLayer("/usr/local/bundle/specifications/rails-7.1.3.gemspec", 1)},
		{Type: inventory.TypeComposer, Name: "symfony/console", Version: "v6.4.4", Licenses: []string{"MIT", "GPL-3.0-or-later"}, FoundBy: "composer", Locations: inLayer("/app/vendor/composer/installed.json", 1)},
		{Type: inventory.TypeNuGet, Name: "Newtonsoft.Json", Version: "13.0.3", Licenses: []string{"MIT", "(Apache-2.0 OR MIT) AND BSD-3-Clause"}, FoundBy: "dotnet-deps", Locations: inLayer("/app/app.deps.json", 1)},
	}
	return finish(&inventory.Inventory{
		Source: inventory.Source{
			Type: "registry", Name: "registry.example:5000/team/app:1.2",
			Digest: manifestDig, ImageID: configDig,
			RepoTags:    []string{"registry.example:5000/team/app:1.2"},
			RepoDigests: []string{"registry.example:5000/team/app@" + manifestDig},
			Platform:    "linux/arm64",
			Layers: []inventory.Layer{
				{Digest: layer0Digest, DiffID: layer0DiffID, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 29124563, CreatedBy: "/bin/sh -c #(nop) ADD file:… in /"},
				{Digest: layer1Digest, DiffID: layer1DiffID, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 1048576, CreatedBy: "COPY app /app"},
			},
		},
		Distro:   distro,
		Packages: pkgs,
		Warnings: []string{"/app/broken/package-lock.json: unexpected end of JSON input"},
	})
}

// rootfsInventory is a root filesystem in which no distro was recognised,
// yet a dpkg database was found, and where nothing has a layer.
func rootfsInventory() *inventory.Inventory {
	return finish(&inventory.Inventory{
		Source: inventory.Source{Type: "rootfs", Name: "/srv/rootfs with spaces"},
		Packages: []inventory.Package{
			{Type: inventory.TypeDeb, Name: "tzdata", Version: "2024a-0+deb12u1", Licenses: []string{"public-domain"}, FoundBy: "dpkg", Locations: []inventory.Location{{Path: "/var/lib/dpkg/status.d/tzdata"}}},
			{Type: inventory.TypeNPM, Name: "express", Version: "4.19.2", Licenses: []string{"MIT"}, FoundBy: "npm-installed", Locations: []inventory.Location{{Path: "/usr/lib/node_modules/express/package.json"}}},
		},
	})
}

// emptyInventory is a source tree in which nothing was found.
func emptyInventory() *inventory.Inventory {
	return &inventory.Inventory{Source: inventory.Source{Type: "dir", Name: "."}}
}

// finish gives every package the PURL and stable ID a cataloger would,
// and sorts them as the engine does.
func finish(inv *inventory.Inventory) *inventory.Inventory {
	for i := range inv.Packages {
		p := &inv.Packages[i]
		p.PURL = purl.For(p, inv.Distro)
		p.ID = inventory.StableID(p)
	}
	inventory.Sort(inv.Packages)
	return inv
}

var fixtures = []struct {
	name string
	inv  func() *inventory.Inventory
}{
	{"image", imageInventory},
	{"rootfs", rootfsInventory},
	{"empty", emptyInventory},
}

func render(t *testing.T, format string, inv *inventory.Inventory) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSBOM(&buf, format, inv, fixedMeta); err != nil {
		t.Fatalf("WriteSBOM(%s): %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}

var goldenExt = map[string]string{
	FormatJSON:      "json",
	FormatTable:     "table",
	FormatCycloneDX: "cdx.json",
	FormatSPDX:      "spdx.json",
}

// TestGolden pins every format's output for fixed inputs and a fixed
// timestamp, and checks that the bytes do not depend on the order in which
// packages arrive: two scans of the same content give the same document.
func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		for _, format := range SBOMFormats {
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				got := render(t, format, fx.inv())
				golden(t, fx.name+"."+goldenExt[format]+".golden", got)

				if format == FormatJSON || format == FormatTable {
					return // these list packages in the order the engine sorted them
				}
				for seed := range uint64(3) {
					inv := fx.inv()
					rng := rand.New(rand.NewPCG(seed, 42))
					rng.Shuffle(len(inv.Packages), func(i, j int) { inv.Packages[i], inv.Packages[j] = inv.Packages[j], inv.Packages[i] })
					if again := render(t, format, inv); !bytes.Equal(got, again) {
						t.Fatalf("output changed when packages arrived in another order (seed %d):\n%s", seed, cmp.Diff(string(got), string(again)))
					}
				}
			})
		}
	}
}

func TestWriteSBOMFormats(t *testing.T) {
	inv := rootfsInventory()
	tests := []struct {
		name, format, wantPrefix string
		wantErr                  bool
	}{
		{"cyclonedx", "cyclonedx", `{` + "\n" + `  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json"`, false},
		{"cyclonedx-json alias", "cyclonedx-json", `{` + "\n" + `  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json"`, false},
		{"upper case", "CycloneDX", `{` + "\n" + `  "$schema"`, false},
		{"spdx", "spdx", `{` + "\n" + `  "spdxVersion": "SPDX-2.3"`, false},
		{"spdx-json alias", "spdx-json", `{` + "\n" + `  "spdxVersion": "SPDX-2.3"`, false},
		{"json", "json", `{` + "\n" + `  "schemaVersion": "1"`, false},
		{"table", "table", "/srv/rootfs with spaces\n2 packages", false},
		{"unknown", "xml", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteSBOM(&buf, tt.format, inv, fixedMeta)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "cyclonedx") {
					t.Fatalf("WriteSBOM(%q) error = %v, want one naming the formats", tt.format, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), tt.wantPrefix) {
				t.Errorf("WriteSBOM(%q) starts %q, want %q", tt.format, buf.String()[:min(80, buf.Len())], tt.wantPrefix)
			}
		})
	}
}

func TestDocumentUUID(t *testing.T) {
	base := imageInventory()
	id := func(inv *inventory.Inventory, meta Meta) string {
		return documentUUID(inv, documentPackages(inv), meta)
	}
	want := id(base, fixedMeta)
	if got := id(imageInventory(), fixedMeta); got != want {
		t.Errorf("same content, different UUIDs: %s and %s", want, got)
	}
	later := fixedMeta
	later.Created = later.Created.Add(time.Second)
	other := imageInventory()
	other.Source.Digest = "sha256:" + strings.Repeat("c", 64)
	fewer := imageInventory()
	fewer.Packages = fewer.Packages[1:]
	newer := fixedMeta
	newer.ToolVersion = "9.9.9"
	for name, got := range map[string]string{
		"another timestamp":   id(base, later),
		"another image":       id(other, fixedMeta),
		"another package set": id(fewer, fixedMeta),
		"another tool":        id(base, newer),
	} {
		if got == want {
			t.Errorf("%s: UUID did not change", name)
		}
	}
	if want[14] != '5' || !strings.ContainsRune("89ab", rune(want[19])) {
		t.Errorf("%s is not a version 5, RFC 4122 variant UUID", want)
	}
}

func TestDescribeSubject(t *testing.T) {
	tests := []struct {
		name string
		src  inventory.Source
		want subject
	}{
		{"registry with digest", imageInventory().Source, subject{kind: "container", name: "registry.example:5000/team/app", version: manifestDig,
			purl: "pkg:oci/app@" + manifestDig + "?arch=arm64&repository_url=registry.example:5000%2Fteam%2Fapp&tag=1.2"}},
		{"docker archive with a tag only", inventory.Source{Type: "docker-archive", Name: "/tmp/app.tar", ImageID: configDig, RepoTags: []string{"app:1.0"}},
			subject{kind: "container", name: "app", version: configDig}},
		{"OCI layout without names", inventory.Source{Type: "oci-layout", Name: "./alpine", Digest: manifestDig},
			subject{kind: "container", name: "./alpine", version: manifestDig}},
		{"rootfs", inventory.Source{Type: "rootfs", Name: "/"}, subject{kind: "file", name: "/"}},
		{"source tree", inventory.Source{Type: "dir", Name: "."}, subject{kind: "application", name: "."}},
		{"nameless", inventory.Source{}, subject{kind: "file", name: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, describeSubject(tt.src), cmp.AllowUnexported(subject{})); diff != "" {
				t.Errorf("describeSubject (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupAndName(t *testing.T) {
	tests := []struct {
		name              string
		pkg               inventory.Package
		wantGroup, wantNm string
	}{
		{"npm scope in namespace", inventory.Package{Type: inventory.TypeNPM, Namespace: "@types", Name: "node"}, "@types", "node"},
		{"npm scope in name", inventory.Package{Type: inventory.TypeNPM, Name: "@babel/core"}, "@babel", "core"},
		{"npm unscoped", inventory.Package{Type: inventory.TypeNPM, Name: "left-pad"}, "", "left-pad"},
		{"maven groupId", inventory.Package{Type: inventory.TypeMaven, Namespace: "org.apache.commons", Name: "commons-lang3"}, "org.apache.commons", "commons-lang3"},
		{"maven in name", inventory.Package{Type: inventory.TypeMaven, Name: "junit:junit"}, "junit", "junit"},
		{"composer vendor", inventory.Package{Type: inventory.TypeComposer, Name: "symfony/console"}, "symfony", "console"},
		{"go module keeps its path", inventory.Package{Type: inventory.TypeGolang, Name: "github.com/spf13/cobra"}, "", "github.com/spf13/cobra"},
		{"deb", inventory.Package{Type: inventory.TypeDeb, Namespace: "debian", Name: "libssl3"}, "", "libssl3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, n := groupAndName(&tt.pkg)
			if g != tt.wantGroup || n != tt.wantNm {
				t.Errorf("groupAndName = %q, %q; want %q, %q", g, n, tt.wantGroup, tt.wantNm)
			}
		})
	}
}
