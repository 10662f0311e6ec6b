package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/console"
	"github.com/seawall-dev/seawall/internal/server"
	"github.com/seawall-dev/seawall/internal/store"
)

// authzEnv has three projects and one user per kind of standing:
//   - team (private): dev is a developer, guest a guest, lim a limited guest;
//   - open (public): nobody is a member;
//   - secret (private): nobody is a member;
//
// and outsider, a member of nothing. Each project holds one image.
type authzEnv struct {
	*env
	digests map[string]string // repository → digest of its image
}

func newAuthzEnv(t *testing.T) *authzEnv {
	e := &authzEnv{env: newEnv(t), digests: map[string]string{}}
	e.project("team", false)
	e.project("open", true)
	e.project("secret", false)
	e.user("dev", map[string]store.Role{"team": store.RoleDeveloper})
	e.user("guest", map[string]store.Role{"team": store.RoleGuest})
	e.user("lim", map[string]store.Role{"team": store.RoleLimitedGuest})
	e.user("outsider", nil)
	for _, repo := range []string{"team/app/web", "open/base", "secret/x"} {
		e.digests[repo] = e.push(repo, "v1", nil)
	}
	return e
}

func TestPageAuthorization(t *testing.T) {
	e := newAuthzEnv(t)
	art := func(repo string) string {
		p, rest, _ := strings.Cut(repo, "/")
		return "/projects/" + p + "/repos/" + rest + "/-/artifacts/" + e.digests[repo]
	}
	type want struct {
		status   int
		contains []string
		lacks    []string
	}
	cases := []struct {
		name string
		user string // "" = not logged in
		path string
		want want
	}{
		{"anonymous projects", "", "/projects", want{status: http.StatusSeeOther}},
		{"anonymous project", "", "/projects/open", want{status: http.StatusSeeOther}},
		{"anonymous artifact", "", art("open/base"), want{status: http.StatusSeeOther}},

		{"admin sees all projects", "admin", "/projects", want{200, []string{">team<", ">open<", ">secret<"}, nil}},
		{"dev sees team and public", "dev", "/projects", want{200, []string{">team<", ">open<", "developer"}, []string{">secret<"}}},
		{"outsider sees public only", "outsider", "/projects", want{200, []string{">open<", "public (not a member)"}, []string{">team<", ">secret<"}}},

		{"dev project", "dev", "/projects/team", want{200, []string{`id="repositories"`, ">app/web<"}, nil}},
		{"guest project", "guest", "/projects/team", want{200, []string{">app/web<"}, nil}},
		{"limited guest cannot list", "lim", "/projects/team", want{200, []string{`id="no-list"`}, []string{">app/web<"}}},
		{"outsider private project 404", "outsider", "/projects/team", want{404, []string{"There is no project &#34;team&#34;, or you are not allowed to see it."}, []string{"app/web"}}},
		{"dev other private project 404", "dev", "/projects/secret", want{404, []string{"There is no project &#34;secret&#34;, or you are not allowed to see it."}, []string{"secret/x"}}},
		{"missing project same 404", "dev", "/projects/nope", want{404, []string{"There is no project &#34;nope&#34;, or you are not allowed to see it."}, nil}},
		{"admin private project", "admin", "/projects/secret", want{200, []string{">x<"}, nil}},
		{"outsider public project", "outsider", "/projects/open", want{200, []string{">base<"}, nil}},

		{"dev repository", "dev", "/projects/team/repos/app/web", want{200, []string{`id="artifacts"`, ">v1<", "not scanned"}, nil}},
		{"limited guest repository by name", "lim", "/projects/team/repos/app/web", want{200, []string{">v1<"}, nil}},
		{"outsider private repository 404", "outsider", "/projects/team/repos/app/web", want{404, nil, []string{"v1"}}},
		{"dev missing repository 404", "dev", "/projects/team/repos/nope", want{404, []string{"There is no repository"}, nil}},
		{"outsider public repository", "outsider", "/projects/open/repos/base", want{200, []string{">v1<"}, nil}},

		{"dev artifact", "dev", art("team/app/web"), want{200, []string{e.digests["team/app/web"], "Not scanned.", "allowed", "no rules that can refuse a pull", "unsigned"}, []string{`id="findings"`, `id="sbom"`}}},
		{"guest artifact", "guest", art("team/app/web"), want{200, []string{e.digests["team/app/web"]}, nil}},
		{"outsider private artifact 404", "outsider", art("team/app/web"), want{404, nil, []string{e.digests["team/app/web"]}}},
		{"dev secret artifact 404", "dev", art("secret/x"), want{404, nil, nil}},
		{"outsider public artifact", "outsider", art("open/base"), want{200, []string{e.digests["open/base"]}, nil}},
		{"artifact of another repository 404", "dev", "/projects/team/repos/app/web/-/artifacts/" + e.digests["open/base"], want{404, nil, nil}},
		{"bad digest 404", "dev", "/projects/team/repos/app/web/-/artifacts/sha256:zz", want{404, nil, nil}},

		{"unscanned SBOM 404", "dev", art("team/app/web") + "/sbom.cdx.json", want{404, []string{"has not been scanned"}, nil}},
		{"outsider SBOM 404", "outsider", art("team/app/web") + "/sbom.spdx.json", want{404, nil, nil}},
		{"unknown SBOM format 404", "dev", art("team/app/web") + "/sbom.xml", want{404, nil, nil}},
	}
	clients := map[string]*http.Client{"": e.client()}
	for _, u := range []string{"admin", "dev", "guest", "lim", "outsider"} {
		c := e.client()
		pw := userPW
		if u == "admin" {
			pw = adminPW
		}
		e.login(c, u, pw)
		clients[u] = c
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(clients[tc.user], tc.path)
			if p.status != tc.want.status {
				t.Fatalf("GET %s as %q: status %d, want %d\n%s", tc.path, tc.user, p.status, tc.want.status, p.body)
			}
			if p.status == http.StatusSeeOther {
				loc := p.header.Get("Location")
				if want := "/login?next=" + url.QueryEscape(tc.path); loc != want {
					t.Errorf("Location %q, want %q", loc, want)
				}
			}
			for _, s := range tc.want.contains {
				if !strings.Contains(p.body, s) {
					t.Errorf("GET %s as %q: page lacks %q\n%s", tc.path, tc.user, s, p.body)
				}
			}
			for _, s := range tc.want.lacks {
				if strings.Contains(p.body, s) {
					t.Errorf("GET %s as %q: page shows %q, which it must not", tc.path, tc.user, s)
				}
			}
		})
	}
}

