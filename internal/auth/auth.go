// Package auth authenticates and authorizes Seawall's users and robots:
// argon2id passwords, API tokens, robot secrets, the Docker registry token
// service (short-lived ES256 JWTs), Basic and Bearer parsing, the role →
// permission matrix and login rate limiting.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Store is what auth reads and writes: users, projects, memberships,
// robots and API tokens.
type Store interface {
	UserByName(ctx context.Context, name string) (*store.User, error)
	UserByID(ctx context.Context, id int64) (*store.User, error)
	ProjectByName(ctx context.Context, name string) (*store.Project, error)
	MemberRole(ctx context.Context, projectID, userID int64) (store.Role, error)
	RobotByName(ctx context.Context, name string) (*store.Robot, error)
	CreateToken(ctx context.Context, t *store.Token) error
	TokenByHash(ctx context.Context, hash string) (*store.Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// Options configure a Service.
type Options struct {
	Store  Store
	Signer *Signer
	Hasher *Hasher
	// ExternalURL is how clients reach the server, e.g.
	// "https://registry.example.com". Empty: taken from each request's
	// Host and TLS state.
	ExternalURL string
	// ServiceName is the token service's name (the JWT audience). Empty:
	// the host (and port) of the external URL.
	ServiceName string
	TokenTTL    time.Duration // registry tokens; default 5 minutes
	// Failed logins allowed per minute and in a burst, per user name; a
	// client address gets three times as many.
	LoginFailuresPerMinute float64
	LoginFailureBurst      int
	// OnLoginFailed, when set, is told of every failed authentication
	// (wrong or unusable credentials; not refusals by the rate limit), for
	// the audit log. It must return quickly.
	OnLoginFailed func(ctx context.Context, name, ip string)
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service authenticates requests and decides what they may do.
type Service struct {
	store    Store
	signer   *Signer
	hasher   *Hasher
	external *url.URL
	service  string
	ttl      time.Duration
	now      func() time.Time
	log      *slog.Logger
	users    *failureLimiter
	ips      *failureLimiter
	verified *verifyCache
	flights  verifyFlights // verifications in progress, shared by identical requests
	dummy    string        // a hash to verify against when the user does not exist
	// onLoginFailed is Options.OnLoginFailed.
	onLoginFailed func(ctx context.Context, name, ip string)
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Signer == nil || o.Hasher == nil {
		return nil, errors.New("auth: Store, Signer and Hasher are required")
	}
	s := &Service{store: o.Store, signer: o.Signer, hasher: o.Hasher, service: o.ServiceName, ttl: o.TokenTTL, now: o.Now, log: o.Logger, onLoginFailed: o.OnLoginFailed}
	if o.ExternalURL != "" {
		u, err := url.Parse(o.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: external URL %q: want http(s)://host[:port]", o.ExternalURL)
		}
		s.external = u
	}
	if s.ttl <= 0 {
		s.ttl = 5 * time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	perMin, burst := o.LoginFailuresPerMinute, o.LoginFailureBurst
	s.users = newFailureLimiter(perMin, burst, 100_000)
	s.ips = newFailureLimiter(3*perMin, 3*burst, 100_000)
	s.verified = newVerifyCache(5*time.Minute, 10_000)
	d, err := o.Hasher.Hash(context.Background(), "no such user")
	if err != nil {
		return nil, err
	}
	s.dummy = d
	return s, nil
}

// Kind of principal.
type Kind int

const (
	Anonymous Kind = iota
	KindUser
	KindRobot
)

// Principal is who made a request.
type Principal struct {
	Kind  Kind
	Name  string       // user name or robot full name; "" when anonymous
	User  *store.User  // KindUser
	Robot *store.Robot // KindRobot
	// Claims are the registry token's claims when the request carried one;
	// its access list bounds what the request may do.
	Claims *Claims
	// Via says how it authenticated: "", "password", "token", "secret", "jwt".
	Via string
	// APIToken is the token's record when it authenticated with an API token.
	APIToken *store.Token
}

// SystemAdmin reports whether p may do everything.
func (p *Principal) SystemAdmin() bool {
	return p.Kind == KindUser && p.User != nil && p.User.Admin
}

// realm returns the token realm and service name for r.
func (s *Service) realm(r *http.Request) (realm, service string) {
	var base, host string
	if s.external != nil {
		base = strings.TrimSuffix(s.external.String(), "/")
		host = s.external.Host
	} else {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = r.Host
		base = scheme + "://" + host
	}
	service = s.service
	if service == "" {
		service = host
	}
	return base + "/service/token", service
}

// ClientIP is the address a request came from (the TCP peer; proxies'
// headers are not trusted).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxCredentialLen bounds user names and secrets read from a request.
const maxCredentialLen = 1024

// Authenticate identifies the principal behind r: anonymous when there is
// no Authorization header, else a user or robot by Basic credentials
// (password, robot secret or API token) or Bearer (a registry JWT or an
// API token). Wrong credentials give ErrUnauthenticated, too many failures
// a *RateLimitedError.
func (s *Service) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &Principal{}, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "basic":
		user, secret, ok := parseBasic(cred)
		if !ok {
			return nil, fmt.Errorf("%w: malformed Basic credentials", ErrUnauthenticated)
		}
		return s.Login(r.Context(), user, secret, ClientIP(r))
	case "bearer":
		if cred == "" {
			return nil, fmt.Errorf("%w: empty bearer token", ErrUnauthenticated)
		}
		if IsAPIToken(cred) {
			ip := ClientIP(r)
			if blocked, wait := s.ips.blocked(ip, s.now()); blocked {
				return nil, &RateLimitedError{RetryAfter: max(wait, time.Second)}
			}
			return s.loginToken(r.Context(), "", cred, ip)
		}
		_, service := s.realm(r)
		c, err := s.signer.Verify(cred, service)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
		}
		p, err := s.principalByName(r.Context(), c.Subject)
		if err != nil {
			return nil, err
		}
		p.Claims, p.Via = c, "jwt"
		return p, nil
	default:
		return nil, fmt.Errorf("%w: unsupported Authorization scheme", ErrUnauthenticated)
	}
}

func parseBasic(cred string) (user, secret string, ok bool) {
	if len(cred) > 4*maxCredentialLen {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	user, secret, ok = strings.Cut(string(b), ":")
	if !ok || user == "" || len(user) > maxCredentialLen || len(secret) > maxCredentialLen {
		return "", "", false
	}
	return user, secret, true
}

// principalByName loads the current state of a token's subject, so that a
// disabled user or a revoked or expired robot is refused even while a
// token issued to it has not expired.
func (s *Service) principalByName(ctx context.Context, name string) (*Principal, error) {
	if name == "" {
		return &Principal{}, nil
	}
	if IsRobotName(name) {
		rb, err := s.store.RobotByName(ctx, name)
		if err != nil {
			return nil, s.lookupErr(err)
		}
		if !s.robotUsable(rb) {
			return nil, fmt.Errorf("%w: robot expired or revoked", ErrUnauthenticated)
		}
		return &Principal{Kind: KindRobot, Name: name, Robot: rb}, nil
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return nil, s.lookupErr(err)
	}
	if u.Disabled {
		return nil, fmt.Errorf("%w: user disabled", ErrUnauthenticated)
	}
	return &Principal{Kind: KindUser, Name: name, User: u}, nil
}

func (s *Service) lookupErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthenticated
	}
	return err
}

