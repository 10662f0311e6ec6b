package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
)

// spdxDoc is the part of an SPDX 2.3 JSON document the tests look at, read
// as plain JSON so that what is checked is what was written.
type spdxDoc struct {
	SPDXID            string `json:"SPDXID"`
	Name              string `json:"name"`
	DocumentNamespace string `json:"documentNamespace"`
	CreationInfo      struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		SPDXID          string `json:"SPDXID"`
		Name            string `json:"name"`
		VersionInfo     string `json:"versionInfo"`
		LicenseDeclared string `json:"licenseDeclared"`
		SourceInfo      string `json:"sourceInfo"`
		Purpose         string `json:"primaryPackagePurpose"`
		ExternalRefs    []struct {
			Category string `json:"referenceCategory"`
			Type     string `json:"referenceType"`
			Locator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	ExtractedLicenses []struct {
		LicenseID     string `json:"licenseId"`
		ExtractedText string `json:"extractedText"`
	} `json:"hasExtractedLicensingInfos"`
	Relationships []struct {
		From string `json:"spdxElementId"`
		To   string `json:"relatedSpdxElement"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
}

var (
	spdxIDPattern   = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	spdxTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
	licenseRefToken = regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`)
)

// TestSPDXDocument checks the rules SPDX 2.3 sets in prose that its JSON
// schema does not enforce: identifier syntax and uniqueness, the UTC
// timestamp form, valid license expressions whose LicenseRefs are all
// defined, and relationships that only name elements that exist.
func TestSPDXDocument(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			inv := fx.inv()
			out := render(t, FormatSPDX, inv)
			if _, err := spdxjson.Read(bytes.NewReader(out)); err != nil {
				t.Fatalf("tools-golang cannot read the output back: %v", err)
			}
			var doc spdxDoc
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}

			if doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name != inv.Source.Name {
				t.Errorf("SPDXID %q, name %q", doc.SPDXID, doc.Name)
			}
			if !spdxTimePattern.MatchString(doc.CreationInfo.Created) || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
				t.Errorf("created %q", doc.CreationInfo.Created)
			}
			if !strings.Contains(strings.Join(doc.CreationInfo.Creators, "\n"), "Tool: seawall-1.2.3-test") {
				t.Errorf("creators %q lack the tool", doc.CreationInfo.Creators)
			}
			uuid := documentUUID(inv, documentPackages(inv), fixedMeta)
			if !strings.HasPrefix(doc.DocumentNamespace, spdxNamespaceBase) || !strings.HasSuffix(doc.DocumentNamespace, "-"+uuid) ||
				strings.ContainsAny(doc.DocumentNamespace[len(spdxNamespaceBase):], " :/#?") {
				t.Errorf("documentNamespace %q", doc.DocumentNamespace)
			}

			ids := map[string]bool{"SPDXRef-DOCUMENT": true}
			for _, p := range doc.Packages {
				if !spdxIDPattern.MatchString(p.SPDXID) {
					t.Errorf("SPDXID %q has characters SPDX does not allow", p.SPDXID)
				}
				if ids[p.SPDXID] {
					t.Errorf("SPDXID %q used twice", p.SPDXID)
				}
				ids[p.SPDXID] = true
			}
			if got, want := len(doc.Packages), len(inv.Packages)+1+btoi(inv.Distro != nil); got != want {
				t.Errorf("%d packages, want %d", got, want)
			}

			// One DESCRIBES, from the document to the subject, which
			// CONTAINS every other package exactly once.
			root := doc.Packages[0].SPDXID
			contained := map[string]int{}
			for i, r := range doc.Relationships {
				if !ids[r.From] || !ids[r.To] {
					t.Errorf("relationship %s %s %s names an unknown element", r.From, r.Type, r.To)
				}
				switch {
				case i == 0:
					if r.From != "SPDXRef-DOCUMENT" || r.Type != "DESCRIBES" || r.To != root {
						t.Errorf("first relationship %s %s %s, want SPDXRef-DOCUMENT DESCRIBES %s", r.From, r.Type, r.To, root)
					}
				case r.From == root && r.Type == "CONTAINS":
					contained[r.To]++
				default:
					t.Errorf("unexpected relationship %s %s %s", r.From, r.Type, r.To)
				}
			}
			for _, p := range doc.Packages[1:] {
				if contained[p.SPDXID] != 1 {
					t.Errorf("%s is contained %d times, want once", p.SPDXID, contained[p.SPDXID])
				}
			}

			defined := map[string]bool{}
			for _, l := range doc.ExtractedLicenses {
				defined[l.LicenseID] = true
			}
			used := map[string]bool{}
			for _, p := range doc.Packages {
				if p.LicenseDeclared != noAssertion {
					if _, err := parseSPDXExpression(p.LicenseDeclared); err != nil {
						t.Errorf("%s: licenseDeclared %q is not a valid expression: %v", p.Name, p.LicenseDeclared, err)
					}
				}
				for _, ref := range licenseRefToken.FindAllString(p.LicenseDeclared, -1) {
					used[ref] = true
					if !defined[ref] {
						t.Errorf("%s: %s is not in hasExtractedLicensingInfos", p.Name, ref)
					}
				}
			}
			for ref := range defined {
				if !used[ref] {
					t.Errorf("%s is defined but not used", ref)
				}
			}

			for i, p := range doc.Packages[1:] {
				want := purposeLibrary
				switch {
				case i == 0 && inv.Distro != nil:
					want = purposeOS
				case p.Name == "example.com/app":
					want = purposeApp
				}
				if p.Purpose != want {
					t.Errorf("%s: purpose %s, want %s", p.Name, p.Purpose, want)
				}
				if want != purposeOS && (len(p.ExternalRefs) != 1 || p.ExternalRefs[0].Category != "PACKAGE-MANAGER" ||
					p.ExternalRefs[0].Type != "purl" || !strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:")) {
					t.Errorf("%s: externalRefs %+v, want one purl", p.Name, p.ExternalRefs)
				}
			}
		})
	}
}

