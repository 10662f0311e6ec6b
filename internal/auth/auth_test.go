package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// cheap keeps tests fast; production uses DefaultArgon2.
var cheap = Argon2Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultArgon2, 2)
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with the default parameters", hash)
	}
	for _, tc := range []struct {
		name, pw string
		want     bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsf", false},
		{"empty", "", false},
		{"prefix", "correct hors", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(ctx, hash, tc.pw)
			if err != nil || ok != tc.want {
				t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
			}
		})
	}
	again, _ := h.Hash(ctx, "correct horse")
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyRejectsBadHashes(t *testing.T) {
	h := NewHasher(cheap, 1)
	for _, bad := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", // 95 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
		"$argon2id$v=19$x=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		if ok, err := h.Verify(context.Background(), bad, "pw"); ok || !errors.Is(err, ErrBadHash) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrBadHash", bad, ok, err)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	good, _ := NewHasher(cheap, 1).Hash(context.Background(), "x")
	f.Add(good)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err == nil && (p.memory > maxArgonMemory || p.time > maxArgonTime || p.threads == 0 || len(p.key) > maxArgonKey) {
			t.Fatalf("parsePHC(%q) accepted out-of-range parameters %+v", s, p)
		}
	})
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Scope
		err  bool
	}{
		{in: "repository:team/app:pull,push", want: Scope{"repository", "team/app", []string{"pull", "push"}}},
		{in: "repository:team/app:pull,pull", want: Scope{"repository", "team/app", []string{"pull"}}},
		{in: "repository:localhost:5000/team/app:pull", want: Scope{"repository", "localhost:5000/team/app", []string{"pull"}}},
		{in: "repository(plugin):team/app:pull", want: Scope{"repository", "team/app", []string{"pull"}}},
		{in: "registry:catalog:*", want: Scope{"registry", "catalog", []string{"*"}}},
		{in: "repository:team/app:", want: Scope{"repository", "team/app", nil}},
		{in: "repository:team/app", err: true},
		{in: "repository::pull", err: true},
		{in: ":x:pull", err: true},
		{in: "nocolon", err: true},
		{in: "repository:" + strings.Repeat("a", 600) + ":pull", err: true},
	} {
		t.Run(tc.in[:min(len(tc.in), 40)], func(t *testing.T) {
			got, err := ParseScope(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); !tc.err && diff != "" {
				t.Errorf("ParseScope (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"repository:a/b:pull,push", "registry:catalog:*", "a:b:c:d", "::", "x(y):z:*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			return
		}
		if sc.Type == "" || sc.Name == "" {
			t.Fatalf("ParseScope(%q) = %+v: empty type or name accepted", s, sc)
		}
		// A parsed scope round-trips.
		again, err := ParseScope(sc.String())
		if err != nil || !cmp.Equal(sc, again) {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", s, sc, sc.String(), again, err)
		}
	})
}

func newSigner(t testing.TB, now func() time.Time) *Signer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, "seawall", now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTIssueVerify(t *testing.T) {
	clock := testsupport.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := newSigner(t, clock.Now)
	access := []Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}}
	tok, exp, err := s.Issue("alice", "reg.example", access, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.Now().Add(5 * time.Minute)) {
		t.Errorf("expiry %v", exp)
	}
	c, err := s.Verify(tok, "reg.example")
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || !cmp.Equal(c.Access, access) {
		t.Errorf("claims %+v", c)
	}
	if _, err := s.Verify(tok, "other.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("wrong audience accepted: %v", err)
	}
	other := newSigner(t, clock.Now)
	if _, err := other.Verify(tok, "reg.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("token signed by another key accepted: %v", err)
	}
	clock.Advance(5*time.Minute + 6*time.Second)
	if _, err := s.Verify(tok, "reg.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired token accepted: %v", err)
	}
}

