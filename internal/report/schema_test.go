package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	invopop "github.com/invopop/jsonschema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sbomSchemaPath is where Seawall publishes the schema of its JSON SBOM.
var sbomSchemaPath = filepath.Join("..", "..", "docs", "schema", "sbom.schema.json")

const sbomSchemaID = "https://seawall.dev/schema/sbom.schema.json"

// generateSBOMSchema reflects SBOMDocument into a JSON Schema, with the Go
// doc comments of the report and inventory types as descriptions.
func generateSBOMSchema(t *testing.T) []byte {
	t.Helper()
	r := &invopop.Reflector{
		// Readers must ignore fields they do not know: new fields may be
		// added without a new schemaVersion.
		AllowAdditionalProperties: true,
	}
	// AddGoComments names packages base + the directory it walks, cleaned,
	// so "../inventory" lands on .../internal/inventory.
	const base = "github.com/seawall-dev/seawall/internal/report"
	for _, dir := range []string{".", "../inventory"} {
		if err := r.AddGoComments(base, dir); err != nil {
			t.Fatalf("read Go comments in %s: %v", dir, err)
		}
	}
	for k, v := range r.CommentMap {
		r.CommentMap[k] = strings.Join(strings.Fields(v), " ")
	}
	r.LookupComment = func(t reflect.Type, field string) string {
		if field != "" {
			return schemaDescriptions[t.Name()+"."+field]
		}
		return schemaDescriptions[t.Name()]
	}
	s := r.Reflect(&SBOMDocument{})
	if v, ok := s.Definitions["SBOMDocument"].Properties.Get("schemaVersion"); ok {
		v.Const = SBOMSchemaVersion
	}
	s.ID = sbomSchemaID
	s.Title = "Seawall SBOM"
	s.Description = "Seawall's own JSON SBOM (seawall sbom --format json). Documented in docs/reference/sbom-json.md."
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// schemaDescriptions are the schema's descriptions, written for people who
// read the JSON rather than the Go code; where one is missing, the Go doc
// comment is used. Keys are Type or Type.Field, with Go names.
var schemaDescriptions = map[string]string{
	"SBOMDocument":               "An SBOM written by seawall sbom --format json: what was scanned, the operating system found in it, and every package found.",
	"SBOMDocument.SchemaVersion": "Version of this format. It changes only when a field changes meaning or goes away; new fields may appear within a version, so ignore fields you do not know.",
	"SBOMDocument.Tool":          "The program that wrote the document.",
	"SBOMDocument.CreatedAt":     "When the document was written, in UTC (RFC 3339). Set SOURCE_DATE_EPOCH to fix it, and so make two runs over the same content byte-identical.",
	"SBOMDocument.Source":        "What was scanned.",
	"SBOMDocument.Distro":        "The operating system found in the image or root filesystem. Absent when none was recognised, and always for --dir.",
	"SBOMDocument.Packages":      "Every package found, sorted by type, namespace, name, version and first location. Empty, never absent, when nothing was found.",
	"SBOMDocument.Warnings":      "Problems that did not stop the scan, such as a malformed lockfile or a tar entry that tried to leave the image. Absent when there were none.",
	"Tool":                       "The program that wrote the document.",
	"Tool.Name":                  "Always \"seawall\".",
	"Tool.Version":               "Seawall's version, as seawall version prints it.",
	"Source":                     "What was scanned.",
	"Source.Type":                "The kind of input: docker-archive, oci-layout, oci-archive, registry, rootfs or dir.",
	"Source.Name":                "The image reference, path or directory as it was given on the command line.",
	"Source.Digest":              "The image's manifest digest (\"sha256:…\"). Absent for rootfs and dir, and for docker save archives, which do not record it.",
	"Source.ImageID":             "The image's config digest, which docker calls the image ID. Absent for rootfs and dir.",
	"Source.RepoTags":            "Repository tags the image is known by (\"registry.example:5000/team/app:1.2\"). Absent when the input names none.",
	"Source.RepoDigests":         "Digest references to the image in a registry (\"registry.example:5000/team/app@sha256:…\"). Set when the image came from a registry.",
	"Source.Platform":            "The image's platform, os/architecture[/variant] (\"linux/arm64\"). Absent outside images.",
	"Source.Layers":              "The image's layers, bottom first. Location.layerIndex counts into this list. Absent outside images.",
	"Layer":                      "One image layer.",
	"Layer.Digest":               "Digest of the layer as stored (compressed), as the manifest lists it.",
	"Layer.DiffID":               "Digest of the uncompressed layer, as the image config lists it.",
	"Layer.MediaType":            "The layer's media type (\"application/vnd.oci.image.layer.v1.tar+gzip\").",
	"Layer.Size":                 "Size of the stored layer in bytes.",
	"Layer.CreatedBy":            "The build step that made the layer, from the image history, when the image records it.",
	"Distro":                     "The operating system found in the image or root filesystem.",
	"Distro.ID":                  "The os-release ID: \"debian\", \"ubuntu\", \"alpine\", \"rhel\", \"wolfi\"….",
	"Distro.VersionID":           "The os-release VERSION_ID (\"12\", \"3.19.1\", \"9.3\"). Absent for rolling releases that have none.",
	"Distro.Codename":            "The release codename (\"bookworm\"), when the distro has one.",
	"Distro.Name":                "The os-release NAME (\"Debian GNU/Linux\").",
	"Distro.PrettyName":          "The os-release PRETTY_NAME (\"Debian GNU/Linux 12 (bookworm)\").",
	"Distro.IDLike":              "The os-release ID_LIKE list: distros this one derives from.",
	"Distro.Distroless":          "True for images that carry a package database but no shell or package manager, such as gcr.io/distroless.",
	"Distro.Source":              "The file the facts were read from (\"/etc/os-release\").",
	"Package":                    "One installed or declared software package.",
	"Package.ID":                 "An identifier derived from the package's identity and where it was found, never from the order of the scan: the same content gives the same ID in every scan. The CycloneDX bom-ref and the SPDX SPDXID are built from it.",
	"Package.Type":               "The package URL type: deb, apk, rpm, golang, npm, pypi, maven, cargo, gem, composer or nuget. New types may be added.",
	"Package.Name":               "The package name as its ecosystem spells it. A Go package is its module path; \"stdlib\" is the Go standard library of a binary.",
	"Package.Version":            "The version as the ecosystem spells it. A Debian epoch stays in it (\"1:2.38.1-5\"); an RPM epoch is in epoch.",
	"Package.Namespace":          "The package URL namespace where the ecosystem has one: a Maven groupId, an npm scope (\"@types\"), a Composer vendor. Absent otherwise; OS packages get their distro as namespace only in purl.",
	"Package.PURL":               "The package URL (https://github.com/package-url/purl-spec), the key for vulnerability lookups.",
	"Package.SourceName":         "The package this one was built from: the Debian source package, the Alpine origin, the source RPM name. Distro advisories are keyed on it. Always set for deb (the package's own name when no source is named); absent for language packages.",
	"Package.SourceVersion":      "The version of the source package. Always set for deb (the package's own version when the source has none).",
	"Package.Arch":               "The architecture the package was built for (\"amd64\", \"x86_64\", \"noarch\"), for OS packages.",
	"Package.Epoch":              "The RPM epoch. Absent when zero and for every other type.",
	"Package.Licenses":           "Licenses as the package declares them: SPDX identifiers or expressions where the package uses them, free text otherwise. Absent when none is declared.",
	"Package.Dev":                "True for a development-only dependency, where the lockfile says so.",
	"Package.Direct":             "True for a dependency the project names itself rather than one pulled in by another, where the lockfile says so.",
	"Package.FoundBy":            "The cataloger that found the package (\"dpkg\", \"npm-lock\", \"go-binary\"…).",
	"Package.Locations":          "Every file the package was found in. Never empty for packages Seawall finds.",
	"Package.Metadata":           "Further facts specific to one ecosystem, such as the Go toolchain that built a binary or a jar's Main-Class. Keys may be added at any time.",
	"Location":                   "A file a package was found in.",
	"Location.Path":              "Absolute path within the scanned image or tree (\"/var/lib/dpkg/status\"). A path inside an archive continues after \"!\" (\"/app/app.war!/WEB-INF/lib/x.jar\").",
	"Location.LayerDigest":       "Digest of the image layer that holds the file. Absent outside images.",
	"Location.LayerDiffID":       "Uncompressed digest (diff ID) of the image layer that holds the file. Absent outside images.",
	"Location.LayerIndex":        "Index of that layer in source.layers, bottom first. 0 outside images.",
}

// TestSchema fails when docs/schema/sbom.schema.json is not what the Go
// types generate. After changing SBOMDocument or the inventory types, run
// go test ./internal/report -run TestSchema -update and update
// docs/reference/sbom-json.md to match.
func TestSchema(t *testing.T) {
	got := generateSBOMSchema(t)
	if *update {
		if err := os.MkdirAll(filepath.Dir(sbomSchemaPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sbomSchemaPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(sbomSchemaPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -run TestSchema -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is out of date: run go test ./internal/report -run TestSchema -update, then update docs/reference/sbom-json.md", sbomSchemaPath)
	}
}

// noNetwork refuses every URL: every schema a test needs is added as a
// local resource, so a $ref that is not would otherwise go unnoticed.
type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, &os.PathError{Op: "load", Path: url, Err: os.ErrNotExist}
}

// compileSchema compiles the schema at id from local files, each added
// under the URL the schemas $ref it by. Formats are asserted, not just
// annotated, so that a bad date-time or IRI fails too.
func compileSchema(t *testing.T, id string, files map[string]string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(noNetwork{})
	c.AssertFormat()
	for url, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile %s: %v", id, err)
	}
	return s
}

func cycloneDXSchema(t *testing.T) *jsonschema.Schema {
	return compileSchema(t, "http://cyclonedx.org/schema/bom-1.6.schema.json", map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "testdata/schema/bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "testdata/schema/spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "testdata/schema/jsf-0.82.schema.json",
	})
}

func spdxSchema(t *testing.T) *jsonschema.Schema {
	return compileSchema(t, "http://spdx.org/rdf/terms/2.3", map[string]string{
		"http://spdx.org/rdf/terms/2.3": "testdata/schema/spdx-2.3.schema.json",
	})
}

func sbomJSONSchema(t *testing.T) *jsonschema.Schema {
	return compileSchema(t, sbomSchemaID, map[string]string{sbomSchemaID: sbomSchemaPath})
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return s.Validate(v)
}

// TestOutputValidates checks every fixture's CycloneDX output against the
// official CycloneDX 1.6 schema, its SPDX output against the official SPDX
// 2.3 schema, and its JSON output against Seawall's published schema.
func TestOutputValidates(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		FormatCycloneDX: cycloneDXSchema(t),
		FormatSPDX:      spdxSchema(t),
		FormatJSON:      sbomJSONSchema(t),
	}
	for _, fx := range fixtures {
		for format, s := range schemas {
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				if err := validate(t, s, render(t, format, fx.inv())); err != nil {
					t.Errorf("%s output does not validate:\n%v", format, err)
				}
			})
		}
	}
}

