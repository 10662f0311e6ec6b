// Package server is `seawall serve`: it wires the metadata store, blob
// storage, the OCI registry and authentication into one HTTP server with
// the /api/v1 JSON API, the Docker token service, metrics and health
// checks, and runs it with TLS and graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/auth"
	blobstore "github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/blob/fs"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/postgres"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// Server is Seawall's HTTP server. It is an http.Handler, so tests can run
// it under httptest.NewServer; Run serves it on the configured address.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	blobDir string
	reg     *registry.Registry
	auth    *auth.Service
	metrics *Metrics
	console http.Handler // the web console (package console)
	handler http.Handler
	now     func() time.Time

	// Scanning and pull policy (scan.go).
	blobs blobstore.Store
	scan  *scanner
	// signatures verifies cosign signatures for the pull policy; while it
	// is nil a required signature refuses every pull (fail closed).
	signatures verdict.SignatureChecker
	// events receives pushes, pulls, scans and verdict changes (the audit
	// log and webhooks); nil drops them.
	events events.Sink
	// trust is the audit log, webhooks and signature checks (trust.go).
	trust *trust
	// bg runs background work (the scan workers) until Close.
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
}

// New opens the store and blob storage under cfg.DataDir (creating them on
// first start, with the signing key and the first admin) and returns the
// server, ready to serve.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Console == nil {
		cfg.Console = os.Stderr
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: log, blobDir: cfg.DataDir, now: cfg.Now}
	st, err := openStore(ctx, &cfg, log.With("component", "store"))
	if err != nil {
		return nil, err
	}
	s.store = st
	if err := s.init(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Database.Driver {
	case "postgres":
		st, err := postgres.Open(ctx, cfg.Database.DSN, log)
		if err != nil {
			return nil, fmt.Errorf("postgres store: %w", err)
		}
		return st, nil
	default:
		st, err := sqlite.Open(ctx, cfg.dbPath(), log)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: %w", err)
		}
		return st, nil
	}
}