// TestJWTVerifiedCache checks that a remembered token is bound to its
// audience and still expires on time.
func TestJWTVerifiedCache(t *testing.T) {
	clock := testsupport.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := newSigner(t, clock.Now)
	tok, _, err := s.Issue("alice", "reg.example", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c, err := s.Verify(tok, "reg.example")
		if err != nil || c.Subject != "alice" {
			t.Fatalf("verify %d: %+v, %v", i, c, err)
		}
		c.Subject = "mallory" // callers get copies
	}
	if n := len(s.verified.m); n != 1 {
		t.Errorf("%d cached tokens, want 1", n)
	}
	if _, err := s.Verify(tok, "other.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("cached token accepted for another audience: %v", err)
	}
	if _, err := s.Verify(tok+"x", "reg.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("altered token accepted: %v", err)
	}
	clock.Advance(time.Minute + jwtLeeway)
	if _, err := s.Verify(tok, "reg.example"); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired cached token accepted: %v", err)
	}

	// A full cache drops what has expired, then everything.
	small := newTokenCache(2)
	now := clock.Now()
	small.add([32]byte{1}, &Claims{}, now.Add(-time.Second), now)
	small.add([32]byte{2}, &Claims{}, now.Add(time.Minute), now)
	small.add([32]byte{3}, &Claims{}, now.Add(time.Minute), now)
	if _, ok := small.get([32]byte{1}, now); ok || len(small.m) != 2 {
		t.Errorf("expired entry kept: %d entries", len(small.m))
	}
	small.add([32]byte{4}, &Claims{}, now.Add(time.Minute), now)
	if _, ok := small.get([32]byte{4}, now); !ok || len(small.m) != 1 {
		t.Errorf("full cache of live entries not cleared: %d entries", len(small.m))
	}
}

// tampered returns forged variants of a valid token.
func tampered(t testing.TB, s *Signer, valid string) map[string]string {
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding
	payload, _ := b64.DecodeString(parts[1])
	admin := strings.Replace(string(payload), `"pull"`, `"pull","push","delete"`, 1)
	// HS256 signed with the public key's bytes: the classic key confusion.
	pub, _ := s.key.PublicKey.Bytes()
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "seawall", "sub": "alice", "aud": "reg.example", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(pub)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "seawall", "sub": "alice", "aud": "reg.example", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "seawall", "sub": "alice", "aud": "reg.example"}).SignedString(s.key)
	wrongIss, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "evil", "sub": "alice", "aud": "reg.example", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(s.key)
	return map[string]string{
		"payload widened":  parts[0] + "." + b64.EncodeToString([]byte(admin)) + "." + parts[2],
		"signature cut":    parts[0] + "." + parts[1] + ".",
		"signature zeroed": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"alg none":         none,
		"hs256 confusion":  hs,
		"no expiry":        noExp,
		"wrong issuer":     wrongIss,
		"two parts":        parts[0] + "." + parts[1],
		"garbage":          "not.a.jwt",
		"huge":             strings.Repeat("a", maxJWTLen+1),
	}
}

func TestJWTTampering(t *testing.T) {
	s := newSigner(t, nil)
	valid, _, err := s.Issue("alice", "reg.example", []Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range tampered(t, s, valid) {
		t.Run(name, func(t *testing.T) {
			if c, err := s.Verify(tok, "reg.example"); !errors.Is(err, ErrBadToken) {
				t.Errorf("forged token accepted: %+v, %v", c, err)
			}
		})
	}
}

func FuzzVerifyJWT(f *testing.F) {
	s := newSigner(f, nil)
	valid, _, _ := s.Issue("alice", "reg.example", []Scope{{Type: "repository", Name: "a/b", Actions: []string{"pull"}}}, time.Hour)
	f.Add(valid)
	for _, tok := range tampered(f, s, valid) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, "reg.example")
		if err == nil && tok != valid {
			// Only an untouched token may verify (ECDSA signatures are
			// not malleable in ways that keep the same bytes meaningful,
			// but a re-encoding of the valid one could be; allow that
			// only if the claims are identical).
			want, _ := s.Verify(valid, "reg.example")
			if !cmp.Equal(c.Access, want.Access) || c.Subject != want.Subject {
				t.Fatalf("forged token verified with claims %+v", c)
			}
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "token-signing.pem")
	log := slog.New(slog.DiscardHandler)
	k1, err := LoadOrCreateKey(path, log)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("second start generated a new key instead of loading the first")
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path, log); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}

