package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/osv"
)

// testRecords is the osv package's real test data.
const testRecords = "../osv/testdata/records"

func recordFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(testRecords, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no test records")
	}
	return files
}

func record(id, modified string, eco, name string) []byte {
	return []byte(fmt.Sprintf(`{"id": %q, "modified": %q, "summary": "from %s", "affected": [{"package": {"ecosystem": %q, "name": %q}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}]}]}`, id, modified, modified, eco, name))
}

func writeFile(t testing.TB, p string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// makeZip writes a zip of name → content.
func makeZip(t testing.TB, p string, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, p, buf.Bytes())
}

func ids(vs []*osv.Vulnerability) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestImportAndLookup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Import(ctx, dir, []Input{{Location: testRecords, Name: "testdata"}}, ImportOptions{Now: func() time.Time { return fixedTime }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rejected != 0 || st.Added < 30 || st.Total != st.Added || st.Records != len(recordFiles(t)) {
		t.Errorf("stats %+v", st)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	info := db.Info()
	if !info.BuiltAt.Equal(fixedTime) || info.Records != st.Total || info.Ecosystems["Go"] == 0 || info.Ecosystems["PyPI"] == 0 {
		t.Errorf("info %+v", info)
	}
	if srcs := db.Sources(); len(srcs) != 1 || srcs[0].Name != "testdata" || !srcs[0].Fetched.Equal(fixedTime) || srcs[0].Records != st.Records {
		t.Errorf("sources %+v", srcs)
	}
	ecos := db.Ecosystems()
	for _, want := range []string{"AlmaLinux:9", "Debian:12", "Go", "Maven", "NuGet", "Packagist", "PyPI", "RubyGems", "crates.io", "npm"} {
		if !contains(ecos, want) {
			t.Errorf("ecosystem %q missing from %v", want, ecos)
		}
	}
	tests := []struct {
		eco, name string
		want      []string
	}{
		{"PyPI", "Jinja2", []string{"PYSEC-2021-66"}}, // PEP 503: the record says jinja2
		{"PyPI", "jinja2", []string{"PYSEC-2021-66"}},
		{"NuGet", "newtonsoft.json", []string{"GHSA-5crp-9r3c-p9vr"}}, // the record says Newtonsoft.Json
		{"Packagist", "GuzzleHttp/Guzzle", []string{"GHSA-f2wf-25xc-69c9"}},
		{"npm", "lodash", []string{"GHSA-35jh-r3h4-6jhm"}},
		{"npm", "Lodash", nil}, // npm names are exact
		{"Maven", "org.apache.logging.log4j:log4j-core", []string{"GHSA-jfh8-c2jp-5v3q"}},
		{"RubyGems", "nokogiri", []string{"GHSA-crjr-9rc5-ghw8"}},
		{"Debian:12", "gzip", []string{"DEBIAN-CVE-2006-4334"}},
		{"Debian:11", "gzip", nil}, // the ecosystem is exact
		{"Go", "golang.org/x/net", []string{"GO-2022-0969", "GO-2023-1571"}},
		{"Go", "golang.org/x/nett", nil},
	}
	for _, tt := range tests {
		vs, err := db.Lookup(ctx, tt.eco, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, ids(vs)); diff != "" {
			t.Errorf("Lookup(%s, %s) (-want +got):\n%s", tt.eco, tt.name, diff)
		}
	}
	// Withdrawn records are returned; the matcher decides.
	if v, err := db.Get(ctx, "GHSA-35c4-f3rq-f9g3"); err != nil || v == nil || v.Withdrawn.IsZero() {
		t.Errorf("withdrawn record: %v %v", v, err)
	}
	// A stored record is the parsed record.
	data, _ := os.ReadFile(filepath.Join(testRecords, "go-vulndb", "GO-2022-0969.json"))
	want, _, _ := osv.Parse(data, "x.json")
	got, err := db.Get(ctx, "GO-2022-0969")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored record differs (-parsed +stored):\n%s", diff)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestImportKeepsNewer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := t.TempDir()
	old := writeFile(t, filepath.Join(in, "old", "X-1.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	writeFile(t, filepath.Join(in, "old", "X-2.json"), record("X-2", "2024-01-01T00:00:00Z", "npm", "a"))
	if _, err := Import(ctx, dir, []Input{{Location: filepath.Dir(old)}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// X-1 newer and moved to package b; X-2 older: kept as it was.
	writeFile(t, filepath.Join(in, "new", "X-1.json"), record("X-1", "2024-02-01T00:00:00Z", "npm", "b"))
	writeFile(t, filepath.Join(in, "new", "X-2.json"), record("X-2", "2023-01-01T00:00:00Z", "npm", "b"))
	writeFile(t, filepath.Join(in, "new", "X-3.json"), record("X-3", "2023-01-01T00:00:00Z", "npm", "b"))
	st, err := Import(ctx, dir, []Input{{Location: filepath.Join(in, "new")}}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 1 || st.Updated != 1 || st.Unchanged != 1 || st.Total != 3 {
		t.Errorf("stats %+v", st)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, want := range map[string][]string{"a": {"X-2"}, "b": {"X-1", "X-3"}} {
		vs, _ := db.Lookup(ctx, "npm", name)
		if diff := cmp.Diff(want, ids(vs)); diff != "" {
			t.Errorf("npm/%s (-want +got):\n%s", name, diff)
		}
	}
	if len(db.Sources()) != 2 {
		t.Errorf("sources %+v", db.Sources())
	}
	if db.Info().Ecosystems["npm"] != 3 {
		t.Errorf("ecosystems %v", db.Info().Ecosystems)
	}
}

func TestImportWarnsAndGoesOn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := t.TempDir()
	writeFile(t, filepath.Join(in, "good.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	writeFile(t, filepath.Join(in, "bad-json.json"), []byte(`{"id": "X-2",`))
	writeFile(t, filepath.Join(in, "wrong-type.json"), []byte(`{"id": "X-3", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": ["a"]}}]}`))
	writeFile(t, filepath.Join(in, "huge.json"), []byte(`{"id": "X-4", "modified": "2024-01-01T00:00:00Z", "details": "`+strings.Repeat("x", osv.MaxStringLen+1)+`"}`))
	writeFile(t, filepath.Join(in, "unknown-range.json"), []byte(`{"id": "X-5", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "CALVER", "events": [{"introduced": "0"}]}]}]}`))
	writeFile(t, filepath.Join(in, "README.md"), []byte("not a record"))
	var seen []Warning
	st, err := Import(ctx, dir, []Input{{Location: in}}, ImportOptions{OnWarning: func(w Warning) { seen = append(seen, w) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 2 || st.Rejected != 3 || st.WarningCount != 4 || len(seen) != 4 {
		t.Errorf("stats %+v", st)
	}
	byFile := map[string]Warning{}
	for _, w := range st.Warnings {
		byFile[filepath.Base(w.Source)] = w
	}
	if w := byFile["wrong-type.json"]; w.Field != "affected[0].package.name" || !w.Rejected {
		t.Errorf("wrong-type warning %+v", w)
	}
	if w := byFile["unknown-range.json"]; w.Field != "affected[0].ranges[0]" || w.Rejected || !strings.Contains(w.Message, "CALVER") {
		t.Errorf("unknown-range warning %+v", w)
	}
	if w := byFile["huge.json"]; w.Field != "details" || !w.Rejected {
		t.Errorf("huge warning %+v", w)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vs, _ := db.Lookup(ctx, "npm", "a")
	if diff := cmp.Diff([]string{"X-1", "X-5"}, ids(vs)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if len(vs[1].Affected[0].Ranges) != 0 {
		t.Errorf("unknown range stored: %+v", vs[1].Affected[0])
	}
}

func TestImportZip(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	files := map[string][]byte{}
	for _, p := range recordFiles(t) {
		data, _ := os.ReadFile(p)
		files[strings.TrimPrefix(p, testRecords+"/")] = data
	}
	files["bad/X-9.json"] = []byte(`{"id": 9}`)
	files["../escape.json"] = record("X-10", "2024-01-01T00:00:00Z", "npm", "a")
	files["/abs.json"] = record("X-11", "2024-01-01T00:00:00Z", "npm", "a")
	z := makeZip(t, filepath.Join(in, "all.zip"), files)
	dir := t.TempDir()
	st, err := Import(ctx, dir, []Input{{Location: z}}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != len(recordFiles(t)) || st.Rejected != 3 {
		t.Errorf("stats %+v (want %d records, 3 rejected)", st, len(recordFiles(t)))
	}
	var members []string
	for _, w := range st.Warnings {
		if w.Rejected {
			members = append(members, w.Source[strings.Index(w.Source, "!")+1:])
		}
	}
	sort.Strings(members)
	if diff := cmp.Diff([]string{"../escape.json", "/abs.json", "bad/X-9.json"}, members); diff != "" {
		t.Errorf("rejected members (-want +got):\n%s", diff)
	}
	for _, w := range st.Warnings {
		if strings.HasSuffix(w.Source, "X-9.json") && w.Field != "id" {
			t.Errorf("warning %+v does not name the field", w)
		}
	}
}

// TestImportZipBomb: a member that inflates past the member bound is left
// out, and an archive past the total bound is refused, without reading
// more than the bounds.
func TestImportZipBomb(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	// 64 MiB of zeros compresses to ~64 KiB.
	bomb := make([]byte, 64<<20)
	z := makeZip(t, filepath.Join(in, "bomb.zip"), map[string][]byte{
		"a.json":    record("X-1", "2024-01-01T00:00:00Z", "npm", "a"),
		"bomb.json": bomb,
		"c.json":    record("X-2", "2024-01-01T00:00:00Z", "npm", "a"),
	})
	if fi, _ := os.Stat(z); fi.Size() > 1<<20 {
		t.Fatalf("zip is %d bytes", fi.Size())
	}
	dir := t.TempDir()
	st, err := Import(ctx, dir, []Input{{Location: z}}, ImportOptions{MaxMember: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 2 || st.Rejected != 1 {
		t.Errorf("stats %+v", st)
	}
	// Past the total bound, the whole archive is refused and the
	// database keeps what it had.
	_, err = Import(ctx, dir, []Input{{Location: z}}, ImportOptions{MaxMember: 128 << 20, MaxInflated: 8 << 20})
	if err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("err = %v", err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Info().Records != 2 {
		t.Errorf("records = %d", db.Info().Records)
	}
}

func TestImportFailureLeavesOldDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := t.TempDir()
	writeFile(t, filepath.Join(in, "one", "X-1.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	if _, err := Import(ctx, dir, []Input{{Location: filepath.Join(in, "one")}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before := fileDigest(t, Path(dir))
	cases := []struct {
		name   string
		inputs []Input
		opts   ImportOptions
		ctx    func() context.Context
	}{
		{"injected failure mid-import", []Input{{Location: testRecords}}, ImportOptions{failAfter: 10}, nil},
		{"missing input", []Input{{Location: testRecords}, {Location: filepath.Join(in, "nope")}}, ImportOptions{}, nil},
		{"cancelled", []Input{{Location: testRecords}}, ImportOptions{}, func() context.Context {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c
		}},
		{"unsigned bundle", []Input{{Location: writeFile(t, filepath.Join(in, "b.tar"), []byte("x"))}}, ImportOptions{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cx := ctx
			if c.ctx != nil {
				cx = c.ctx()
			}
			if _, err := Import(cx, dir, c.inputs, c.opts); err == nil {
				t.Fatal("import succeeded")
			}
			if got := fileDigest(t, Path(dir)); got != before {
				t.Error("the database changed")
			}
			assertNoTemps(t, dir)
			db, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if db.Info().Records != 1 {
				t.Errorf("records = %d", db.Info().Records)
			}
			db.Close()
		})
	}
}

func fileDigest(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%x", sum)
}

func assertNoTemps(t testing.TB, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".download-") || strings.HasPrefix(e.Name(), ".bundle-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestImportKilled kills an import in a child process while it writes
// and checks that the previous database is intact and the next import
// cleans up after it.
func TestImportKilled(t *testing.T) {
	if os.Getenv("SEAWALL_VULNDB_CHILD") != "" {
		// The child: import slowly until killed.
		var n int
		_, err := Import(context.Background(), os.Getenv("SEAWALL_VULNDB_CHILD"), []Input{{Location: os.Getenv("SEAWALL_VULNDB_INPUT")}}, ImportOptions{
			Workers: 1,
			OnWarning: func(Warning) {
				n++
				if n == 1 {
					fmt.Println("importing")
				}
				time.Sleep(10 * time.Millisecond)
			},
		})
		fmt.Println("finished", err)
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	in := t.TempDir()
	writeFile(t, filepath.Join(in, "one", "X-1.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	if _, err := Import(ctx, dir, []Input{{Location: filepath.Join(in, "one")}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before := fileDigest(t, Path(dir))
	// Many records that each warn, so the child is mid-import for long.
	for i := range 2000 {
		writeFile(t, filepath.Join(in, "many", fmt.Sprintf("Y-%d.json", i)), []byte(fmt.Sprintf(`{"id": "Y-%d", "modified": "2024-01-01T00:00:00Z", "published": "bad"}`, i)))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportKilled$")
	cmd.Env = append(os.Environ(), "SEAWALL_VULNDB_CHILD="+dir, "SEAWALL_VULNDB_INPUT="+filepath.Join(in, "many"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(out, buf, len("importing"))
	if !strings.Contains(string(buf[:n]), "importing") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q", buf[:n])
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if got := fileDigest(t, Path(dir)); got != before {
		t.Fatal("the database changed under a killed import")
	}
	temps, _ := filepath.Glob(filepath.Join(dir, ".vulndb.sqlite.tmp-*"))
	if len(temps) == 0 {
		t.Log("the child left no temporary file (killed before it made one?)")
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if db.Info().Records != 1 {
		t.Errorf("records = %d", db.Info().Records)
	}
	db.Close()
	// The next import takes the lock the dead child held and removes its
	// temporary file.
	if _, err := Import(ctx, dir, []Input{{Location: filepath.Join(in, "one")}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	assertNoTemps(t, dir)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); !errors.Is(err, ErrNoDB) {
		t.Errorf("empty dir: %v", err)
	}
	writeFile(t, Path(dir), []byte("SQLite format 3\x00 but not really"))
	if _, err := Open(dir); err == nil {
		t.Error("garbage opened")
	}
	// A SQLite file that is not ours: refused by Open and by Import.
	other := filepath.Join(t.TempDir(), FileName)
	db, err := openSQL(other, false)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('format', 'other/9')`)
	db.Close()
	if _, err := Open(other); !errors.Is(err, ErrFormat) {
		t.Errorf("foreign db: %v", err)
	}
	in := writeFile(t, filepath.Join(t.TempDir(), "a.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	if _, err := Import(context.Background(), other, []Input{{Location: in}}, ImportOptions{}); !errors.Is(err, ErrFormat) {
		t.Errorf("import onto foreign db: %v", err)
	}
	if _, err := Import(context.Background(), other, []Input{{Location: in}}, ImportOptions{Replace: true}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "Django", "django"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "Foo__Bar-.baz", "foo-bar-baz"},
		{"PyPI", "_x_", "-x-"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Packagist", "GuzzleHttp/Guzzle", "guzzlehttp/guzzle"},
		{"crates.io", "Serde_JSON", "serde-json"},
		{"npm", "JSONStream", "JSONStream"},
		{"RubyGems", "RedCloth", "RedCloth"},
		{"Maven", "org.Foo:Bar", "org.Foo:Bar"},
		{"Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"Debian:12", "Foo", "Foo"},
		{"GitHub Actions", "Actions/Checkout", "actions/checkout"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%s, %s) = %q, want %q", tt.eco, tt.in, got, tt.want)
		}
	}
}

func TestStagedData(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	inputs := stagedInputs(t)
	dir := t.TempDir()
	st, err := Import(context.Background(), dir, inputs, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records in %v (%.0f/s), %d rejected (non-OSV files in osv-dev-testdata), %d warnings", st.Records, st.Duration, st.RecordsPerSecond(), st.Rejected, st.WarningCount)
	if st.Total < 14000 {
		t.Errorf("only %d records", st.Total)
	}
	for _, w := range st.Warnings {
		if w.Rejected && !strings.Contains(w.Source, "vulnfeeds") && !strings.Contains(w.Source, "/index/") {
			t.Errorf("unexpected rejection: %v", w)
		}
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, _ := json.Marshal(db.Info().Ecosystems)
	t.Logf("ecosystems: %s", raw)
	vs, err := db.Lookup(context.Background(), "Go", "stdlib")
	if err != nil || len(vs) < 100 {
		t.Errorf("Go/stdlib: %d records, %v", len(vs), err)
	}
}

func TestImportURL(t *testing.T) {
	ctx := context.Background()
	goZip, _ := testZips(t)
	srv := newArchiveServer()
	srv.set("/Go/all.zip", goZip)
	srv.set("/one.json", record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	st, err := Import(ctx, dir, []Input{{Location: hs.URL + "/Go/all.zip"}, {Location: hs.URL + "/one.json"}}, ImportOptions{HTTPClient: hs.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added < 3 {
		t.Errorf("stats %+v", st)
	}
	assertNoTemps(t, dir)
	db := openT(t, dir)
	defer db.Close()
	if got := lookupT(t, db, "npm", "a"); len(got) != 1 {
		t.Errorf("npm/a: %v", got)
	}
	for _, s := range db.Sources() {
		if !strings.HasPrefix(s.Location, hs.URL) {
			t.Errorf("source location %q", s.Location)
		}
	}
	if _, err := Import(ctx, dir, []Input{{Location: hs.URL + "/missing.zip"}}, ImportOptions{HTTPClient: hs.Client()}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing URL: %v", err)
	}
	assertNoTemps(t, dir)
}

func TestConcurrentLookups(t *testing.T) {
	dir := t.TempDir()
	if _, err := Import(context.Background(), dir, []Input{{Location: testRecords}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db := openT(t, dir)
	defer db.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				key := [][2]string{{"PyPI", "jinja2"}, {"Go", "golang.org/x/net"}, {"npm", "lodash"}}[i%3]
				vs, err := db.Lookup(context.Background(), key[0], key[1])
				if err != nil || len(vs) == 0 {
					t.Errorf("%v: %d, %v", key, len(vs), err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