func TestLoginCSRFAndSession(t *testing.T) {
	e := newEnv(t)
	e.user("dev", nil)

	t.Run("no CSRF cookie", func(t *testing.T) {
		c := e.client()
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {"x"}}, nil)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "The login form had expired") {
			t.Fatalf("status %d\n%s", p.status, p.body)
		}
	})
	t.Run("wrong CSRF token", func(t *testing.T) {
		c := e.client()
		e.get(c, "/login")
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {"forged"}}, nil)
		if p.status != http.StatusForbidden {
			t.Fatalf("status %d", p.status)
		}
		if e.get(c, "/projects").status != http.StatusSeeOther {
			t.Error("a login with a forged CSRF token started a session")
		}
	})
	t.Run("cross-site post", func(t *testing.T) {
		c := e.client()
		tok := formCSRF(t, e.get(c, "/login").body)
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {tok}},
			map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if p.status != http.StatusForbidden {
			t.Fatalf("status %d", p.status)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c := e.client()
		tok := formCSRF(t, e.get(c, "/login").body)
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {"wrong-password"}, "csrf": {tok}}, nil)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Wrong user name or password") {
			t.Fatalf("status %d\n%s", p.status, p.body)
		}
	})
	t.Run("session cookie and logout", func(t *testing.T) {
		c := e.client()
		tok := formCSRF(t, e.get(c, "/login?next=/projects/x").body)
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {tok}, "next": {"/projects/x"}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/projects/x" {
			t.Fatalf("login: %d %q", p.status, p.header.Get("Location"))
		}
		var sc *http.Cookie
		for _, ck := range (&http.Response{Header: p.header}).Cookies() {
			if ck.Name == "seawall_session" {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.MaxAge <= 0 || sc.Path != "/" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, a max age and path /", sc)
		}
		home := e.get(c, "/projects")
		if home.status != 200 || !strings.Contains(home.body, `<strong id="user">dev</strong>`) {
			t.Fatalf("after login: %d", home.status)
		}
		// The login is in the audit log.
		logged := false
		err := e.srv.Store().AuditEntries(context.Background(), store.AuditFilter{}, func(en store.AuditEntry) error {
			logged = logged || (en.Kind == "login" && en.Actor == "dev" && strings.Contains(string(en.Detail), `"console"`))
			return nil
		})
		if err != nil || !logged {
			t.Errorf("no audit entry for the console login (err %v)", err)
		}
		// The session cookie does not work as an API credential by itself.
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/whoami", nil)
		req.AddCookie(sc)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API with only the session cookie: %v %v, want 401", resp.StatusCode, err)
		}

		if p := e.post(c, "/logout", url.Values{"csrf": {"forged"}}, nil); p.status != http.StatusForbidden {
			t.Fatalf("logout with a forged token: %d", p.status)
		}
		if e.get(c, "/projects").status != 200 {
			t.Fatal("a forged logout ended the session")
		}
		if p := e.post(c, "/logout", url.Values{"csrf": {formCSRF(t, home.body)}}, nil); p.status != http.StatusSeeOther {
			t.Fatalf("logout: %d\n%s", p.status, p.body)
		}
		if p := e.get(c, "/projects"); p.status != http.StatusSeeOther {
			t.Fatalf("after logout: %d", p.status)
		}
		// The token is revoked, not only forgotten by the browser.
		req, _ = http.NewRequest("GET", e.ts.URL+"/projects", nil)
		req.AddCookie(sc)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("old session cookie after logout: %v %v, want 303 to the login page", resp.StatusCode, err)
		}
		cleared := false
		for _, ck := range resp.Cookies() {
			cleared = cleared || (ck.Name == "seawall_session" && ck.MaxAge < 0)
		}
		if !cleared {
			t.Error("a revoked session cookie is not cleared")
		}
	})
	t.Run("open redirect refused", func(t *testing.T) {
		c := e.client()
		tok := formCSRF(t, e.get(c, "/login").body)
		p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {tok}, "next": {"//evil.example/x"}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/projects" {
			t.Fatalf("login with next=//evil.example: %d %q", p.status, p.header.Get("Location"))
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Auth.LoginFailureBurst = 3
		c.Auth.LoginFailuresPerMinute = 1
	})
	e.user("dev", nil)
	c := e.client()
	var last page
	for range 5 {
		tok := formCSRF(t, e.get(c, "/login").body)
		last = e.post(c, "/login", url.Values{"username": {"dev"}, "password": {"wrong-password"}, "csrf": {tok}}, nil)
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" || !strings.Contains(last.body, "Too many failed logins") {
		t.Fatalf("status %d, Retry-After %q\n%s", last.status, last.header.Get("Retry-After"), last.body)
	}
	// The right password is refused too while the limit holds.
	tok := formCSRF(t, e.get(c, "/login").body)
	if p := e.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {tok}}, nil); p.status != http.StatusTooManyRequests {
		t.Fatalf("right password while limited: %d", p.status)
	}
}

