package vex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestParseFiles(t *testing.T) {
	tests := []struct {
		file       string
		statements int
		first      Statement
	}{
		{"openvex-v0.2.0.json", 5, Statement{
			Vulnerability: Vulnerability{Name: "CVE-2023-1255"},
			Products: []Product{{
				Component: Component{ID: "pkg:oci/alpine@sha256%3A124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"},
				Subcomponents: []Component{
					{ID: "pkg:apk/alpine/libssl3@3.0.8-r3"},
					{ID: "pkg:apk/alpine/libcrypto3@3.0.8-r3"},
				},
			}},
			Status:    StatusFixed,
			Timestamp: time.Date(2023, 7, 17, 18, 28, 47, 696004345, time.FixedZone("", -6*3600)),
		}},
		{"openvex-v0.0.1.json", 1, Statement{
			Vulnerability: Vulnerability{Name: "CVE-2023-12345"},
			Products: []Product{
				{Component: Component{ID: "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}},
				{Component: Component{ID: "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}},
			},
			Status:    StatusFixed,
			Timestamp: time.Date(2023, 1, 8, 18, 2, 3, 647787998, time.FixedZone("", -6*3600)),
		}},
		{"openvex-v0.0.1-bare-context.json", 1, Statement{
			Vulnerability: Vulnerability{Name: "CVE-1234-5678"},
			Products:      []Product{{Component: Component{ID: "pkg:apk/wolfi/bash@1.0.0"}}},
			Status:        StatusUnderInvestigation,
			Timestamp:     time.Date(2022, 12, 22, 16, 36, 43, 0, time.FixedZone("", -5*3600)),
		}},
		{"example.openvex.json", 3, Statement{
			Vulnerability: Vulnerability{Name: "CVE-2023-4641", Aliases: []string{"DEBIAN-CVE-2023-4641"}},
			Products: []Product{{
				Component:     Component{ID: "pkg:oci/payments@sha256%3Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
				Subcomponents: []Component{{ID: "pkg:deb/debian/passwd"}, {ID: "pkg:deb/debian/login"}},
			}},
			Status:          StatusNotAffected,
			Justification:   VulnerableCodeNotInExecutePath,
			ImpactStatement: "gpasswd is never run in this image",
			Timestamp:       time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Statements) != tt.statements {
				t.Fatalf("%d statements, want %d", len(doc.Statements), tt.statements)
			}
			if diff := cmp.Diff(tt.first, doc.Statements[0], cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("first statement (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const ctx = `"@context": "https://openvex.dev/ns/v0.2.0"`
	stmt := func(s string) string { return `{` + ctx + `, "statements": [` + s + `]}` }
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"not JSON", "{\n  \"@context\": \n}", "v.json: line 3, column 1: invalid character '}'"},
		{"wrong type", `{` + ctx + `, "statements": {}}`, "line 1, column"},
		{"CSAF, not OpenVEX", `{"document": {"category": "csaf_vex"}}`, `@context "" is not OpenVEX's`},
		{"CycloneDX, not OpenVEX", `{"@context": "https://cyclonedx.org"}`, `@context "https://cyclonedx.org" is not OpenVEX's`},
		{"no vulnerability", stmt(`{"products": ["pkg:npm/a"], "status": "fixed"}`), "statements[0]: the vulnerability has no name"},
		{"no products", stmt(`{"vulnerability": {"name": "CVE-1"}, "status": "fixed"}`), "statements[0] (CVE-1): no products"},
		{"empty product", stmt(`{"vulnerability": {"name": "CVE-1"}, "products": [{}], "status": "fixed"}`), "a product has no @id"},
		{"no status", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"]}`), "statements[0] (CVE-1): no status"},
		{"unknown status", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "wontfix"}`), `unknown status "wontfix"`},
		{"not_affected without reason", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "not_affected"}`), "needs a justification or an impact_statement"},
		{"unknown justification", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "not_affected", "justification": "trust_me"}`), `unknown justification "trust_me"`},
		{"second statement", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "fixed"}, {"vulnerability": "CVE-2", "products": ["pkg:npm/a"]}`), "statements[1] (CVE-2): no status"},
		{"bad timestamp", stmt(`{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "fixed", "timestamp": "yesterday"}`), "v.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "v.json")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

const (
	imageDigest = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"
	otherDigest = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
)

// alpineReport is the image openvex-v0.2.0.json speaks about, with one
// finding per statement and one that no statement names.
func alpineReport() *inventory.Report {
	pkg := func(name, version, path string) inventory.Package {
		return inventory.Package{Type: inventory.TypeAPK, Name: name, Version: version,
			PURL: "pkg:apk/alpine/" + name + "@" + version + "?arch=x86_64&distro=alpine-3.18.2", Locations: []inventory.Location{{Path: path}}}
	}
	r := &inventory.Report{Inventory: inventory.Inventory{
		Source: inventory.Source{Type: "registry", Name: "alpine:3.18", Digest: imageDigest,
			RepoTags: []string{"alpine:3.18"}, RepoDigests: []string{"docker.io/library/alpine@" + imageDigest}},
		Packages: []inventory.Package{
			pkg("libssl3", "3.0.8-r3", "/lib/apk/db/installed"),
			pkg("libcrypto3", "3.0.8-r3", "/lib/apk/db/installed"),
			pkg("busybox", "1.36.1-r0", "/lib/apk/db/installed"),
		},
	}}
	for _, id := range []string{"CVE-2023-1255", "CVE-2023-3446", "CVE-2099-0001"} {
		for _, p := range r.Packages[:2] {
			r.Findings = append(r.Findings, finding(id, p))
		}
	}
	r.Findings = append(r.Findings, finding("CVE-2023-3446", r.Packages[2]))
	return r
}

func finding(id string, p inventory.Package) inventory.Finding {
	return inventory.Finding{ID: id, Kind: inventory.KindVulnerability, PackageName: p.Name, PackageType: p.Type,
		PURL: p.PURL, InstalledVersion: p.Version, Status: inventory.StatusFixed, Location: p.Locations[0]}
}

// outcome summarises what Apply did to each finding.
func outcome(r *inventory.Report) []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		s := f.ID + " " + f.PackageName + ": "
		switch {
		case f.Suppression != nil:
			s += "suppressed " + f.Suppression.Source + " " + f.Suppression.Justification
		case f.VEX != nil:
			s += f.VEX.Status
		default:
			s += "-"
		}
		out[i] = s
	}
	return out
}

func TestApplyOpenVEXExample(t *testing.T) {
	doc, err := Load(filepath.Join("testdata", "openvex-v0.2.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := alpineReport()
	notices := Apply([]*Document{doc}, r)
	want := []string{
		"CVE-2023-1255 libssl3: fixed",
		"CVE-2023-1255 libcrypto3: fixed",
		"CVE-2023-3446 libssl3: suppressed vex vulnerable_code_not_present",
		"CVE-2023-3446 libcrypto3: suppressed vex vulnerable_code_not_present",
		"CVE-2099-0001 libssl3: -",
		"CVE-2099-0001 libcrypto3: -",
		"CVE-2023-3446 busybox: -", // not a subcomponent
	}
	if diff := cmp.Diff(want, outcome(r)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	s := r.Findings[2].Suppression
	wantS := &inventory.Suppression{Source: inventory.SuppressedByVEX, Justification: VulnerableCodeNotPresent,
		Reason: "affected functions were removed before packaging", By: filepath.Join("testdata", "openvex-v0.2.0.json")}
	if diff := cmp.Diff(wantS, s); diff != "" {
		t.Errorf("suppression (-want +got):\n%s", diff)
	}
	wantNotices := []string{"VEX testdata/openvex-v0.2.0.json: 2 not affected (suppressed), 2 fixed (still found by the scan, so still reported); 3 of 5 statements apply to no finding"}
	if diff := cmp.Diff(wantNotices, notices); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}

	// The same document says nothing about another image.
	r = alpineReport()
	r.Source.Digest, r.Source.RepoDigests = otherDigest, nil
	Apply([]*Document{doc}, r)
	for _, o := range outcome(r) {
		if !strings.HasSuffix(o, ": -") {
			t.Errorf("another image: %s", o)
		}
	}
}

func TestApplyMatching(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	notAffected := func(vuln Vulnerability, products ...Product) Statement {
		return Statement{Vulnerability: vuln, Products: products, Status: StatusNotAffected, Justification: ComponentNotPresent, Timestamp: t0}
	}
	pkgProduct := func(id string, subs ...string) Product {
		p := Product{Component: Component{ID: id}}
		for _, s := range subs {
			p.Subcomponents = append(p.Subcomponents, Component{ID: s})
		}
		return p
	}
	libssl := "pkg:apk/alpine/libssl3"
	tests := []struct {
		name string
		stmt Statement
		want bool // suppresses CVE-2023-3446 in libssl3
	}{
		{"package purl without version or qualifiers", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(libssl)), true},
		{"package purl with version", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(libssl+"@3.0.8-r3")), true},
		{"package purl with another version", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(libssl+"@3.0.9-r0")), false},
		{"package purl with a differing qualifier", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(libssl+"?arch=aarch64")), false},
		{"purl in identifiers", notAffected(Vulnerability{Name: "CVE-2023-3446"}, Product{Component: Component{Identifiers: map[string]string{"purl": libssl}}}), true},
		{"vulnerability by alias", notAffected(Vulnerability{Name: "GHSA-xxxx", Aliases: []string{"cve-2023-3446"}}, pkgProduct(libssl)), true},
		{"vulnerability by @id", notAffected(Vulnerability{ID: "CVE-2023-3446"}, pkgProduct(libssl)), true},
		{"another vulnerability", notAffected(Vulnerability{Name: "CVE-2023-1255"}, pkgProduct(libssl)), false},
		{"whole image by digest", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(imageDigest)), true},
		{"whole image by digest reference", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("docker.io/library/alpine@"+imageDigest)), true},
		{"whole image by tag", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("alpine:3.18")), true},
		{"whole image by oci purl", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("pkg:oci/alpine@"+strings.Replace(imageDigest, ":", "%3A", 1))), true},
		{"oci purl of another digest", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("pkg:oci/alpine@"+strings.Replace(otherDigest, ":", "%3A", 1))), false},
		{"oci purl without digest", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("pkg:oci/alpine?repository_url=docker.io/library/alpine")), true},
		{"oci purl of another repository", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("pkg:oci/alpine?repository_url=ghcr.io/someone/alpine")), false},
		{"image by hash", notAffected(Vulnerability{Name: "CVE-2023-3446"}, Product{Component: Component{Hashes: map[string]string{"sha-256": strings.TrimPrefix(imageDigest, "sha256:")}}}), true},
		{"image with the package as subcomponent", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(imageDigest, "pkg:apk/alpine/busybox", libssl)), true},
		{"image with other subcomponents", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(imageDigest, "pkg:apk/alpine/busybox")), false},
		{"another image with the package as subcomponent", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct(otherDigest, libssl)), false},
		{"package in the same file as the product", notAffected(Vulnerability{Name: "CVE-2023-3446"}, pkgProduct("pkg:apk/alpine/busybox", libssl)), true},
		{"CPE only", notAffected(Vulnerability{Name: "CVE-2023-3446"}, Product{Component: Component{Identifiers: map[string]string{"cpe23": "cpe:2.3:a:openssl:openssl:3.0.8:*:*:*:*:*:*:*"}}}), false},
		{"affected does not suppress", Statement{Vulnerability: Vulnerability{Name: "CVE-2023-3446"}, Products: []Product{pkgProduct(libssl)}, Status: StatusAffected}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alpineReport()
			Apply([]*Document{{Name: "v.json", Statements: []Statement{tt.stmt}}}, r)
			f := r.Findings[2] // CVE-2023-3446 in libssl3
			if f.ID != "CVE-2023-3446" || f.PackageName != "libssl3" {
				t.Fatalf("fixture changed: %s in %s", f.ID, f.PackageName)
			}
			if got := f.Suppression != nil; got != tt.want {
				t.Errorf("suppressed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApplyLatestWins(t *testing.T) {
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	product := []Product{{Component: Component{ID: "pkg:apk/alpine/libssl3"}}}
	vuln := Vulnerability{Name: "CVE-2023-3446"}
	stmt := func(status string, at time.Time) Statement {
		s := Statement{Vulnerability: vuln, Products: product, Status: status, Timestamp: at}
		if status == StatusNotAffected {
			s.Justification = InlineMitigationsAlreadyExist
		}
		return s
	}
	tests := []struct {
		name string
		docs []*Document
		want string
	}{
		{"later statement wins", []*Document{{Name: "a", Statements: []Statement{stmt(StatusNotAffected, t2), stmt(StatusUnderInvestigation, t1)}}}, "suppressed"},
		{"later statement wins, other order", []*Document{{Name: "a", Statements: []Statement{stmt(StatusNotAffected, t1), stmt(StatusAffected, t2)}}}, StatusAffected},
		{"across documents", []*Document{{Name: "a", Statements: []Statement{stmt(StatusAffected, t2)}}, {Name: "b", Statements: []Statement{stmt(StatusNotAffected, t1)}}}, StatusAffected},
		{"tie: the later document", []*Document{{Name: "a", Statements: []Statement{stmt(StatusAffected, t1)}}, {Name: "b", Statements: []Statement{stmt(StatusFixed, t1)}}}, StatusFixed},
		{"tie: the later statement", []*Document{{Name: "a", Statements: []Statement{stmt(StatusFixed, t1), stmt(StatusUnderInvestigation, t1)}}}, StatusUnderInvestigation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alpineReport()
			Apply(tt.docs, r)
			f := r.Findings[2]
			got := ""
			switch {
			case f.Suppression != nil:
				got = "suppressed"
			case f.VEX != nil:
				got = f.VEX.Status
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApplyKeepsEarlierSuppression(t *testing.T) {
	doc, err := Load(filepath.Join("testdata", "openvex-v0.2.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := alpineReport()
	earlier := &inventory.Suppression{Source: inventory.SuppressedByIgnoreFile, Reason: "accepted"}
	r.Findings[2].Suppression = earlier
	Apply([]*Document{doc}, r)
	if r.Findings[2].Suppression != earlier {
		t.Errorf("suppression replaced: %+v", r.Findings[2].Suppression)
	}
}

func TestApplyNotices(t *testing.T) {
	doc, err := Load(filepath.Join("testdata", "example.openvex.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := &inventory.Report{Inventory: inventory.Inventory{Source: inventory.Source{Digest: "sha256:" + strings.Repeat("a", 64)}}}
	deb := func(id, name, src, version string) inventory.Finding {
		return inventory.Finding{ID: id, PackageName: name, InstalledVersion: version,
			PURL: "pkg:deb/debian/" + name + "@" + version + "?arch=amd64&distro=debian-12&upstream=" + src}
	}
	r.Findings = []inventory.Finding{
		deb("DEBIAN-CVE-2023-4641", "passwd", "shadow", "1:4.13+dfsg1-1"),
		deb("CVE-2023-4641", "login", "shadow", "1:4.13+dfsg1-1"),
		{ID: "GHSA-35jh-r3h4-6jhm", PackageName: "lodash", InstalledVersion: "4.17.20", PURL: "pkg:npm/lodash@4.17.20"},
		deb("CVE-2024-2511", "libssl3", "openssl", "3.0.11-1~deb12u2"),
	}
	for i := 0; i < 11; i++ {
		r.Findings = append(r.Findings, deb("CVE-2024-2511", "libssl3", "openssl", "3.0.11-1~deb12u2"))
	}
	notices := Apply([]*Document{doc, {Name: "empty.json"}}, r)
	want := []string{
		"VEX testdata/example.openvex.json: 2 not affected (suppressed), 1 affected, 12 under investigation",
		"VEX empty.json: no statement applies to any finding",
		"under investigation according to VEX: " + strings.TrimSuffix(strings.Repeat("CVE-2024-2511 in libssl3 3.0.11-1~deb12u2, ", 10), ", ") + " and 2 more",
	}
	if diff := cmp.Diff(want, notices); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	if v := r.Findings[2].VEX; v == nil || v.Statement != "Upgrade to lodash 4.17.21 in the next release (PAY-1234)" {
		t.Errorf("affected statement not recorded: %+v", v)
	}
	if Apply(nil, r) != nil {
		t.Error("no documents: want no notices")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"openvex-v0.2.0.json", "openvex-v0.0.1.json", "example.openvex.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, "fuzz")
		if err != nil {
			return
		}
		r := alpineReport()
		Apply([]*Document{doc}, r)
	})
}

// TestDocExamples keeps docs/reference/vex.md honest: every JSON example
// in it parses, and the first is testdata/example.openvex.json.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference", "vex.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	md := string(doc)
	for {
		i := strings.Index(md, "```json\n")
		if i < 0 {
			break
		}
		md = md[i+len("```json\n"):]
		j := strings.Index(md, "```")
		if j < 0 {
			break
		}
		blocks = append(blocks, md[:j])
		md = md[j+3:]
	}
	if len(blocks) == 0 {
		t.Fatal("no JSON example in the documentation")
	}
	for i, b := range blocks {
		if _, err := Parse([]byte(b), "example"); err != nil {
			t.Errorf("example %d: %v", i+1, err)
		}
	}
	want, err := os.ReadFile(filepath.Join("testdata", "example.openvex.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(blocks[0]) {
		t.Error("the documented example and testdata/example.openvex.json differ")
	}
}
