package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/semver"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/report"
)

// importDB builds a vulnerability database from inputs with `seawall db
// import` and returns its path.
func importDB(t *testing.T, inputs ...string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	code, out, stderr := runCLI(t, append([]string{"db", "import", "--db", db, "--quiet"}, inputs...)...)
	if code != 0 {
		t.Fatalf("db import: exit %d: %s%s", code, out, stderr)
	}
	return db
}

// scanJSON runs `seawall scan image` with a JSON report and decodes it.
func scanJSON(t *testing.T, db string, args ...string) *report.ReportDocument {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	full := append([]string{"scan", "image", "--db", db, "--format", "json", "--output", out, "--quiet", "--ignorefile", ""}, args...)
	code, _, stderr := runCLI(t, full...)
	if code != 0 {
		t.Fatalf("seawall %v: exit %d: %s", full, code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc report.ReportDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// TestScanDebianGroundTruth scans the Debian bookworm images with the OSV
// records derived from Debian's own changelogs: every (binary package,
// CVE) pair that follows from those records and the installed source
// versions, and nothing else.
func TestScanDebianGroundTruth(t *testing.T) {
	data := imagetest.SharedData(t)
	db := importDB(t, filepath.Join(data, "osv/debian12-changelog-derived"))
	base := filepath.Join(data, "images/debian-bookworm-minbase.rootfs.tar.gz")
	down := filepath.Join(data, "images/debian-bookworm-downgraded.layer.tar.gz")
	for _, tc := range []struct {
		name        string
		layers      []string
		golden      string
		pairs, cves int
	}{
		{"minbase", []string{base}, "minbase-fixed-later-cves.tsv", 22, 16},
		{"downgraded", []string{base, down}, "downgraded-fixed-later-cves.tsv", 181, 109},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := goldenPairs(t, filepath.Join(data, "golden/debian-changelog-cves", tc.golden))
			if len(want) != tc.pairs {
				t.Fatalf("golden file has %d pairs, the issue says %d", len(want), tc.pairs)
			}
			var blobs []imagetest.BlobInfo
			for _, l := range tc.layers {
				b, err := imagetest.StatBlob(l)
				if err != nil {
					t.Fatal(err)
				}
				blobs = append(blobs, b)
			}
			layout := filepath.Join(t.TempDir(), "img.oci")
			if err := imagetest.OCILayoutFromBlobs(layout, "img:1", blobs); err != nil {
				t.Fatal(err)
			}
			doc := scanJSON(t, db, layout)
			got := map[string]bool{}
			cves := map[string]bool{}
			for _, f := range doc.Findings {
				ids := append([]string{f.ID}, f.Aliases...)
				for _, id := range ids {
					if strings.HasPrefix(id, "CVE-") {
						got[f.PackageName+" "+id] = true
						cves[id] = true
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(package, CVE) pairs (-golden +seawall):\n%s", diff)
			}
			if len(cves) != tc.cves {
				t.Errorf("%d distinct CVEs, want %d", len(cves), tc.cves)
			}
			if doc.DB == nil || doc.DB.BuiltAt.IsZero() {
				t.Error("the report does not state the database build time")
			}
		})
	}
}

// goldenPairs reads binary_pkg, installed, fixed, cves(comma-separated).
func goldenPairs(t *testing.T, p string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]bool{}
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue // header
		}
		f := strings.Split(l, "\t")
		for _, c := range strings.Split(f[3], ",") {
			pairs[f[0]+" "+c] = true
		}
	}
	return pairs
}

// buildOldGoBinary builds a program that depends on golang.org/x/text
// v0.3.6 and golang.org/x/net v0.5.0, served from stand-in modules in a
// local file proxy, and returns the directory holding it.
func buildOldGoBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH; cannot build the Go binary fixture")
	}
	work := t.TempDir()
	proxy := filepath.Join(work, "proxy")
	for mod, ver := range map[string]string{"golang.org/x/text": "v0.3.6", "golang.org/x/net": "v0.5.0"} {
		src := filepath.Join("testdata/goproxy", filepath.Base(mod)+"@"+ver)
		dir := filepath.Join(proxy, filepath.FromSlash(mod), "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			w, _ := zw.Create(mod + "@" + ver + "/" + e.Name())
			w.Write(b)
		}
		zw.Close()
		gomod, _ := os.ReadFile(filepath.Join(src, "go.mod"))
		files := map[string][]byte{
			"list": []byte(ver + "\n"), ver + ".info": []byte(`{"Version":"` + ver + `","Time":"2022-01-01T00:00:00Z"}`),
			ver + ".mod": gomod, ver + ".zip": zb.Bytes(),
		}
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	app := filepath.Join(work, "app")
	if err := os.CopyFS(app, os.DirFS("testdata/goproxy/app")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(work, "rootfs")
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(root, "usr/local/bin/scanme"), ".")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-mod=mod -buildvcs=false",
		"GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOMODCACHE="+filepath.Join(work, "modcache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+w", work).Run() })
	return root
}