func TestSecurityHeadersAndPrecedence(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, path := range []string{"/login", "/static/console.css"} {
		p := e.get(c, path)
		if p.status != 200 {
			t.Fatalf("GET %s: %d", path, p.status)
		}
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP allows inline code: %q", path, csp)
		}
		if got := p.header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", path, got)
		}
		if got := p.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
		}
	}
	if p := e.get(c, "/login"); strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, " onclick=") {
		t.Error("the login page has inline script or style")
	}
	// The console's paths leave the API, the registry and operations alone.
	for _, tc := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/", http.StatusSeeOther, ""},
		{"/healthz", 200, "application/json"},
		{"/v2/", http.StatusUnauthorized, "application/json"},
		{"/api/v1/projects", http.StatusUnauthorized, "application/json"},
		{"/service/token", 200, "application/json"},
		{"/metrics", http.StatusUnauthorized, "application/json"},
		{"/no/such/page", http.StatusNotFound, "application/json"},
		{"/static/nope.css", http.StatusNotFound, "text/html; charset=utf-8"},
	} {
		p := e.get(c, tc.path)
		if p.status != tc.status || !strings.HasPrefix(p.header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, p.status, p.header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
	// Every console route reaches the console through the server (a
	// route missing from routes.go would get the API's JSON 404).
	if len(console.Routes) == 0 {
		t.Fatal("no console routes")
	}
	fill := strings.NewReplacer("{$}", "", "{project}", "team", "{path...}", "app", "{file}", "console.css")
	for _, rt := range console.Routes {
		method, path, _ := strings.Cut(rt, " ")
		path = fill.Replace(path)
		var p page
		if method == http.MethodPost {
			p = e.post(c, path, url.Values{}, nil)
		} else {
			p = e.get(c, path)
		}
		if ct := p.header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") || p.header.Get("Content-Security-Policy") != e.get(c, "/login").header.Get("Content-Security-Policy") {
			t.Errorf("%s %s: %d %q: not answered by the console", method, path, p.status, ct)
		}
	}
}