// fixture is a Service over fake accounts:
//
//	project "team" (private): alice admin, mia maintainer, dev developer,
//	  gus guest, lim limited-guest; robot$team+ci (pull,push)
//	project "pub" (public)
//	root: system admin; nobody: no memberships
type fixture struct {
	svc   *Service
	accts *testsupport.Accounts
	clock *testsupport.Clock
	team  *store.Project
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testsupport.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	accts := testsupport.NewAccounts()
	h := NewHasher(cheap, 2)
	svc, err := New(Options{Store: accts, Signer: newSigner(t, clock.Now), Hasher: h, ExternalURL: "https://reg.example",
		LoginFailuresPerMinute: 6, LoginFailureBurst: 5, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	team := &store.Project{Name: "team"}
	pub := &store.Project{Name: "pub", Public: true}
	for _, p := range []*store.Project{team, pub} {
		if err := accts.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		name  string
		role  store.Role
		admin bool
	}{{"alice", store.RoleAdmin, false}, {"mia", store.RoleMaintainer, false}, {"dev", store.RoleDeveloper, false},
		{"gus", store.RoleGuest, false}, {"lim", store.RoleLimitedGuest, false}, {"root", "", true}, {"nobody", "", false}} {
		hash, _ := h.Hash(ctx, u.name+"-pw")
		usr := &store.User{Name: u.name, PasswordHash: hash, Admin: u.admin}
		if err := accts.CreateUser(ctx, usr); err != nil {
			t.Fatal(err)
		}
		if u.role != "" {
			if err := accts.SetMember(ctx, team.ID, usr.ID, u.role); err != nil {
				t.Fatal(err)
			}
		}
	}
	hash, _ := h.Hash(ctx, "ci-secret")
	if err := accts.CreateRobot(ctx, &store.Robot{ProjectID: team.ID, Name: "robot$team+ci", SecretHash: hash, Permissions: []string{"pull", "push"}}); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, accts: accts, clock: clock, team: team}
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func request(auth string) *http.Request {
	r := httptest.NewRequest("GET", "https://reg.example/v2/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestAuthorizeUnit(t *testing.T) {
	f := newFixture(t)
	type result int
	const (
		ok result = iota
		challenge
		denied
	)
	for _, tc := range []struct {
		name, auth, repo string
		actions          []string
		want             result
	}{
		{"anon base", "", "", nil, challenge},
		{"user base", basic("nobody", "nobody-pw"), "", nil, ok},
		{"bad password base", basic("alice", "nope"), "", nil, challenge},
		{"anon pull public", "", "pub/app", []string{"pull"}, ok},
		{"anon push public", "", "pub/app", []string{"pull", "push"}, challenge},
		{"anon pull private", "", "team/app", []string{"pull"}, challenge},
		{"nobody pull private", basic("nobody", "nobody-pw"), "team/app", []string{"pull"}, denied},
		{"nobody pull public", basic("nobody", "nobody-pw"), "pub/app", []string{"pull"}, ok},
		{"guest push", basic("gus", "gus-pw"), "team/app", []string{"pull", "push"}, denied},
		{"developer push", basic("dev", "dev-pw"), "team/app", []string{"pull", "push"}, ok},
		{"developer delete", basic("dev", "dev-pw"), "team/app", []string{"delete"}, denied},
		{"maintainer delete", basic("mia", "mia-pw"), "team/app", []string{"delete"}, ok},
		{"limited guest list", basic("lim", "lim-pw"), "team/app", []string{"list"}, denied},
		{"guest list", basic("gus", "gus-pw"), "team/app", []string{"list"}, ok},
		{"root anywhere", basic("root", "root-pw"), "other/app", []string{"delete"}, ok},
		{"robot push", basic("robot$team+ci", "ci-secret"), "team/app", []string{"push"}, ok},
		{"robot delete", basic("robot$team+ci", "ci-secret"), "team/app", []string{"delete"}, denied},
		{"robot other project", basic("robot$team+ci", "ci-secret"), "pub/app", []string{"push"}, denied},
		{"no project", basic("alice", "alice-pw"), "app", []string{"pull"}, denied},
		{"catalog anon", "", "", []string{"catalog"}, challenge},
		{"catalog user", basic("lim", "lim-pw"), "", []string{"catalog"}, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.Authorize(request(tc.auth), tc.repo, tc.actions...)
			var ch *Challenge
			got := ok
			switch {
			case errors.As(err, &ch):
				got = challenge
				if !strings.HasPrefix(ch.Header(), `Bearer realm="https://reg.example/service/token",service="reg.example"`) {
					t.Errorf("challenge header %q", ch.Header())
				}
			case errors.Is(err, ErrDenied):
				got = denied
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if got != tc.want {
				t.Errorf("Authorize = %v (%d), want %d", err, got, tc.want)
			}
		})
	}
}

func TestTokenFlowGrantsIntersection(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("GET", "https://reg.example/service/token?service=reg.example&scope=repository:team/app:pull,push,delete&scope=repository:pub/x:push,pull&scope=registry:catalog:*", nil)
	r.Header.Set("Authorization", basic("dev", "dev-pw"))
	resp, err := f.svc.IssueToken(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.signer.Verify(resp.Token, "reg.example")
	if err != nil {
		t.Fatal(err)
	}
	want := []Scope{
		{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}},
		{Type: "repository", Name: "pub/x", Actions: []string{"pull"}},
		CatalogScope,
	}
	if diff := cmp.Diff(want, c.Access); diff != "" {
		t.Errorf("granted (-want +got):\n%s", diff)
	}
	if c.Subject != "dev" || resp.ExpiresIn != 300 {
		t.Errorf("sub %q expires_in %d", c.Subject, resp.ExpiresIn)
	}

	// The token works on /v2/ for what it grants, and a token that lacks a
	// scope the user has gets an insufficient_scope challenge.
	use := func(repo string, actions ...string) error {
		req := request("Bearer " + resp.Token)
		return f.svc.Authorize(req, repo, actions...)
	}
	if err := use("team/app", "push"); err != nil {
		t.Errorf("push with token: %v", err)
	}
	var ch *Challenge
	if err := use("team/other", "pull"); !errors.As(err, &ch) || ch.Reason != "insufficient_scope" {
		t.Errorf("pull on another repo with a token for team/app: %v; want insufficient_scope", err)
	}
	if err := use("team/app", "delete"); !errors.Is(err, ErrDenied) {
		t.Errorf("delete: %v; want denied", err)
	}

	// Wrong service is refused; bad credentials are refused, not downgraded.
	r = httptest.NewRequest("GET", "https://reg.example/service/token?service=evil&scope=repository:team/app:pull", nil)
	if _, err := f.svc.IssueToken(r); !errors.Is(err, ErrBadTokenRequest) {
		t.Errorf("wrong service: %v", err)
	}
	r = httptest.NewRequest("GET", "https://reg.example/service/token?scope=repository:team/app:pull", nil)
	r.Header.Set("Authorization", basic("dev", "wrong"))
	if _, err := f.svc.IssueToken(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bad password: %v", err)
	}
}

func TestRobotExpiryAndRevocation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := f.svc.hasher.Hash(ctx, "s3")
	rb := &store.Robot{ProjectID: f.team.ID, Name: "robot$team+short", SecretHash: hash, Permissions: []string{"pull"}, ExpiresAt: f.clock.Now().Add(time.Hour)}
	if err := f.accts.CreateRobot(ctx, rb); err != nil {
		t.Fatal(err)
	}
	// Get a JWT while it is valid.
	r := httptest.NewRequest("GET", "https://reg.example/service/token?scope=repository:team/app:pull", nil)
	r.Header.Set("Authorization", basic(rb.Name, "s3"))
	resp, err := f.svc.IssueToken(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authorize(request("Bearer "+resp.Token), "team/app", "pull"); err != nil {
		t.Fatalf("valid robot: %v", err)
	}
	if err := f.accts.RevokeRobot(ctx, rb.ID); err != nil {
		t.Fatal(err)
	}
	var ch *Challenge
	if err := f.svc.Authorize(request("Bearer "+resp.Token), "team/app", "pull"); !errors.As(err, &ch) {
		t.Errorf("revoked robot's unexpired token: %v; want a challenge", err)
	}
	if err := f.svc.Authorize(request(basic(rb.Name, "s3")), "team/app", "pull"); !errors.As(err, &ch) {
		t.Errorf("revoked robot's secret: %v; want a challenge", err)
	}
	// ci expires after its time.
	hash2, _ := f.svc.hasher.Hash(ctx, "s4")
	rb2 := &store.Robot{ProjectID: f.team.ID, Name: "robot$team+exp", SecretHash: hash2, Permissions: []string{"pull"}, ExpiresAt: f.clock.Now().Add(time.Hour)}
	if err := f.accts.CreateRobot(ctx, rb2); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authorize(request(basic(rb2.Name, "s4")), "team/app", "pull"); err != nil {
		t.Fatalf("valid robot: %v", err)
	}
	f.clock.Advance(time.Hour)
	if err := f.svc.Authorize(request(basic(rb2.Name, "s4")), "team/app", "pull"); !errors.As(err, &ch) {
		t.Errorf("expired robot: %v; want a challenge", err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Burst 5 per user: five failures, then refusal even with the right password.
	for i := range 5 {
		if _, err := f.svc.Login(ctx, "alice", "wrong", "192.0.2.1"); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var rl *RateLimitedError
	if _, err := f.svc.Login(ctx, "alice", "alice-pw", "192.0.2.1"); !errors.As(err, &rl) {
		t.Fatalf("sixth try: %v; want rate limited", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > 10*time.Second {
		t.Errorf("RetryAfter %v, want about 10s at 6 per minute", rl.RetryAfter)
	}
	// Another user from another address is not affected.
	if _, err := f.svc.Login(ctx, "dev", "dev-pw", "192.0.2.2"); err != nil {
		t.Errorf("another user: %v", err)
	}
	// The bucket refills at 6 per minute.
	f.clock.Advance(10 * time.Second)
	if _, err := f.svc.Login(ctx, "alice", "alice-pw", "192.0.2.1"); err != nil {
		t.Errorf("after waiting: %v", err)
	}
	// Per address: 15 failures spread over many user names block the address.
	for i := range 15 {
		_, _ = f.svc.Login(ctx, "ghost"+string(rune('a'+i)), "x", "198.51.100.7")
	}
	if _, err := f.svc.Login(ctx, "dev", "dev-pw", "198.51.100.7"); !errors.As(err, &rl) {
		t.Errorf("address after 15 failures: %v; want rate limited", err)
	}
}

func TestAPITokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, _ := f.accts.UserByName(ctx, "dev")
	tok, rec, err := f.svc.IssueAPIToken(ctx, u, "cli", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !IsAPIToken(tok) || rec.Hash != HashToken(tok) || strings.Contains(rec.Hash, tok) {
		t.Fatalf("token %q record %+v", tok, rec)
	}
	// Flip the last character to another one, so the altered token
	// always differs (replacing it with a fixed letter did not when the
	// token already ended in it).
	last := "A"
	if strings.HasSuffix(tok, last) {
		last = "B"
	}
	for _, tc := range []struct {
		name, auth string
		ok         bool
	}{
		{"bearer", "Bearer " + tok, true},
		{"basic with its user", basic("dev", tok), true},
		{"basic with another user", basic("alice", tok), false},
		{"bearer altered", "Bearer " + tok[:len(tok)-1] + last, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.svc.Authenticate(request(tc.auth))
			if tc.ok != (err == nil) {
				t.Fatalf("Authenticate = %+v, %v; want ok %v", p, err, tc.ok)
			}
			if tc.ok && p.Name != "dev" {
				t.Errorf("principal %q", p.Name)
			}
		})
	}
	f.clock.Advance(time.Hour)
	if _, err := f.svc.Authenticate(request("Bearer " + tok)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired token: %v", err)
	}
}

// FuzzAuthorization feeds arbitrary Authorization headers to the whole
// authorization path: it must never panic, and never let an unknown
// caller push.
func FuzzAuthorization(f *testing.F) {
	fx := newFixture(f)
	valid, _, _ := fx.svc.signer.Issue("dev", "reg.example", []Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}}, time.Hour)
	for _, s := range []string{"", "Basic", "Basic ", "Basic !!!", basic("dev", "dev-pw"), basic("robot$team+ci", "x"), "Bearer ",
		"Bearer " + valid, "Bearer " + valid + "x", "bearer a.b.c", "Digest x", "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")),
		"Bearer swt_" + strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := request("")
		r.Header["Authorization"] = []string{h}
		if err := fx.svc.Authorize(r, "team/app", "push"); err != nil {
			return
		}
		p, err := fx.svc.Authenticate(r)
		if err != nil || p.Kind == Anonymous || (p.Name != "dev" && p.Name != "robot$team+ci") {
			t.Fatalf("Authorization %q was allowed to push as %+v (%v)", h, p, err)
		}
	})
}

// TestConcurrentLoginsShareOneVerification sends the same credentials from
// many goroutines at once, right and wrong: every right one succeeds and
// every wrong one fails, whichever request did the hashing.
func TestConcurrentLoginsShareOneVerification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			pw := "dev-pw"
			if i%4 == 3 { // fewer failures than the limiter's burst
				pw = "wrong"
			}
			_, errs[i] = f.svc.Login(ctx, "dev", pw, "192.0.2.9")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%4 != 3; want != (err == nil) {
			t.Errorf("login %d (right password: %v): %v", i, want, err)
		}
	}
}