func (s *Server) init(ctx context.Context) error {
	cfg := &s.cfg
	blobs, err := fs.New(cfg.DataDir)
	if err != nil {
		return err
	}
	s.blobs = blobs
	if err := s.initTrust(); err != nil {
		return err
	}
	if err := s.initScanner(); err != nil {
		return err
	}
	key, err := auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, "keys", "token-signing.pem"), s.log)
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(key, cfg.Auth.Issuer, cfg.Now)
	if err != nil {
		return err
	}
	s.auth, err = auth.New(auth.Options{
		Store:                  s.store,
		Signer:                 signer,
		Hasher:                 auth.NewHasher(auth.DefaultArgon2, 2*runtime.GOMAXPROCS(0)),
		ExternalURL:            cfg.ExternalURL,
		ServiceName:            cfg.Auth.Service,
		TokenTTL:               cfg.Auth.TokenTTL,
		LoginFailuresPerMinute: cfg.Auth.LoginFailuresPerMinute,
		LoginFailureBurst:      cfg.Auth.LoginFailureBurst,
		OnLoginFailed:          s.onLoginFailed,
		Now:                    cfg.Now,
		Logger:                 s.log.With("component", "auth"),
	})
	if err != nil {
		return err
	}
	s.reg, err = registry.New(registry.Config{
		Store:           s.store,
		Blobs:           blobs,
		Uploads:         blobs,
		Auth:            registryAuth{s.auth},
		Logger:          s.log,
		MaxManifestSize: cfg.Registry.MaxManifestSize,
		UploadTTL:       cfg.Registry.UploadTTL,
		Now:             cfg.Now,
		Hooks:           s.registryHooks(),
	})
	if err != nil {
		return err
	}
	s.metrics = newMetrics(s.reg.Stats)
	s.metrics.reg.MustRegister(s.scan.queue.Collectors()...)
	if err := s.bootstrapAdmin(ctx); err != nil {
		return err
	}
	if s.console, err = s.newConsole(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	var v2 http.Handler
	for _, rt := range s.routes() {
		pattern := rt.pattern
		h := rt.handler
		routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info(r).route = pattern
			h.ServeHTTP(w, r)
		})
		mux.Handle(pattern, routed)
		if pattern == "/v2/" {
			v2 = routed
		}
	}
	mux.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errf(http.StatusNotFound, codeNotFound, "no such endpoint: %s %s (the API is under /api/v1/, the registry under /v2/)", r.Method, r.URL.Path)
	}))
	// Registry paths reach the registry as sent: ServeMux would redirect
	// a path holding "..", "." or "//" to its cleaned form (and a client
	// following that would push to a repository it did not name), where
	// the spec wants NAME_INVALID, which the registry answers itself.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v2 != nil && strings.HasPrefix(r.URL.Path, "/v2/") {
			v2.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	s.handler = chain(root, s.middleware())
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.bgCancel = cancel
	s.bgDone.Go(func() { s.scan.queue.Run(bg) })
	s.bgDone.Go(func() { s.trust.webhooks.Run(bg) })
	return nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops the background work (scan jobs in hand go back to the
// queue) and releases the store. Call it after Run returns.
func (s *Server) Close() error {
	if s.bgCancel != nil {
		s.bgCancel()
		s.bgDone.Wait()
	}
	if s.scan != nil {
		s.scan.db.Close()
	}
	return s.store.Close()
}

// Auth is the server's authentication service.
func (s *Server) Auth() *auth.Service { return s.auth }

// Store is the server's metadata store.
func (s *Server) Store() store.Store { return s.store }

// bootstrapAdmin creates the user "admin" when the store has no users:
// with SEAWALL_ADMIN_PASSWORD, or a generated password printed once to
// the console (never to the log).
func (s *Server) bootstrapAdmin(ctx context.Context) error {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	pw, generated := s.cfg.AdminPassword, false
	if pw == "" {
		if pw, err = auth.NewPassword(); err != nil {
			return err
		}
		generated = true
	}
	hash, err := s.auth.Hasher().Hash(ctx, pw)
	if err != nil {
		return err
	}
	err = s.store.CreateUser(ctx, &store.User{Name: "admin", PasswordHash: hash, Admin: true})
	if errors.Is(err, store.ErrExists) {
		return nil // another replica was first
	}
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	s.log.Info("created the first user, admin (a system admin)", "password_from", map[bool]string{true: "generated", false: "SEAWALL_ADMIN_PASSWORD"}[generated])
	if generated {
		bar := strings.Repeat("=", 72)
		fmt.Fprintf(s.cfg.Console, "\n%s\n  Seawall created the first user \"admin\" with this generated password:\n\n      %s\n\n"+
			"  It is shown only this once. Log in with:\n      seawall login %s --username admin\n"+
			"  (Set SEAWALL_ADMIN_PASSWORD before the first start to choose it instead.)\n%s\n\n",
			bar, pw, s.publicURL(), bar)
	}
	return nil
}

// publicURL is the external URL, or the listen address as a URL.
func (s *Server) publicURL() string {
	if s.cfg.ExternalURL != "" {
		return s.cfg.ExternalURL
	}
	scheme := "http"
	if s.cfg.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + s.cfg.Addr
}

// Run listens on the configured address and serves until ctx is done,
// then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using the port? choose one with --addr)", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done. Then it stops accepting
// connections, lets in-flight requests finish for up to
// http.shutdown_timeout, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HTTP.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    s.cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	tlsOn := s.cfg.TLS.Cert != ""
	if tlsOn {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLS.Cert, s.cfg.TLS.Key)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS certificate: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
	} else if !isLoopback(ln.Addr().String()) {
		s.log.Warn("!!! SERVING PLAIN HTTP ON A NON-LOOPBACK ADDRESS: passwords, tokens and images cross the network unencrypted. "+
			"Use --tls-cert and --tls-key, or put a TLS-terminating proxy in front and listen on 127.0.0.1.",
			"addr", ln.Addr().String())
	}
	s.log.Info("seawall serving", "addr", ln.Addr().String(), "tls", tlsOn, "data", s.cfg.DataDir, "url", s.publicURL())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: waiting for in-flight requests", "timeout", s.cfg.HTTP.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		s.log.Warn("serve", "err", serr)
	}
	if err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", s.cfg.HTTP.ShutdownTimeout, err)
	}
	s.log.Info("stopped")
	return nil
}

// registryAuth adapts auth.Service to the registry's Authorizer and error
// types, and records the caller for the access log.
type registryAuth struct{ svc *auth.Service }

func (a registryAuth) Authorize(r *http.Request, repo string, actions ...string) error {
	p, err := a.svc.Decide(r, repo, actions...)
	if p != nil && p.Name != "" {
		info(r).user = p.Name
	}
	var (
		ch *auth.Challenge
		rl *auth.RateLimitedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ch):
		msg := "authentication required"
		switch ch.Reason {
		case "invalid_token":
			msg = "authentication failed: wrong user name, password, secret or token, or the account is disabled, expired or revoked"
		case "insufficient_scope":
			msg = "the token does not grant this scope; request a new one"
		}
		return &registry.Challenge{HeaderValue: ch.Header(), Message: msg}
	case errors.Is(err, auth.ErrDenied):
		return registry.ErrDenied
	case errors.As(err, &rl):
		e := &registry.Error{Status: http.StatusTooManyRequests, Code: registry.CodeTooManyRequests, Message: rl.Error(), Header: http.Header{}}
		e.Header.Set("Retry-After", fmt.Sprint(int(rl.RetryAfter.Seconds()+0.999)))
		return e
	default:
		return err
	}
}

// writable checks that dir accepts a new file.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".readyz-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := io.WriteString(f, "ok")
	cerr := f.Close()
	os.Remove(name)
	return errors.Join(werr, cerr)
}

var _ registry.Authorizer = registryAuth{}