// osvRecord is the part of an OSV record the independent check reads.
type osvRecord struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases"`
	Withdrawn string   `json:"withdrawn"`
	Affected  []struct {
		Package struct{ Ecosystem, Name string } `json:"package"`
		Ranges  []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

// expectedGoIDs decides, with golang.org/x/mod/semver rather than
// Seawall's own version code, which records of dir affect the given
// module versions.
func expectedGoIDs(t *testing.T, dir string, mods map[string]string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s", dir)
	}
	want := map[string]bool{}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r osvRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if r.Withdrawn != "" {
			continue
		}
		for _, a := range r.Affected {
			v, ok := mods[a.Package.Name]
			if a.Package.Ecosystem != "Go" || !ok {
				continue
			}
			for _, rg := range a.Ranges {
				if rg.Type == "SEMVER" && inSemverRange("v"+v, rg.Events) {
					want[r.ID] = true
				}
			}
		}
	}
	return want
}

// inSemverRange evaluates OSV events (sorted as the Go database writes
// them: introduced, then fixed) for v.
func inSemverRange(v string, events []map[string]string) bool {
	in := false
	for _, e := range events {
		if x, ok := e["introduced"]; ok && (x == "0" || semver.Compare(v, "v"+x) >= 0) {
			in = true
		}
		if x, ok := e["fixed"]; ok && semver.Compare(v, "v"+x) >= 0 {
			in = false
		}
		if x, ok := e["last_affected"]; ok && semver.Compare(v, "v"+x) > 0 {
			in = false
		}
	}
	return in
}

// goFindings returns the finding IDs per module of a scan.
func goFindings(doc *report.ReportDocument) map[string]bool {
	got := map[string]bool{}
	for _, f := range doc.Findings {
		if f.Status == "withdrawn" {
			continue
		}
		// A finding's primary ID may be a CVE; the GO record is among
		// the advisories that matched.
		for _, a := range f.Advisories {
			if strings.HasPrefix(a, "GO-") {
				got[a] = true
			}
		}
	}
	return got
}

// TestScanGoBinary builds a Go binary against old golang.org/x/text and
// golang.org/x/net versions and requires exactly the Go advisories whose
// ranges cover those versions.
func TestScanGoBinary(t *testing.T) {
	root := buildOldGoBinary(t)
	db := importDB(t, "testdata/go-vulndb")
	doc := scanJSON(t, db, "--rootfs", root)
	mods := map[string]string{"golang.org/x/text": "0.3.6", "golang.org/x/net": "0.5.0"}
	want := expectedGoIDs(t, "testdata/go-vulndb", mods)
	if len(want) < 5 {
		t.Fatalf("only %d expected advisories: the fixture versions should be badly out of date", len(want))
	}
	if diff := cmp.Diff(want, goFindings(doc)); diff != "" {
		t.Errorf("Go advisories (-expected +seawall):\n%s", diff)
	}
	for _, f := range doc.Findings {
		if f.Location.Path != "/usr/local/bin/scanme" {
			t.Errorf("%s: location %q", f.ID, f.Location.Path)
		}
	}
}

// TestScanGoBinaryFullDB repeats the check against the whole Go
// vulnerability database, where the toolchain (stdlib) also matches.
func TestScanGoBinaryFullDB(t *testing.T) {
	data := imagetest.SharedData(t)
	root := buildOldGoBinary(t)
	dir := filepath.Join(data, "osv/go-vulndb/data/osv")
	db := importDB(t, dir)
	doc := scanJSON(t, db, "--rootfs", root)
	mods := map[string]string{"golang.org/x/text": "0.3.6", "golang.org/x/net": "0.5.0"}
	for _, p := range doc.Packages {
		if p.Name == "stdlib" {
			mods["stdlib"] = p.Version
		}
	}
	if mods["stdlib"] == "" {
		t.Fatal("no stdlib package for the toolchain")
	}
	want := expectedGoIDs(t, dir, mods)
	if diff := cmp.Diff(want, goFindings(doc)); diff != "" {
		t.Errorf("Go advisories (-expected +seawall):\n%s", diff)
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	t.Logf("%d advisories for stdlib %s, x/text 0.3.6, x/net 0.5.0: %v", len(ids), mods["stdlib"], ids)
}
