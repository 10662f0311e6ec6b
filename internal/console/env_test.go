package console_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/server"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

const (
	adminPW = "admin-password-1"
	userPW  = "user-password-1"
)

// env is a real seawall server (SQLite and blob storage in a temp dir)
// behind httptest, with projects, users and pushed images.
type env struct {
	t    testing.TB
	srv  *server.Server
	ts   *httptest.Server
	host string
}

func newEnv(t testing.TB, mutate ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = adminPW
	cfg.Console = io.Discard
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &env{t: t, srv: srv, ts: ts, host: strings.TrimPrefix(ts.URL, "http://")}
}

// user creates a user with userPW and the given project roles.
func (e *env) user(name string, roles map[string]store.Role) {
	e.t.Helper()
	ctx := context.Background()
	st := e.srv.Store()
	hash, err := e.srv.Auth().Hasher().Hash(ctx, userPW)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &store.User{Name: name, PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	for project, role := range roles {
		p, err := st.ProjectByName(ctx, project)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := st.SetMember(ctx, p.ID, u.ID, role); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) project(name string, public bool) {
	e.t.Helper()
	if err := e.srv.Store().CreateProject(context.Background(), &store.Project{Name: name, Public: public}); err != nil {
		e.t.Fatal(err)
	}
}

// push writes img to repo:tag as the admin, with go-containerregistry's
// real registry client, and returns its digest.
func (e *env) push(repo, tag string, img v1.Image) string {
	e.t.Helper()
	ref, err := name.ParseReference(e.host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	if img == nil {
		if img, err = random.Image(512, 2); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "admin", Password: adminPW})); err != nil {
		e.t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		e.t.Fatal(err)
	}
	return d.String()
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed, so tests see each 303.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(c *http.Client, path string) page {
	e.t.Helper()
	resp, err := c.Get(e.ts.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

// post sends a form as a same-origin browser would.
func (e *env) post(c *http.Client, path string, form url.Values, hdr map[string]string) page {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formCSRF is the CSRF token of the first form on a page.
func formCSRF(t testing.TB, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// login logs c in as user through the login form.
func (e *env) login(c *http.Client, user, password string) {
	e.t.Helper()
	p := e.get(c, "/login")
	if p.status != http.StatusOK {
		e.t.Fatalf("GET /login: %d", p.status)
	}
	res := e.post(c, "/login", url.Values{"username": {user}, "password": {password}, "csrf": {formCSRF(e.t, p.body)}, "next": {"/projects"}}, nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/projects" {
		e.t.Fatalf("login as %s: %d %s\n%s", user, res.status, res.header.Get("Location"), res.body)
	}
}

// withVulnDB gives the server a vulnerability database holding the OSV
// records in testdata (see testdata/README.md).
func withVulnDB(t testing.TB) func(*server.Config) {
	t.Helper()
	dir := t.TempDir()
	in := []vulndb.Input{{Location: filepath.Join("testdata", "GHSA-xvch-5gv4-984h.json"), Name: "testdata"}}
	if _, err := vulndb.Import(context.Background(), vulndb.Path(dir), in, vulndb.ImportOptions{}); err != nil {
		t.Fatalf("import testdata into the vulnerability database: %v", err)
	}
	return func(c *server.Config) { c.Scan.DB = dir }
}

// setPolicy sets a project's policy as `seawall project set` would.
func (e *env) setPolicy(project string, p verdict.Policy) {
	e.t.Helper()
	ctx := context.Background()
	proj, err := e.srv.Store().ProjectByName(ctx, project)
	if err != nil {
		e.t.Fatal(err)
	}
	if proj.Settings, err = verdict.WithPolicy(proj.Settings, p); err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.Store().UpdateProject(ctx, proj); err != nil {
		e.t.Fatal(err)
	}
}

// vulnerableImage is the smallest image with a finding from testdata:
// one layer with minimist 1.2.5 (GHSA-xvch-5gv4-984h, fixed in 1.2.6).
func vulnerableImage(t testing.TB) v1.Image {
	t.Helper()
	tarBytes := imagetest.Tar(imagetest.File("usr/lib/node_modules/minimist/package.json",
		`{"name": "minimist", "version": "1.2.5", "license": "MIT"}`))
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarBytes)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// waitScan waits for the server to store the scan of repo@digest.
func (e *env) waitScan(repo, digest string) *store.ScanResult {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := e.srv.Store().ScanResult(context.Background(), repo, digest)
		if err == nil {
			if res.Error != "" {
				e.t.Fatalf("scan of %s@%s failed: %s", repo, digest, res.Error)
			}
			return res
		}
		if !errors.Is(err, store.ErrNotFound) {
			e.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s@%s was not scanned within 2 minutes", repo, digest)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