func (s *Service) robotUsable(rb *store.Robot) bool {
	return !rb.Revoked && (rb.ExpiresAt.IsZero() || s.now().Before(rb.ExpiresAt))
}

// Login checks a user name and a secret (password, API token or robot
// secret) from ip. Failures count against both the name and the address;
// once either has used up its allowance, Login refuses without checking.
func (s *Service) Login(ctx context.Context, name, secret, ip string) (*Principal, error) {
	now := s.now()
	for _, chk := range []struct {
		l   *failureLimiter
		key string
	}{{s.users, name}, {s.ips, ip}} {
		if blocked, wait := chk.l.blocked(chk.key, now); blocked {
			s.log.Warn("login refused: too many failures", "user", name, "ip", ip)
			return nil, &RateLimitedError{RetryAfter: max(wait, time.Second)}
		}
	}
	p, err := s.login(ctx, name, secret, ip)
	if errors.Is(err, ErrUnauthenticated) {
		s.users.fail(name, now)
		s.ips.fail(ip, now)
		s.log.Info("login failed", "user", name, "ip", ip)
		if s.onLoginFailed != nil {
			s.onLoginFailed(ctx, name, ip)
		}
	}
	return p, err
}

func (s *Service) login(ctx context.Context, name, secret, ip string) (*Principal, error) {
	if IsAPIToken(secret) {
		return s.loginToken(ctx, name, secret, ip)
	}
	if IsRobotName(name) {
		rb, err := s.store.RobotByName(ctx, name)
		if err := s.checkSecret(ctx, err, func() string { return rb.SecretHash }, secret); err != nil {
			return nil, err
		}
		if !s.robotUsable(rb) {
			return nil, ErrUnauthenticated
		}
		return &Principal{Kind: KindRobot, Name: name, Robot: rb, Via: "secret"}, nil
	}
	u, err := s.store.UserByName(ctx, name)
	if err := s.checkSecret(ctx, err, func() string { return u.PasswordHash }, secret); err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrUnauthenticated
	}
	return &Principal{Kind: KindUser, Name: u.Name, User: u, Via: "password"}, nil
}

