// Package console is Seawall's web console: HTML pages rendered on the
// server from embedded templates, behind a cookie session with CSRF
// protection, that show the projects, repositories and artifacts a user
// may see, with each artifact's findings, SBOM and signature status.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/signature"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Store is what the console reads: projects and memberships, repositories,
// manifests and tags; and RevokeToken, to end a session.
type Store interface {
	ProjectByName(ctx context.Context, name string) (*store.Project, error)
	ListProjects(ctx context.Context) ([]store.Project, error)
	MemberRole(ctx context.Context, projectID, userID int64) (store.Role, error)
	RepositoryByName(ctx context.Context, name string) (*store.Repository, error)
	ListRepositories(ctx context.Context, project, last string, n int) ([]string, error)
	Manifest(ctx context.Context, repo, digest string) (*store.Manifest, error)
	ResolveTag(ctx context.Context, repo, tag string) (string, error)
	ListTags(ctx context.Context, repo, last string, n int) ([]string, error)
	RevokeToken(ctx context.Context, id int64) error
}

// ScanReader reads stored scan results and the scan queue (a
// store.ScanStore).
type ScanReader interface {
	ScanResult(ctx context.Context, repo, digest string) (*store.ScanResult, error)
	ScanJobs(ctx context.Context, repo, digest string) ([]store.ScanJob, error)
}

// VerdictSource evaluates an artifact against its project's policy now,
// as a pull of it would be judged ((*server.Server).Verdict).
type VerdictSource interface {
	Verdict(ctx context.Context, repo, digest string) (verdict.Verdict, error)
}

// SignatureChecker checks an artifact's cosign signatures against trusted
// keys (a *signature.Checker).
type SignatureChecker interface {
	Check(ctx context.Context, repo, digest string, trustedKeys [][]byte) (signature.Status, error)
}

// Options configure a Console.
type Options struct {
	Store Store
	Auth  *auth.Service
	// Scans reads scan results; nil when the server does not scan, and
	// every artifact then shows "not scanned".
	Scans ScanReader
	// Verdicts gives each image's current verdict; nil: the verdict
	// stored with its scan, marked as such.
	Verdicts VerdictSource
	// Signatures checks signatures; nil: they are shown as "not checked".
	Signatures SignatureChecker
	// SessionTTL is how long a login lasts; default 12 hours.
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure even on plain-HTTP requests:
	// set it when a TLS-terminating proxy is in front (the external URL
	// is https). Requests that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// OnUser is told who made a request, for the access log.
	OnUser func(r *http.Request, name string)
	// OnLogin is told of each successful console login (the audit log);
	// failures reach auth.Options.OnLoginFailed.
	OnLogin func(ctx context.Context, name, ip string)
	Version string
	Logger  *slog.Logger
	Now     func() time.Time
}

// Console serves the web console. It is an http.Handler.
type Console struct {
	opts  Options
	st    Store
	auth  *auth.Service
	log   *slog.Logger
	now   func() time.Time
	pages map[string]*template.Template
	mux   *http.ServeMux
	files fs.FS
}

// Routes are the patterns the console answers; the server routes each to
// the Console.
var Routes = []string{
	"GET /{$}",
	"GET /login",
	"POST /login",
	"POST /logout",
	"GET /projects",
	"GET /projects/{project}",
	"GET /projects/{project}/repos/{path...}",
	"GET /static/{file}",
}

// New returns a Console.
func New(o Options) (*Console, error) {
	if o.Store == nil || o.Auth == nil {
		return nil, errors.New("console: Store and Auth are required")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Console{opts: o, st: o.Store, auth: o.Auth, log: o.Logger, now: o.Now, pages: map[string]*template.Template{}}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	c.files = static
	for _, page := range []string{"login", "projects", "project", "repository", "artifact", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", page, err)
		}
		c.pages[page] = t
	}
	handlers := map[string]handlerFunc{
		"GET /{$}":                c.home,
		"GET /login":              c.loginPage,
		"POST /login":             c.loginSubmit,
		"POST /logout":            c.authed(c.logout),
		"GET /projects":           c.authed(c.projects),
		"GET /projects/{project}": c.authed(c.project),
		"GET /projects/{project}/repos/{path...}": c.authed(c.repoPath),
		"GET /static/{file}":                      c.static,
	}
	c.mux = http.NewServeMux()
	for _, p := range Routes {
		h, ok := handlers[p]
		if !ok {
			return nil, fmt.Errorf("console: no handler for route %q", p)
		}
		c.mux.Handle(p, c.handle(h))
	}
	return c, nil
}

// ServeHTTP serves one console request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages load only their own stylesheet, script and icon; nothing
	// inline, nothing from elsewhere, never framed.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.mux.ServeHTTP(w, r)
}

// handlerFunc is a console handler: it writes the page itself or returns
// an error that becomes an error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// pageError is an error with the page it becomes: the user sees Msg, the
// log records Err.
type pageError struct {
	Status int
	Msg    string
	Err    error
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *pageError) Unwrap() error { return e.Err }

func notFound(format string, args ...any) *pageError {
	return &pageError{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, args...)}
}

func (c *Console) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withState(r)
		if err := h(w, r); err != nil {
			c.renderError(w, r, err)
		}
	})
}

// renderError is the one place errors become pages.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		pe *pageError
		rl *auth.RateLimitedError
	)
	switch {
	case errors.As(err, &pe):
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", retryAfter(rl))
		pe = &pageError{Status: http.StatusTooManyRequests, Msg: rl.Error()}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return
	default:
		pe = &pageError{Status: http.StatusInternalServerError, Msg: "Something went wrong on the server. The error is in the server's log.", Err: err}
	}
	level := slog.LevelDebug
	if pe.Status >= 500 {
		level = slog.LevelError
	}
	c.log.Log(r.Context(), level, "console request failed", "method", r.Method, "path", r.URL.Path, "status", pe.Status, "msg", pe.Msg, "err", pe.Err)
	v := view{Title: http.StatusText(pe.Status), Data: pe}
	if s := sessionFrom(r); s != nil {
		v.Session = s
	}
	c.render(w, r, pe.Status, "error", v)
}

// view is what every page template gets.
type view struct {
	Title   string
	Session *session // nil on the login page and for logged-out errors
	Crumbs  []crumb
	Data    any
}

type crumb struct {
	Name string
	Href string // "" for the current page
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		c.log.Error("console template", "page", page, "err", err)
		http.Error(w, "internal server error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// static serves the embedded stylesheet, script and icon.
func (c *Console) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	b, err := fs.ReadFile(c.files, name)
	if err != nil {
		return notFound("no such file: /static/%s", name)
	}
	ct := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[path.Ext(name)]
	if ct == "" {
		return notFound("no such file: /static/%s", name)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}
