package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/store"
)

// A console session is an API token (auth's, stored hashed in the
// metadata store with its expiry) named sessionTokenName, carried in an
// HttpOnly, SameSite=Strict cookie. Logging out revokes it, so a copied
// cookie stops working too, and sessions survive restarts and work across
// replicas. Logins go through auth.Service.Login, with its rate limits.
const (
	sessionCookie    = "seawall_session"
	loginCookie      = "seawall_login" // the login form's CSRF token
	sessionTokenName = "console session"
	maxFormBytes     = 16 << 10
)

// session is the logged-in user of a request.
type session struct {
	User  string
	Admin bool
	// CSRF is the token every POST form carries. It is derived from the
	// session token (a hash an attacker cannot compute without the
	// HttpOnly cookie), so it needs no storage.
	CSRF      string
	principal *auth.Principal
}

func csrfFor(token string) string {
	sum := sha256.Sum256([]byte("seawall console csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// reqState carries the session from the authenticating wrapper to the
// error renderer.
type reqState struct{ session *session }

type stateKey struct{}

func withState(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, &reqState{}))
}

func sessionFrom(r *http.Request) *session {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st.session
	}
	return nil
}

// authenticate returns the request's session, or nil when it has none
// (no cookie, or an expired, revoked or foreign token). A cookie that no
// longer works is cleared, so that it is checked (and, when unknown,
// counted against the address's login allowance) only once.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	stale := func() (*session, error) {
		c.setCookie(w, r, sessionCookie, "", "/", -1)
		return nil, nil
	}
	if !auth.IsAPIToken(ck.Value) {
		return stale()
	}
	// auth checks an API token as a Bearer credential: hand it one.
	ar := r.Clone(r.Context())
	ar.Header = http.Header{"Authorization": {"Bearer " + ck.Value}}
	p, err := c.auth.Authenticate(ar)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return stale()
	}
	if err != nil {
		return nil, err
	}
	if p.Kind != auth.KindUser || p.APIToken == nil || p.APIToken.Name != sessionTokenName {
		return stale()
	}
	return &session{User: p.Name, Admin: p.User.Admin, CSRF: csrfFor(ck.Value), principal: p}, nil
}

// authed wraps a handler that needs a logged-in user: without a session,
// a GET is sent to the login page (and back afterwards).
func (c *Console) authed(h func(w http.ResponseWriter, r *http.Request, s *session) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := c.authenticate(w, r)
		if err != nil {
			return err
		}
		if s == nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				return &pageError{Status: http.StatusForbidden, Msg: "Your session has ended. Log in again."}
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
			st.session = s
		}
		if c.opts.OnUser != nil {
			c.opts.OnUser(r, s.User)
		}
		return h(w, r, s)
	}
}

func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.opts.SecureCookies }

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

// safeNext is where to go after logging in: a path on this server, or
// the projects page.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/projects"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "/login" {
		return "/projects"
	}
	return next
}

// home sends a visitor to the projects or the login page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) error {
	s, err := c.authenticate(w, r)
	if err != nil {
		return err
	}
	if s == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
	return nil
}

type loginData struct {
	Username string
	Next     string
	CSRF     string
	Error    string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	s, err := c.authenticate(w, r)
	if err != nil {
		return err
	}
	if s != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return c.showLogin(w, r, http.StatusOK, loginData{Next: next})
}

// showLogin renders the login form with a fresh CSRF token (kept in a
// cookie and repeated in the form: a cross-site form post has neither).
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	d.CSRF = base64.RawURLEncoding.EncodeToString(b[:])
	c.setCookie(w, r, loginCookie, d.CSRF, "/login", 3600)
	c.render(w, r, status, "login", view{Title: "Log in", Data: d})
	return nil
}

// crossOrigin refuses cross-site POSTs by their Sec-Fetch-Site and Origin
// headers, before the CSRF token is even looked at.
var crossOrigin = http.NewCrossOriginProtection()

func (c *Console) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return &pageError{Status: http.StatusForbidden, Msg: "The login form was sent from another site; open the login page on this server and log in there.", Err: err}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &pageError{Status: http.StatusBadRequest, Msg: "The login form could not be read; reload the login page and try again.", Err: err}
	}
	d := loginData{Username: r.PostForm.Get("username"), Next: safeNext(r.PostForm.Get("next"))}
	ck, _ := r.Cookie(loginCookie)
	if ck == nil || !equalSecret(ck.Value, r.PostForm.Get("csrf")) {
		d.Error = "The login form had expired. Enter your user name and password again."
		return c.showLogin(w, r, http.StatusForbidden, d)
	}
	password := r.PostForm.Get("password")
	if d.Username == "" || password == "" {
		d.Error = "Enter your user name and your password."
		return c.showLogin(w, r, http.StatusBadRequest, d)
	}
	p, err := c.auth.Login(r.Context(), d.Username, password, auth.ClientIP(r))
	var rl *auth.RateLimitedError
	switch {
	case errors.As(err, &rl):
		d.Error = "Too many failed logins: " + strings.TrimPrefix(rl.Error(), "too many failed logins: ") + "."
		w.Header().Set("Retry-After", retryAfter(rl))
		return c.showLogin(w, r, http.StatusTooManyRequests, d)
	case errors.Is(err, auth.ErrUnauthenticated):
		d.Error = "Wrong user name or password, or the account is disabled."
		return c.showLogin(w, r, http.StatusUnauthorized, d)
	case err != nil:
		return err
	}
	if p.Kind != auth.KindUser {
		d.Error = "Robot accounts cannot log in to the console; log in as a user."
		return c.showLogin(w, r, http.StatusForbidden, d)
	}
	tok, _, err := c.auth.IssueAPIToken(r.Context(), p.User, sessionTokenName, c.opts.SessionTTL)
	if err != nil {
		return err
	}
	c.log.Info("console login", "user", p.Name, "ip", auth.ClientIP(r))
	if c.opts.OnLogin != nil {
		c.opts.OnLogin(r.Context(), p.Name, auth.ClientIP(r))
	}
	if c.opts.OnUser != nil {
		c.opts.OnUser(r, p.Name)
	}
	c.setCookie(w, r, sessionCookie, tok, "/", int(c.opts.SessionTTL.Seconds()))
	c.setCookie(w, r, loginCookie, "", "/login", -1)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

func retryAfter(rl *auth.RateLimitedError) string {
	return strconv.Itoa(max(int(rl.RetryAfter.Seconds()+0.999), 1))
}

// logout revokes the session's token and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := crossOrigin.Check(r); err != nil {
		return &pageError{Status: http.StatusForbidden, Msg: "The logout form was sent from another site.", Err: err}
	}
	if err := c.checkCSRF(w, r, s); err != nil {
		return err
	}
	if err := c.st.RevokeToken(r.Context(), s.principal.APIToken.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.log.Info("console logout", "user", s.User)
	c.setCookie(w, r, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// checkCSRF checks a POST form's token against the session's.
func (c *Console) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &pageError{Status: http.StatusBadRequest, Msg: "The form could not be read; reload the page and try again.", Err: err}
	}
	if !equalSecret(s.CSRF, r.PostForm.Get("csrf")) {
		return &pageError{Status: http.StatusForbidden, Msg: "The form's security token is missing or wrong (was it sent from another page?). Reload the page and try again."}
	}
	return nil
}