// checkSecret checks secret against the hash of an account the store was
// asked for, lookupErr being what the store answered. An account that does
// not exist costs a hash against a dummy all the same, so that timing does
// not tell which names exist, and is ErrUnauthenticated like a wrong
// secret.
func (s *Service) checkSecret(ctx context.Context, lookupErr error, hash func() string, secret string) error {
	if errors.Is(lookupErr, store.ErrNotFound) {
		_, _ = s.verify(ctx, s.dummy, secret)
		return ErrUnauthenticated
	}
	if lookupErr != nil {
		return lookupErr
	}
	ok, err := s.verify(ctx, hash(), secret)
	if err != nil && !errors.Is(err, ErrBadHash) {
		return err
	}
	if !ok {
		return ErrUnauthenticated
	}
	return nil
}

// loginToken checks an API token; name, when given, must be its user.
func (s *Service) loginToken(ctx context.Context, name, token, ip string) (*Principal, error) {
	hash := HashToken(token)
	t, err := s.store.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		if name == "" { // a Bearer API token: count failures by address only
			s.ips.fail(ip, s.now())
			if s.onLoginFailed != nil {
				s.onLoginFailed(ctx, "", ip)
			}
		}
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !equalHash(t.Hash, hash) || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) {
		return nil, ErrUnauthenticated
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, s.lookupErr(err)
	}
	if u.Disabled || (name != "" && name != u.Name) {
		return nil, ErrUnauthenticated
	}
	if now.Sub(t.LastUsed) > time.Minute {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			s.log.Warn("recording token use", "err", err)
		}
	}
	return &Principal{Kind: KindUser, Name: u.Name, User: u, Via: "token", APIToken: t}, nil
}

