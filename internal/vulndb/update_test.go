package vulndb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// archiveServer serves all.zip archives like the osv.dev bucket does,
// through http.ServeContent (ETag, Last-Modified, conditional GET, Range
// and If-Range), with faults on demand.
type archiveServer struct {
	mu          sync.Mutex
	files       map[string][]byte // path → content
	etags       map[string]string
	modified    time.Time
	dropAfter   int64 // > 0: cut the body of the next drops responses without Range after this many bytes
	drops       int
	dropPath    string // only this path drops, when set
	ignoreRange bool
	log         []string // "GET /path status range=... if-range=..."
}

func newArchiveServer() *archiveServer {
	return &archiveServer{files: map[string][]byte{}, etags: map[string]string{}, modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *archiveServer) set(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	sum := sha256.Sum256(data)
	s.etags[path] = fmt.Sprintf(`"%x"`, sum[:8])
	s.modified = s.modified.Add(time.Hour)
}

// cutWriter aborts the response after n body bytes, as a dropped
// connection would.
type cutWriter struct {
	http.ResponseWriter
	n int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.n {
		c.ResponseWriter.Write(p[:c.n])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.n -= int64(len(p))
	return c.ResponseWriter.Write(p)
}

func (s *archiveServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data, ok := s.files[r.URL.Path]
	etag, mod := s.etags[r.URL.Path], s.modified
	cut := int64(0)
	if s.drops > 0 && r.Header.Get("Range") == "" && (s.dropPath == "" || s.dropPath == r.URL.Path) {
		s.drops--
		cut = s.dropAfter
	}
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	s.log = append(s.log, fmt.Sprintf("%s range=%q if-range=%q if-none-match=%q", r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Range"), r.Header.Get("If-None-Match")))
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", etag)
	if cut > 0 {
		w = &cutWriter{w, cut}
	}
	http.ServeContent(w, r, "all.zip", mod, bytes.NewReader(data))
}

func (s *archiveServer) takeLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.log
	s.log = nil
	return l
}

// testZips builds two all.zip archives from the real test records.
func testZips(t *testing.T) (goZip, pypiZip []byte) {
	t.Helper()
	goFiles, pyFiles := map[string][]byte{}, map[string][]byte{}
	for _, p := range recordFiles(t) {
		data, _ := os.ReadFile(p)
		switch filepath.Base(filepath.Dir(p)) {
		case "go-vulndb":
			goFiles[filepath.Base(p)] = data
		case "pypa":
			pyFiles[filepath.Base(p)] = data
		}
	}
	// A big filler member, so that the archive is worth resuming.
	filler := make([]byte, 0, 256<<10)
	for i := 0; len(filler) < 200<<10; i++ {
		filler = append(filler, fmt.Sprintf("%08x", sha256.Sum256([]byte{byte(i), byte(i >> 8)}))...)
	}
	pyFiles["PYSEC-9999-1.json"] = []byte(`{"id": "PYSEC-9999-1", "modified": "2024-01-01T00:00:00Z", "details": "` + string(filler) + `", "affected": [{"package": {"ecosystem": "PyPI", "name": "filler"}}]}`)
	dir := t.TempDir()
	goPath := makeZip(t, filepath.Join(dir, "go.zip"), goFiles)
	pyPath := makeZip(t, filepath.Join(dir, "py.zip"), pyFiles)
	goZip, _ = os.ReadFile(goPath)
	pypiZip, _ = os.ReadFile(pyPath)
	return goZip, pypiZip
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	goZip, pyZip := testZips(t)
	srv := newArchiveServer()
	srv.set("/Go/all.zip", goZip)
	srv.set("/PyPI/all.zip", pyZip)
	hs := httptest.NewServer(srv)
	defer hs.Close()

	dir := t.TempDir()
	sources := []SourceConfig{{Name: "Go", URL: hs.URL + "/Go/all.zip"}, {Name: "PyPI", URL: hs.URL + "/PyPI/all.zip"}}
	if err := SaveSources(dir, sources); err != nil {
		t.Fatal(err)
	}
	clock := fixedTime
	opts := UpdateOptions{HTTPClient: hs.Client(), RetryWait: time.Millisecond, Now: func() time.Time { return clock }}

	// 1: both downloaded and imported.
	st, err := Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(st); got != "Go=downloaded PyPI=downloaded" || st.Import == nil || st.Import.Added == 0 {
		t.Fatalf("first update: %s %+v", got, st.Import)
	}
	db := openT(t, dir)
	builtAt := db.Info().BuiltAt
	if n := len(lookupT(t, db, "PyPI", "Jinja2")); n != 1 {
		t.Errorf("PyPI/jinja2: %d records", n)
	}
	if srcs := db.Sources(); len(srcs) != 2 || srcs[0].Location != sources[0].URL || srcs[0].Digest == "" || srcs[0].ETag == "" {
		t.Errorf("sources %+v", srcs)
	}
	db.Close()
	srv.takeLog()

	// 2: nothing changed: conditional GETs answered 304; no import, but
	// the check time is recorded.
	clock = clock.Add(time.Hour)
	st, err = Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(st); got != "Go=not-modified PyPI=not-modified" || st.Import != nil {
		t.Fatalf("second update: %s %+v", got, st.Import)
	}
	for _, l := range srv.takeLog() {
		if !strings.Contains(l, `if-none-match="\"`) {
			t.Errorf("not conditional: %s", l)
		}
	}
	db = openT(t, dir)
	if !db.Info().BuiltAt.Equal(builtAt) {
		t.Errorf("built at moved: %v", db.Info().BuiltAt)
	}
	for _, s := range db.Sources() {
		if !s.Checked.Equal(clock) || s.Fetched.Equal(clock) {
			t.Errorf("source %s checked %v fetched %v", s.Name, s.Checked, s.Fetched)
		}
	}
	db.Close()

	// 3: PyPI changes, and its download is cut halfway: resumed with
	// Range + If-Range in the same update.
	pyZip2 := append([]byte(nil), pyZip...)
	pyZip2 = rezip(t, pyZip2, "PYSEC-9999-2.json", record("PYSEC-9999-2", "2024-01-01T00:00:00Z", "PyPI", "newpkg"))
	srv.set("/PyPI/all.zip", pyZip2)
	srv.mu.Lock()
	srv.drops, srv.dropAfter, srv.dropPath = 1, int64(len(pyZip2)/2), "/PyPI/all.zip"
	srv.mu.Unlock()
	st, err = Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(st); got != "Go=not-modified PyPI=downloaded" || !st.Sources[1].Resumed {
		t.Fatalf("third update: %s %+v", got, st.Sources)
	}
	log := srv.takeLog()
	if last := log[len(log)-1]; !strings.Contains(last, `range="bytes=`) || !strings.Contains(last, `if-range="\"`) {
		t.Errorf("no resume: %q", log)
	}
	if st.Sources[1].Bytes != int64(len(pyZip2)) {
		t.Errorf("received %d bytes for a %d-byte archive", st.Sources[1].Bytes, len(pyZip2))
	}
	checkArchive(t, dir, "PyPI", pyZip2)
	db = openT(t, dir)
	if n := len(lookupT(t, db, "PyPI", "newpkg")); n != 1 {
		t.Errorf("new record: %d", n)
	}
	db.Close()
}

func TestUpdateServerIgnoresRange(t *testing.T) {
	ctx := context.Background()
	_, pyZip := testZips(t)
	srv := newArchiveServer()
	srv.set("/PyPI/all.zip", pyZip)
	srv.ignoreRange = true
	srv.drops, srv.dropAfter = 1, int64(len(pyZip)/3)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	st, err := Update(ctx, dir, UpdateOptions{HTTPClient: hs.Client(), RetryWait: time.Millisecond,
		Sources: []SourceConfig{{Name: "PyPI", URL: hs.URL + "/PyPI/all.zip"}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sources[0].Status != "downloaded" || st.Sources[0].Resumed {
		t.Errorf("%+v", st.Sources[0])
	}
	// The second request asked for a range, got the whole file, and
	// started over rather than appending it.
	if want := int64(len(pyZip)/3 + len(pyZip)); st.Sources[0].Bytes != want {
		t.Errorf("received %d bytes, want %d", st.Sources[0].Bytes, want)
	}
	checkArchive(t, dir, "PyPI", pyZip)
	db := openT(t, dir)
	defer db.Close()
	if db.Info().Records == 0 {
		t.Error("nothing imported")
	}
}

// TestUpdateResumesAcrossRuns: every attempt of the first update is cut;
// it fails and keeps the partial archive, which the next update resumes.
func TestUpdateResumesAcrossRuns(t *testing.T) {
	ctx := context.Background()
	_, pyZip := testZips(t)
	srv := newArchiveServer()
	srv.set("/PyPI/all.zip", pyZip)
	srv.drops, srv.dropAfter, srv.dropPath = 1, int64(len(pyZip)/2), "/PyPI/all.zip"
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	// A failing request that is not a dropped body: the 404.
	opts := UpdateOptions{HTTPClient: hs.Client(), RetryWait: time.Millisecond, Attempts: 1,
		Sources: []SourceConfig{{Name: "PyPI", URL: hs.URL + "/PyPI/all.zip"}, {Name: "Gone", URL: hs.URL + "/Gone/all.zip"}}}
	st, err := Update(ctx, dir, opts)
	if err == nil || !strings.Contains(err.Error(), "Gone") || !strings.Contains(err.Error(), "PyPI") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(Path(dir)); err == nil {
		t.Error("a database was made from nothing")
	}
	partial := archivePath(filepath.Join(dir, downloadsDir), "PyPI") + ".partial"
	if fi, err := os.Stat(partial); err != nil || fi.Size() != int64(len(pyZip)/2) {
		t.Fatalf("partial: %v %v", fi, err)
	}
	opts.Sources = opts.Sources[:1]
	st, err = Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Sources[0].Resumed || st.Sources[0].Bytes != int64(len(pyZip)-len(pyZip)/2) {
		t.Errorf("%+v", st.Sources[0])
	}
	checkArchive(t, dir, "PyPI", pyZip)
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	got, err := LoadSources(dir)
	if err != nil || len(got) != len(DefaultEcosystems) {
		t.Fatalf("defaults: %v %v", got, err)
	}
	for _, s := range got {
		if s.Name == "Red Hat" && s.URL != OSVBucket+"/Red%20Hat/all.zip" {
			t.Errorf("Red Hat URL %s", s.URL)
		}
	}
	writeFile(t, filepath.Join(dir, SourcesFile), []byte(`{"sources": [{"name": "x", "url": "file:///etc/passwd"}]}`))
	if _, err := LoadSources(dir); err == nil {
		t.Error("file URL accepted")
	}
}

func statuses(st UpdateStats) string {
	var parts []string
	for _, s := range st.Sources {
		parts = append(parts, s.Name+"="+s.Status)
	}
	return strings.Join(parts, " ")
}

func checkArchive(t *testing.T, dir, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(archivePath(filepath.Join(dir, downloadsDir), name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s archive: %d bytes, differs from the server's %d", name, len(got), len(want))
	}
	if _, err := os.Stat(archivePath(filepath.Join(dir, downloadsDir), name) + ".partial"); err == nil {
		t.Error("partial left behind")
	}
}

// rezip adds a member to a zip.
func rezip(t *testing.T, data []byte, name string, content []byte) []byte {
	t.Helper()
	files := map[string][]byte{name: content}
	zr, err := zipReader(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		files[f.Name] = b.Bytes()
	}
	p := makeZip(t, filepath.Join(t.TempDir(), "z.zip"), files)
	out, _ := os.ReadFile(p)
	return out
}

func openT(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func lookupT(t *testing.T, db *DB, eco, name string) []string {
	t.Helper()
	vs, err := db.Lookup(context.Background(), eco, name)
	if err != nil {
		t.Fatal(err)
	}
	return ids(vs)
}