// FuzzRepositoryPaths sends arbitrary paths under a repository to a real
// server as a logged-in user: each answer is a page or a 303/400/404,
// never a server error.
func FuzzRepositoryPaths(f *testing.F) {
	for _, s := range []string{"app", "app/", "app/-/", "app/-/artifacts", "app/-/artifacts/sha256:" + strings.Repeat("a", 64),
		"app/-/artifacts/sha256:" + strings.Repeat("a", 64) + "/sbom.cdx.json", "app/artifacts/sha256:" + strings.Repeat("0", 64),
		"a/b/c/-/x/y/z", "%2e%2e/%2e%2e", "-/-/-", "app/-/artifacts?digest=sha256:zz"} {
		f.Add(s)
	}
	e := newEnv(f)
	e.project("team", false)
	e.push("team/app", "v1", nil)
	c := e.client()
	e.login(c, "admin", adminPW)
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse(e.ts.URL + "/projects/team/repos/" + p)
		if err != nil || strings.ContainsAny(p, "#\x00") {
			return
		}
		resp, err := c.Get(u.String())
		if err != nil {
			return // not a request a client can send
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusSeeOther, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
			http.StatusBadRequest, http.StatusNotFound: // ServeMux redirects unclean paths (307)
		default:
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	})
}

// TestSecureCookiesOverTLS checks that cookies set over TLS are Secure.
func TestSecureCookiesOverTLS(t *testing.T) {
	e := newEnv(t)
	e.user("dev", nil)
	ts := httptest.NewTLSServer(e.srv)
	defer ts.Close()
	tlsEnv := &env{t: t, srv: e.srv, ts: ts, host: strings.TrimPrefix(ts.URL, "https://")}
	c := tlsEnv.client()
	c.Transport = ts.Client().Transport
	p := tlsEnv.get(c, "/login")
	tok := formCSRF(t, p.body)
	res := tlsEnv.post(c, "/login", url.Values{"username": {"dev"}, "password": {userPW}, "csrf": {tok}}, nil)
	cookies := append((&http.Response{Header: p.header}).Cookies(), (&http.Response{Header: res.header}).Cookies()...)
	names := map[string]bool{}
	for _, ck := range cookies {
		names[ck.Name] = true
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s over TLS: Secure %v, HttpOnly %v, SameSite %v", ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite)
		}
	}
	if !names["seawall_login"] || !names["seawall_session"] {
		t.Errorf("cookies set: %v, want seawall_login and seawall_session", names)
	}
	if hsts := res.header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security over TLS")
	}
}