// verify checks secret against the argon2id hash stored, remembering
// recent successes so that clients sending Basic credentials on every
// registry request do not pay for a hash each time. A changed password
// changes the stored hash and so misses the cache.
func (s *Service) verify(ctx context.Context, stored, secret string) (bool, error) {
	key := sha256.Sum256([]byte(stored + "\x00" + secret))
	if s.verified.hit(key, s.now()) {
		return true, nil
	}
	// A client that starts many requests at once (parallel layer uploads
	// with a cold token) sends the same credentials many times: one
	// argon2id verification answers all of them.
	c, leader := s.flights.join(key)
	if !leader {
		select {
		case <-c.done:
			if c.err == nil || !isContextErr(c.err) {
				return c.ok, c.err
			}
			// The first request went away: verify for this one.
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	ok, err := s.hasher.Verify(ctx, stored, secret)
	if ok {
		s.verified.add(key, s.now())
	}
	if leader {
		s.flights.finish(key, c, ok, err)
	}
	return ok, err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// verifyFlights tracks password verifications in progress by their cache
// key, so that identical ones wait for the first instead of repeating it.
type verifyFlights struct {
	mu sync.Mutex
	m  map[[32]byte]*verifyFlight
}

type verifyFlight struct {
	done chan struct{}
	ok   bool
	err  error
}

// join returns the flight for key and whether the caller leads it (and
// must finish it).
func (f *verifyFlights) join(key [32]byte) (*verifyFlight, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.m[key]; ok {
		return c, false
	}
	if f.m == nil {
		f.m = map[[32]byte]*verifyFlight{}
	}
	c := &verifyFlight{done: make(chan struct{})}
	f.m[key] = c
	return c, true
}

func (f *verifyFlights) finish(key [32]byte, c *verifyFlight, ok bool, err error) {
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
	c.ok, c.err = ok, err
	close(c.done)
}

// IssueAPIToken creates an API token for user u, valid for ttl (0: never
// expires), and returns it; only its hash is stored.
func (s *Service) IssueAPIToken(ctx context.Context, u *store.User, name string, ttl time.Duration) (string, *store.Token, error) {
	tok, hash, err := NewAPIToken()
	if err != nil {
		return "", nil, err
	}
	t := &store.Token{UserID: u.ID, Hash: hash, Name: name}
	if ttl > 0 {
		t.ExpiresAt = s.now().Add(ttl)
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("store API token: %w", err)
	}
	return tok, t, nil
}

// Hasher returns the service's password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// ProjectOf returns the project of a repository name: its first path
// segment. A name with no slash has no project.
func ProjectOf(repo string) (string, bool) {
	p, _, ok := strings.Cut(repo, "/")
	return p, ok && p != ""
}

// Allowed returns those of want that p may do in project.
func (s *Service) Allowed(ctx context.Context, p *Principal, project string, want []Action) ([]Action, error) {
	if p.SystemAdmin() {
		return want, nil
	}
	proj, err := s.store.ProjectByName(ctx, project)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", project, err)
	}
	var ok func(Action) bool
	switch p.Kind {
	case KindRobot:
		ok = func(a Action) bool {
			return p.Robot.ProjectID == proj.ID && slices.Contains(p.Robot.Permissions, string(a))
		}
	case KindUser:
		role, err := s.store.MemberRole(ctx, proj.ID, p.User.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("membership in %s: %w", project, err)
		}
		ok = func(a Action) bool { return err == nil && RoleAllows(role, a) }
	default:
		ok = func(Action) bool { return false }
	}
	var out []Action
	for _, a := range want {
		if ok(a) || (proj.Public && (a == ActionPull || a == ActionListRepos)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Can reports whether p may do a in project.
func (s *Service) Can(ctx context.Context, p *Principal, project string, a Action) (bool, error) {
	got, err := s.Allowed(ctx, p, project, []Action{a})
	return len(got) == 1, err
}

// Registry scope actions, the only ones a repository scope grants.
var repoActions = []string{"pull", "push", "delete"}

// Authorize decides whether r may do actions ("pull", "push", "delete") on
// repository repo. It implements the registry's Authorizer:
//   - repo "" and no actions: any authenticated principal (GET /v2/);
//   - repo "" and action "catalog": any authenticated principal;
//   - a repository and action "list": may the principal see it in the
//     catalog (ActionListRepos in its project);
//   - otherwise the actions ("pull", "push", "delete") on the repository.
//
// It returns nil, a *Challenge (401: no or insufficient credentials, or a
// token that does not carry the scope), ErrDenied (403: known but not
// allowed), a *RateLimitedError, or another error (500).
func (s *Service) Authorize(r *http.Request, repo string, actions ...string) error {
	_, err := s.Decide(r, repo, actions...)
	return err
}

// Decide is Authorize that also returns the principal it identified (nil
// when authentication failed), for logs.
func (s *Service) Decide(r *http.Request, repo string, actions ...string) (*Principal, error) {
	realm, service := s.realm(r)
	challenge := func(reason string, cause error, scopes ...Scope) error {
		return &Challenge{Realm: realm, Service: service, Scopes: scopes, Reason: reason, Err: cause}
	}
	p, err := s.Authenticate(r)
	if err != nil {
		var rl *RateLimitedError
		if errors.As(err, &rl) || !errors.Is(err, ErrUnauthenticated) {
			return nil, err
		}
		var sc []Scope
		switch {
		case repo != "":
			sc = []Scope{{Type: TypeRepository, Name: repo, Actions: actions}}
		case slices.Contains(actions, "catalog"):
			sc = []Scope{CatalogScope}
		}
		return nil, challenge("invalid_token", err, sc...)
	}
	if repo == "" {
		catalog := slices.Contains(actions, "catalog")
		var sc []Scope
		if catalog {
			sc = []Scope{CatalogScope}
		}
		if p.Kind == Anonymous {
			return p, challenge("", nil, sc...)
		}
		if catalog && p.Claims != nil && !covers(p.Claims.Access, TypeRegistry, "catalog", []string{"*"}) {
			return p, challenge("insufficient_scope", nil, sc...)
		}
		return p, nil
	}
	if len(actions) == 1 && actions[0] == "list" {
		// The catalog asks this per repository; its own scope was checked
		// with action "catalog".
		project, ok := ProjectOf(repo)
		if !ok && !p.SystemAdmin() {
			return p, ErrDenied
		}
		can, err := s.Can(r.Context(), p, project, ActionListRepos)
		if err != nil {
			return nil, err
		}
		if !can {
			return p, ErrDenied
		}
		return p, nil
	}
	want := make([]Action, 0, len(actions))
	for _, a := range actions {
		if !slices.Contains(repoActions, a) {
			return p, fmt.Errorf("auth: unknown registry action %q", a)
		}
		want = append(want, Action(a))
	}
	scope := Scope{Type: TypeRepository, Name: repo, Actions: actions}
	allowed := 0
	if project, ok := ProjectOf(repo); ok || p.SystemAdmin() {
		got, err := s.Allowed(r.Context(), p, project, want)
		if err != nil {
			return nil, err
		}
		allowed = len(got)
	}
	if allowed < len(want) {
		if p.Kind == Anonymous {
			return p, challenge("", nil, scope)
		}
		return p, ErrDenied
	}
	if p.Claims != nil && !covers(p.Claims.Access, TypeRepository, repo, actions) {
		// Allowed, but the token was issued for other scopes: ask the
		// client to fetch one for this.
		return p, challenge("insufficient_scope", nil, scope)
	}
	return p, nil
}

// TokenResponse is the token endpoint's answer (distribution token spec;
// access_token duplicates token for OAuth2 clients).
type TokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// ErrBadTokenRequest wraps malformed token requests (400).
var ErrBadTokenRequest = errors.New("bad token request")

// IssueToken serves the Docker token flow:
// GET /service/token?service=…&scope=repository:p/r:pull,push[&scope=…]
// with Basic credentials or none, and the OAuth2 password grant
// (POST, form-encoded). The token grants requested ∩ allowed: a scope the
// principal may not have is left out rather than refused, as the spec
// allows, and the registry then answers 403 or 401.
func (s *Service) IssueToken(r *http.Request) (*TokenResponse, error) {
	var (
		p      *Principal
		err    error
		scopes []string
		svc    string
	)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadTokenRequest, err)
		}
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "password":
			p, err = s.Login(r.Context(), r.PostForm.Get("username"), r.PostForm.Get("password"), ClientIP(r))
		default:
			return nil, fmt.Errorf("%w: unsupported grant_type %q (use password, or GET with Basic credentials)", ErrBadTokenRequest, gt)
		}
		scopes = r.PostForm["scope"]
		svc = r.PostForm.Get("service")
	} else {
		p, err = s.Authenticate(r)
		scopes = r.URL.Query()["scope"]
		svc = r.URL.Query().Get("service")
	}
	if err != nil {
		return nil, err
	}
	_, service := s.realm(r)
	if svc != "" && svc != service {
		return nil, fmt.Errorf("%w: unknown service %q (this is %q)", ErrBadTokenRequest, svc, service)
	}
	req, err := ParseScopes(scopes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTokenRequest, err)
	}
	granted, err := s.grant(r.Context(), p, req)
	if err != nil {
		return nil, err
	}
	tok, _, err := s.signer.Issue(p.Name, service, granted, s.ttl)
	if err != nil {
		return nil, err
	}
	s.log.Debug("registry token issued", "sub", p.Name, "via", p.Via, "granted", len(granted), "requested", len(req))
	return &TokenResponse{Token: tok, AccessToken: tok, ExpiresIn: int(s.ttl.Seconds()), IssuedAt: s.now().UTC().Format(time.RFC3339)}, nil
}

