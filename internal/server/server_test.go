package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const adminPW = "admin-password-1"

// testEnv is a real server (SQLite and blobs under a temp dir) behind
// httptest.
type testEnv struct {
	t    testing.TB
	srv  *Server
	ts   *httptest.Server
	host string // host:port, as image references name it
	logs *bytes.Buffer
}

func newTestEnv(t testing.TB, mutate ...func(*Config)) *testEnv {
	t.Helper()
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = adminPW
	cfg.Console = io.Discard
	for _, m := range mutate {
		m(&cfg)
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &testEnv{t: t, srv: srv, ts: ts, host: strings.TrimPrefix(ts.URL, "http://"), logs: logs}
}

// call sends a request with an Authorization header (auth may be "") and
// a JSON body (nil: none) and returns the status and body.
func (e *testEnv) call(method, path, auth string, body any) (int, []byte, http.Header) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// must calls and fails the test unless the status is want; it decodes the
// answer into out when out is not nil.
func (e *testEnv) must(want int, method, path, auth string, body, out any) {
	e.t.Helper()
	code, b, _ := e.call(method, path, auth, body)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func basicAuth(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// login returns an API token's Authorization header for user.
func (e *testEnv) login(user, pw string) string {
	e.t.Helper()
	var resp loginResponse
	e.must(http.StatusCreated, "POST", "/api/v1/login", "", loginRequest{Username: user, Password: pw}, &resp)
	return "Bearer " + resp.Token
}

func (e *testEnv) ref(repo string) name.Reference {
	e.t.Helper()
	r, err := name.ParseReference(e.host+"/"+repo, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *testEnv) push(repo string, a authn.Authenticator) (v1.Image, error) {
	img, err := random.Image(512, 2)
	if err != nil {
		e.t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(context.Background())}
	if a != nil {
		opts = append(opts, remote.WithAuth(a))
	}
	return img, remote.Write(e.ref(repo), img, opts...)
}

func (e *testEnv) pull(repo string, a authn.Authenticator) error {
	opts := []remote.Option{}
	if a != nil {
		opts = append(opts, remote.WithAuth(a))
	}
	img, err := remote.Image(e.ref(repo), opts...)
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// lockedWriter serializes writes to a buffer shared by goroutines.
type lockedWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	if l.mu == nil {
		l.mu = make(chan struct{}, 1)
	}
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.w.Write(p)
}

func TestSmokePushPull(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	basic := &authn.Basic{Username: "admin", Password: adminPW}
	img, err := e.push("team/app:v1", basic)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := e.pull("team/app:v1", basic); err != nil {
		t.Fatalf("pull: %v", err)
	}
	d, _ := img.Digest()
	got, err := remote.Head(e.ref("team/app:v1"), remote.WithAuth(basic))
	if err != nil || got.Digest != d {
		t.Fatalf("head: %v %v", got, err)
	}
	if strings.Contains(e.logs.String(), adminPW) {
		t.Error("the admin password appears in the log")
	}
}
