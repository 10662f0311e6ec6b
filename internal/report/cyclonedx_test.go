package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func decodeCycloneDX(t *testing.T, inv *inventory.Inventory) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(render(t, FormatCycloneDX, inv)), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("cyclonedx-go cannot read the output back: %v", err)
	}
	return &bom
}

func componentNamed(t *testing.T, bom *cdx.BOM, name string) cdx.Component {
	t.Helper()
	for _, c := range *bom.Components {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no component named %q", name)
	return cdx.Component{}
}

func property(c cdx.Component, name string) string {
	if c.Properties == nil {
		return ""
	}
	for _, p := range *c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func TestCycloneDXDocument(t *testing.T) {
	inv := imageInventory()
	bom := decodeCycloneDX(t, inv)

	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.JSONSchema != cyclonedxSchema {
		t.Errorf("specVersion %s, $schema %s", bom.SpecVersion, bom.JSONSchema)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber %q is not a v5 urn:uuid", bom.SerialNumber)
	}
	if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp %q, want SOURCE_DATE_EPOCH's", bom.Metadata.Timestamp)
	}
	if tools := *bom.Metadata.Tools.Components; len(tools) != 1 || tools[0].Name != "seawall" || tools[0].Version != "1.2.3-test" {
		t.Errorf("tools = %+v", tools)
	}
	root := bom.Metadata.Component
	if root.Type != cdx.ComponentTypeContainer || root.Name != "registry.example:5000/team/app" || root.Version != manifestDig ||
		!strings.HasPrefix(root.PackageURL, "pkg:oci/app@sha256:") {
		t.Errorf("subject = %s %s %s %s", root.Type, root.Name, root.Version, root.PackageURL)
	}

	// Every package is a component whose bom-ref is its stable ID.
	refs := map[string]bool{root.BOMRef: true}
	for _, c := range *bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %q used twice", c.BOMRef)
		}
		refs[c.BOMRef] = true
	}
	for _, p := range inv.Packages {
		if !refs[p.ID] {
			t.Errorf("package %s %s has no component with bom-ref %s", p.Name, p.Version, p.ID)
		}
	}
	if got, want := len(*bom.Components), len(inv.Packages)+1; got != want {
		t.Errorf("%d components, want %d packages and the OS", got, want)
	}

	// The dependency graph only refers to what exists; the OS holds the
	// distro's packages and the subject holds the OS and everything else.
	deps := map[string][]string{}
	for _, d := range *bom.Dependencies {
		if !refs[d.Ref] {
			t.Errorf("dependency on unknown ref %q", d.Ref)
		}
		if d.Dependencies != nil {
			for _, on := range *d.Dependencies {
				if !refs[on] {
					t.Errorf("%s depends on unknown ref %q", d.Ref, on)
				}
			}
			deps[d.Ref] = *d.Dependencies
		}
	}
	osc := componentNamed(t, bom, "debian")
	if osc.Type != cdx.ComponentTypeOS || osc.Version != "12" {
		t.Errorf("OS component = %s %s", osc.Type, osc.Version)
	}
	var wantOS, wantRoot []string
	wantRoot = append(wantRoot, osc.BOMRef)
	for _, p := range documentPackages(inv) {
		if isOSPackage(p.Package) {
			wantOS = append(wantOS, p.Ref)
		} else {
			wantRoot = append(wantRoot, p.Ref)
		}
	}
	if diff := cmp.Diff(wantOS, deps[osc.BOMRef]); diff != "" {
		t.Errorf("OS dependsOn (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRoot, deps[root.BOMRef]); diff != "" {
		t.Errorf("subject dependsOn (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, group, version, license string
		application                   bool
		props                         map[string]string
		occurrences                   []string
	}{
		{name: "example.com/app", version: "v1.4.0", application: true},
		{name: "node", group: "@types", version: "20.11.5", license: "id:MIT", props: map[string]string{propDev: "true", propFoundBy: "npm-lock"}},
		{name: "core", group: "@babel", version: "7.24.0", license: "id:MIT", props: map[string]string{propDirect: "true"}},
		{name: "commons-lang3", group: "org.apache.commons", version: "3.14.0", license: "id:Apache-2.0",
			occurrences: []string{"/app/app.war!/WEB-INF/lib/commons-lang3-3.14.0.jar"}},
		{name: "console", group: "symfony", version: "v6.4.4", license: "id:MIT id:GPL-3.0-or-later"},
		{name: "github.com/spf13/cobra", version: "v1.10.2"},
		{name: "openssl-libs", version: "1:3.0.7-27.el9", license: "name:ASL 2.0",
			props: map[string]string{propSourceName: "openssl", propSourceVersion: "3.0.7-27.el9"}},
		{name: "libgcc-s1", version: "1:12.2.0-14", license: "expression:GPL-3.0-or-later WITH GCC-exception-3.1",
			props: map[string]string{propSourceName: "gcc-12", "seawall:location:0:layerDiffID": layer0DiffID, "seawall:location:0:layerDigest": layer0Digest}},
		{name: "mount", version: "2.38.1-5+b1", license: "name:GPL-2+ id:LGPL-2.1+ id:BSD-4-Clause"},
		{name: "base-files", version: "12.4+deb12u5", props: map[string]string{"seawall:location:1:layerDiffID": layer1DiffID},
			occurrences: []string{"/var/lib/dpkg/status"}},
		{name: "serde", version: "1.0.197", license: "expression:MIT OR Apache-2.0"},
		{name: "rails", version: "7.1.3", license: "expression:LicenseRef-Acme-EULA"},
		{name: "Newtonsoft.Json", version: "13.0.3", license: "expression:MIT AND (Apache-2.0 OR MIT) AND BSD-3-Clause"},
		{name: "naïve-ünïcode", version: "1.0", license: "name:Lizenz für alle © 2024 <ä@example.com>",
			occurrences: []string{"/opt/données/site-packages/naïve_ünïcode-1.0.dist-info/METADATA"}},
		{name: "stdlib", version: "go1.26.0", props: map[string]string{"seawall:metadata:goVersion": "go1.26.0", "seawall:metadata:mainModule": "example.com/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := componentNamed(t, bom, tt.name)
			wantType := cdx.ComponentTypeLibrary
			if tt.application {
				wantType = cdx.ComponentTypeApplication
			}
			if c.Type != wantType || c.Group != tt.group || c.Version != tt.version {
				t.Errorf("type %s, group %q, version %q; want %s, %q, %q", c.Type, c.Group, c.Version, wantType, tt.group, tt.version)
			}
			if !strings.HasPrefix(c.PackageURL, "pkg:") {
				t.Errorf("purl %q", c.PackageURL)
			}
			if got := licenseSummary(c.Licenses); got != tt.license {
				t.Errorf("licenses %q, want %q", got, tt.license)
			}
			for k, v := range tt.props {
				if got := property(c, k); got != v {
					t.Errorf("property %s = %q, want %q", k, got, v)
				}
			}
			for _, p := range *c.Properties {
				if !strings.HasPrefix(p.Name, "seawall:") {
					t.Errorf("property %q lacks the seawall: prefix", p.Name)
				}
			}
			if tt.occurrences != nil {
				var got []string
				for _, o := range *c.Evidence.Occurrences {
					got = append(got, o.Location)
				}
				if diff := cmp.Diff(tt.occurrences, got); diff != "" {
					t.Errorf("occurrences (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func licenseSummary(ls *cdx.Licenses) string {
	if ls == nil {
		return ""
	}
	var parts []string
	for _, l := range *ls {
		switch {
		case l.Expression != "":
			parts = append(parts, "expression:"+l.Expression)
		case l.License.ID != "":
			parts = append(parts, "id:"+l.License.ID)
		default:
			parts = append(parts, "name:"+l.License.Name)
		}
	}
	return strings.Join(parts, " ")
}

// Without a distro the OS packages hang off the subject directly, and a
// root filesystem is a file, not a container.
func TestCycloneDXWithoutDistro(t *testing.T) {
	bom := decodeCycloneDX(t, rootfsInventory())
	if root := bom.Metadata.Component; root.Type != cdx.ComponentTypeFile || root.Name != "/srv/rootfs with spaces" || root.PackageURL != "" {
		t.Errorf("subject = %s %q %q", root.Type, root.Name, root.PackageURL)
	}
	if got := len(*bom.Components); got != 2 {
		t.Errorf("%d components, want 2 (no OS component)", got)
	}
	deps := *bom.Dependencies
	if len(deps) != 1 || deps[0].Dependencies == nil || len(*deps[0].Dependencies) != 2 {
		t.Errorf("dependencies = %+v, want the subject depending on both packages", deps)
	}
}