func (s *Service) grant(ctx context.Context, p *Principal, req []Scope) ([]Scope, error) {
	var out []Scope
	for _, sc := range req {
		switch sc.Type {
		case TypeRepository:
			var want []Action
			for _, a := range sc.Actions {
				if a == "*" {
					for _, ra := range repoActions {
						want = append(want, Action(ra))
					}
				} else if slices.Contains(repoActions, a) {
					want = append(want, Action(a))
				}
			}
			project, ok := ProjectOf(sc.Name)
			if !ok && !p.SystemAdmin() {
				continue
			}
			got, err := s.Allowed(ctx, p, project, want)
			if err != nil {
				return nil, err
			}
			if len(got) > 0 {
				acts := make([]string, 0, len(got))
				for _, a := range got {
					if !slices.Contains(acts, string(a)) {
						acts = append(acts, string(a))
					}
				}
				out = append(out, Scope{Type: TypeRepository, Name: sc.Name, Actions: acts})
			}
		case TypeRegistry:
			if sc.Name == "catalog" && p.Kind != Anonymous {
				out = append(out, CatalogScope)
			}
		}
	}
	return out, nil
}

// verifyCache remembers recently verified (hash, secret) pairs by their
// SHA-256, never the secret itself.
type verifyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[[32]byte]time.Time
}

func newVerifyCache(ttl time.Duration, max int) *verifyCache {
	return &verifyCache{ttl: ttl, max: max, m: map[[32]byte]time.Time{}}
}

func (c *verifyCache) hit(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[k]
	if ok && now.After(exp) {
		delete(c.m, k)
		return false
	}
	return ok
}

func (c *verifyCache) add(k [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, exp := range c.m {
			if now.After(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = now.Add(c.ttl)
}