// TestValidatorsReject makes sure the schema checks above can fail: each
// case breaks one rule in otherwise valid output.
func TestValidatorsReject(t *testing.T) {
	tests := []struct {
		name   string
		format string
		schema func(*testing.T) *jsonschema.Schema
		mutate func(doc map[string]any)
	}{
		{"CycloneDX license ID not on the SPDX list", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			c := doc["components"].([]any)[1].(map[string]any)
			c["licenses"] = []any{map[string]any{"license": map[string]any{"id": "Not-A-License"}}}
		}},
		{"CycloneDX expression beside a license", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			c := doc["components"].([]any)[1].(map[string]any)
			c["licenses"] = []any{map[string]any{"expression": "MIT"}, map[string]any{"license": map[string]any{"id": "MIT"}}}
		}},
		{"CycloneDX serial number not a UUID", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			doc["serialNumber"] = "urn:uuid:not-a-uuid"
		}},
		{"CycloneDX bad timestamp", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			doc["metadata"].(map[string]any)["timestamp"] = "yesterday"
		}},
		{"CycloneDX unknown component type", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			doc["components"].([]any)[0].(map[string]any)["type"] = "os"
		}},
		{"SPDX package without downloadLocation", FormatSPDX, spdxSchema, func(doc map[string]any) {
			delete(doc["packages"].([]any)[1].(map[string]any), "downloadLocation")
		}},
		{"SPDX unknown purpose", FormatSPDX, spdxSchema, func(doc map[string]any) {
			doc["packages"].([]any)[1].(map[string]any)["primaryPackagePurpose"] = "OPERATING-SYSTEM"
		}},
		{"SPDX unknown relationship", FormatSPDX, spdxSchema, func(doc map[string]any) {
			doc["relationships"].([]any)[0].(map[string]any)["relationshipType"] = "HAS"
		}},
		{"Seawall JSON without packages", FormatJSON, sbomJSONSchema, func(doc map[string]any) {
			delete(doc, "packages")
		}},
		{"Seawall JSON layerIndex as a string", FormatJSON, sbomJSONSchema, func(doc map[string]any) {
			p := doc["packages"].([]any)[0].(map[string]any)
			p["locations"].([]any)[0].(map[string]any)["layerIndex"] = "0"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(render(t, tt.format, imageInventory()), &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(doc)
			broken, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, tt.schema(t), broken); err == nil {
				t.Error("broken document validated")
			}
		})
	}
}

// TestSchemaFilesIntact guards the vendored schemas against accidental
// edits: each must still parse and carry the $id the validators map.
func TestSchemaFilesIntact(t *testing.T) {
	tests := []struct{ file, id, title string }{
		{"bom-1.6.schema.json", "http://cyclonedx.org/schema/bom-1.6.schema.json", "CycloneDX Bill of Materials Standard"},
		{"spdx.schema.json", "http://cyclonedx.org/schema/spdx.schema.json", ""},
		{"jsf-0.82.schema.json", "http://cyclonedx.org/schema/jsf-0.82.schema.json", "JSON Signature Format (JSF) standard"},
		{"spdx-2.3.schema.json", "http://spdx.org/rdf/terms/2.3", "SPDX 2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "schema", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				ID    string `json:"$id"`
				Title string `json:"title"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			if s.ID != tt.id || s.Title != tt.title {
				t.Errorf("$id %q, title %q; want %q, %q", s.ID, s.Title, tt.id, tt.title)
			}
		})
	}
}