func TestSPDXValues(t *testing.T) {
	var doc spdxDoc
	if err := json.Unmarshal(render(t, FormatSPDX, imageInventory()), &doc); err != nil {
		t.Fatal(err)
	}
	if p := doc.Packages[0]; p.Purpose != purposeContainer || p.VersionInfo != manifestDig || len(p.ExternalRefs) != 1 || !strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:oci/app@") {
		t.Errorf("root package = %+v", p)
	}
	tests := []struct {
		name, version, license, sourceInfo string
	}{
		{"libgcc-s1", "1:12.2.0-14", "GPL-3.0-or-later WITH GCC-exception-3.1",
			"built from source package gcc-12 12.2.0-14; found in /var/lib/dpkg/status (layer " + layer0DiffID + ")"},
		{"libssl3", "3.0.11-1~deb12u2", "Apache-2.0", "built from source package openssl; found in /var/lib/dpkg/status (layer " + layer0DiffID + ")"},
		{"openssl-libs", "1:3.0.7-27.el9", "LicenseRef-ASL-2.0-", ""},
		{"@types/node", "20.11.5", "MIT", ""},
		{"org.apache.commons:commons-lang3", "3.14.0", "Apache-2.0", ""},
		{"symfony/console", "v6.4.4", "MIT AND GPL-3.0-or-later", ""},
		{"Newtonsoft.Json", "13.0.3", "MIT AND (Apache-2.0 OR MIT) AND BSD-3-Clause", ""},
		{"mount", "2.38.1-5+b1", "LicenseRef-GPL-2-", ""},
		{"rails", "7.1.3", "LicenseRef-Acme-EULA", ""},
		{"github.com/spf13/cobra", "v1.10.2", "NOASSERTION", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range doc.Packages {
				if p.Name != tt.name {
					continue
				}
				if p.VersionInfo != tt.version || !strings.HasPrefix(p.LicenseDeclared, tt.license) {
					t.Errorf("versionInfo %q, licenseDeclared %q; want %q, %q…", p.VersionInfo, p.LicenseDeclared, tt.version, tt.license)
				}
				if tt.sourceInfo != "" && p.SourceInfo != tt.sourceInfo {
					t.Errorf("sourceInfo %q, want %q", p.SourceInfo, tt.sourceInfo)
				}
				return
			}
			t.Errorf("no package named %q", tt.name)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
