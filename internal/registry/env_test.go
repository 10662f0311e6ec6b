package registry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/blob/fs"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// env is a registry served by httptest over a real SQLite file (or the
// in-memory fake) and a real filesystem blob store under t.TempDir().
type env struct {
	t     testing.TB
	srv   *httptest.Server
	reg   *registry.Registry
	store registry.Store
	data  string
	host  string   // host:port, for go-containerregistry references
	hdr   []string // headers every do() request carries, as name, value pairs
}

type envOptions struct {
	auth     registry.Authorizer
	backend  string // "sqlite" (default) or "mem"
	projects []string
	now      func() time.Time
	cfg      func(*registry.Config)
}

// backends are the metadata stores the registry tests run against.
var backends = []string{"sqlite", "mem"}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.auth == nil {
		o.auth = testsupport.AllowAll{}
	}
	if o.projects == nil {
		o.projects = []string{"team", "other", "conformance"}
	}
	data := t.TempDir()
	var st registry.Store
	switch o.backend {
	case "", "sqlite":
		db, err := sqlite.Open(context.Background(), filepath.Join(data, "seawall.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		for _, p := range o.projects {
			if err := db.CreateProject(context.Background(), &store.Project{Name: p}); err != nil {
				t.Fatal(err)
			}
		}
		st = db
	case "mem":
		st = testsupport.NewMemStore(o.projects...)
	default:
		t.Fatalf("unknown backend %q", o.backend)
	}
	blobs, err := fs.New(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := registry.Config{
		Store:   st,
		Blobs:   blobs,
		Uploads: blobs,
		Auth:    o.auth,
		Logger:  testLogger(t),
		Now:     o.now,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	reg, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/", reg)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, reg: reg, store: st, data: data, host: strings.TrimPrefix(srv.URL, "http://")}
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SEAWALL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// do sends a request to the registry and returns the response with its
// body read.
func (e *env) do(method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	hdr = append(append([]string(nil), e.hdr...), hdr...)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if b, ok := body.(interface{ Len() int }); ok && body != nil {
		req.ContentLength = int64(b.Len())
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func newBlobStore(t testing.TB, dir string) *fs.Store {
	t.Helper()
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
