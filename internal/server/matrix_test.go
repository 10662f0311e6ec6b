package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/testsupport"
)

// The operations of the authorization matrix, in column order.
var matrixOps = []string{"pull", "push", "delete", "list", "members", "members:write", "robots", "settings", "sysadmin"}

// outcome of one operation: allowed, 401 (no or bad credentials) or 403.
type outcome int

const (
	allow outcome = iota
	unauth
	deny
)

func (o outcome) String() string { return [...]string{"allow", "401", "403"}[o] }

// TestAuthorizationMatrix checks every role and robot permission against
// every operation, through the registry (with Basic credentials on /v2/
// and with the token flow) and the API: exactly the allowed succeed; the
// others get 401 with a correct challenge or 403 with an OCI error body.
// The expectations are written out here, independently of auth.Matrix.
func TestAuthorizationMatrix(t *testing.T) {
	clock := testsupport.NewClock(time.Now())
	e := newTestEnv(t, func(c *Config) {
		c.Now = clock.Now
		c.Auth.LoginFailureBurst = 100000 // this test fails logins on purpose, many times
		c.Auth.LoginFailuresPerMinute = 100000
	})
	admin := e.login("admin", adminPW)
	adminBasic := &authn.Basic{Username: "admin", Password: adminPW}
	for _, p := range []string{"alpha", "beta"} {
		e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: p}, nil)
		if _, err := e.push(p+"/app:v1", adminBasic); err != nil {
			t.Fatal(err)
		}
	}
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "target", Password: "target-pw-1"}, nil)

	type principal struct {
		name     string
		user, pw string // Basic credentials; "" for anonymous
		api      string // Authorization for the API (a login token for users)
		want     [9]outcome
	}
	const (
		Y = allow
		N = deny
		U = unauth
	)
	users := []struct {
		name, role string
		admin      bool
		want       [9]outcome
	}{
		//                                     pull push delete list members members:write robots settings sysadmin
		{"u-admin", "admin", false, [9]outcome{Y, Y, Y, Y, Y, Y, Y, Y, N}},
		{"u-maintainer", "maintainer", false, [9]outcome{Y, Y, Y, Y, Y, N, Y, N, N}},
		{"u-developer", "developer", false, [9]outcome{Y, Y, N, Y, Y, N, N, N, N}},
		{"u-guest", "guest", false, [9]outcome{Y, N, N, Y, Y, N, N, N, N}},
		{"u-limited", "limited-guest", false, [9]outcome{Y, N, N, N, N, N, N, N, N}},
		{"u-outsider", "", false, [9]outcome{N, N, N, N, N, N, N, N, N}},
		{"u-beta-admin", "", false, [9]outcome{N, N, N, N, N, N, N, N, N}}, // admin of beta only
		{"u-sysadmin", "", true, [9]outcome{Y, Y, Y, Y, Y, Y, Y, Y, Y}},
	}
	var principals []principal
	for _, u := range users {
		pw := u.name + "-pw"
		e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: u.name, Password: pw, Admin: u.admin}, nil)
		if u.role != "" {
			e.must(http.StatusOK, "PUT", "/api/v1/projects/alpha/members/"+u.name, admin, setMemberRequest{Role: u.role}, nil)
		}
		principals = append(principals, principal{name: u.name, user: u.name, pw: pw, api: e.login(u.name, pw), want: u.want})
	}
	e.must(http.StatusOK, "PUT", "/api/v1/projects/beta/members/u-beta-admin", admin, setMemberRequest{Role: "admin"}, nil)

	robots := []struct {
		name, project string
		perms         []string
		want          [9]outcome
	}{
		//                                                                 pull push delete list members members:write robots settings sysadmin
		{"pull", "alpha", []string{"pull"}, [9]outcome{Y, N, N, N, N, N, N, N, N}},
		{"push", "alpha", []string{"push"}, [9]outcome{N, Y, N, N, N, N, N, N, N}},
		{"delete", "alpha", []string{"delete"}, [9]outcome{N, N, Y, N, N, N, N, N, N}},
		{"pullpush", "alpha", []string{"pull", "push"}, [9]outcome{Y, Y, N, N, N, N, N, N, N}},
		{"all", "alpha", []string{"pull", "push", "delete"}, [9]outcome{Y, Y, Y, N, N, N, N, N, N}},
		{"all", "beta", []string{"pull", "push", "delete"}, [9]outcome{N, N, N, N, N, N, N, N, N}}, // project B's robot on A
	}
	for _, rb := range robots {
		var out robotJSON
		e.must(http.StatusCreated, "POST", "/api/v1/projects/"+rb.project+"/robots", admin, createRobotRequest{Name: rb.name, Permissions: rb.perms}, &out)
		principals = append(principals, principal{name: out.Name, user: out.Name, pw: out.Secret, api: basicAuth(out.Name, out.Secret), want: rb.want})
	}

	// Refused outright: anonymous, an expired robot, a revoked robot, a
	// disabled user, a wrong password.
	all401 := [9]outcome{U, U, U, U, U, U, U, U, U}
	var expiring, revoked robotJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/alpha/robots", admin, createRobotRequest{Name: "expiring", Permissions: []string{"pull", "push", "delete"}, ExpiresIn: 3600}, &expiring)
	e.must(http.StatusCreated, "POST", "/api/v1/projects/alpha/robots", admin, createRobotRequest{Name: "revoked", Permissions: []string{"pull", "push", "delete"}}, &revoked)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/projects/alpha/robots/revoked", admin, nil, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "u-disabled", Password: "disabled-pw"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/alpha/members/u-disabled", admin, setMemberRequest{Role: "admin"}, nil)
	disabledToken := e.login("u-disabled", "disabled-pw")
	e.must(http.StatusOK, "PATCH", "/api/v1/users/u-disabled", admin, map[string]bool{"disabled": true}, nil)
	principals = append(principals,
		principal{name: "anonymous", want: all401},
		principal{name: "expired robot", user: expiring.Name, pw: expiring.Secret, api: basicAuth(expiring.Name, expiring.Secret), want: all401},
		principal{name: "revoked robot", user: revoked.Name, pw: revoked.Secret, api: basicAuth(revoked.Name, revoked.Secret), want: all401},
		principal{name: "disabled user", user: "u-disabled", pw: "disabled-pw", api: disabledToken, want: all401},
		principal{name: "wrong password", user: "u-admin", pw: "nope", api: basicAuth("u-admin", "nope"), want: all401},
	)
	clock.Advance(2 * time.Hour) // the expiring robot has expired

	delN := 0
	for _, p := range principals {
		for _, mode := range []string{"basic", "token"} {
			for i, op := range matrixOps {
				if mode == "token" && i > 3 {
					continue // API operations do not use registry tokens
				}
				t.Run(fmt.Sprintf("%s/%s/%s", p.name, mode, op), func(t *testing.T) {
					want := p.want[i]
					var got outcome
					var detail string
					if i <= 3 {
						delN++
						got, detail = e.registryOp(t, op, mode, p.user, p.pw, adminBasic, delN)
					} else {
						got, detail = e.apiOp(t, op, p.api)
					}
					if got != want {
						t.Errorf("%s by %s (%s): got %s, want %s\n%s", op, p.name, mode, got, want, detail)
					}
				})
			}
		}
	}
}

// registryOp does op on project alpha as user/pw (anonymous when user is
// ""), with Basic credentials on /v2/ or through the token service, and
// checks the form of any refusal.
func (e *testEnv) registryOp(t *testing.T, op, mode, user, pw string, admin authn.Authenticator, n int) (outcome, string) {
	var (
		method, path, scope string
		body                []byte
		okStatus            int
	)
	switch op {
	case "pull":
		method, path, scope, okStatus = "GET", "/v2/alpha/app/manifests/v1", "repository:alpha/app:pull", http.StatusOK
	case "push":
		body = []byte(fmt.Sprintf("blob %d %s", n, time.Now()))
		sum := sha256.Sum256(body)
		method, path, scope, okStatus = "POST", "/v2/alpha/app/blobs/uploads/?digest=sha256:"+hex.EncodeToString(sum[:]), "repository:alpha/app:push", http.StatusCreated
	case "delete":
		img, _ := random.Image(64, 1)
		if err := remote.Write(e.ref(fmt.Sprintf("alpha/del:t%d", n)), img, remote.WithAuth(admin)); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		method, path, scope, okStatus = "DELETE", "/v2/alpha/del/manifests/"+d.String(), "repository:alpha/del:delete", http.StatusAccepted
	case "list":
		method, path, scope, okStatus = "GET", "/v2/_catalog", "registry:catalog:*", http.StatusOK
	}
	authz := ""
	if user != "" {
		authz = basicAuth(user, pw)
	}
	if mode == "token" {
		q := url.Values{"service": {e.host}, "scope": {scope}}
		code, b, h := e.call("GET", "/service/token?"+q.Encode(), authz, nil)
		if code == http.StatusUnauthorized {
			if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") || !isOCIError(b, "UNAUTHORIZED") {
				t.Errorf("token service 401: WWW-Authenticate %q body %s", h.Get("WWW-Authenticate"), b)
			}
			return unauth, string(b)
		}
		if code != http.StatusOK {
			t.Fatalf("token service: %d %s", code, b)
		}
		var tr struct{ Token string }
		if err := json.Unmarshal(b, &tr); err != nil || tr.Token == "" {
			t.Fatalf("token response %s", b)
		}
		authz = "Bearer " + tr.Token
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	detail := fmt.Sprintf("%s %s → %d %s %s", method, path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
	switch resp.StatusCode {
	case okStatus:
		if op == "list" {
			var cat struct{ Repositories []string }
			_ = json.Unmarshal(b, &cat)
			if !slices.Contains(cat.Repositories, "alpha/app") {
				return deny, detail // the catalog hides what the caller may not list
			}
			if slices.Contains(cat.Repositories, "beta/app") && user != "u-sysadmin" {
				t.Errorf("catalog shows beta/app to %s: %s", user, b)
			}
		}
		return allow, detail
	case http.StatusUnauthorized:
		want := fmt.Sprintf(`Bearer realm="%s/service/token",service="%s",scope="%s"`, e.ts.URL, e.host, scope)
		got := resp.Header.Get("WWW-Authenticate")
		if got != want && got != want+`,error="invalid_token"` {
			t.Errorf("challenge %q, want %q", got, want)
		}
		if !isOCIError(b, "UNAUTHORIZED") {
			t.Errorf("401 body is not an OCI UNAUTHORIZED error: %s", b)
		}
		return unauth, detail
	case http.StatusForbidden:
		if !isOCIError(b, "DENIED") {
			t.Errorf("403 body is not an OCI DENIED error: %s", b)
		}
		return deny, detail
	}
	t.Errorf("unexpected status: %s", detail)
	return -1, detail
}

// apiOp does an API operation on project alpha.
func (e *testEnv) apiOp(t *testing.T, op, authz string) (outcome, string) {
	var (
		method, path string
		body         any
	)
	switch op {
	case "list":
		method, path = "GET", "/api/v1/projects/alpha/repositories"
	case "members":
		method, path = "GET", "/api/v1/projects/alpha/members"
	case "members:write":
		method, path, body = "PUT", "/api/v1/projects/alpha/members/target", setMemberRequest{Role: "guest"}
	case "robots":
		method, path = "GET", "/api/v1/projects/alpha/robots"
	case "settings":
		method, path, body = "PATCH", "/api/v1/projects/alpha", map[string]bool{"public": false}
	case "sysadmin":
		method, path = "GET", "/api/v1/users"
	}
	code, b, h := e.call(method, path, authz, body)
	detail := fmt.Sprintf("%s %s → %d %s", method, path, code, b)
	switch code {
	case http.StatusOK:
		return allow, detail
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") != `Bearer realm="seawall"` || !isOCIError(b, "UNAUTHORIZED") {
			t.Errorf("API 401: WWW-Authenticate %q body %s", h.Get("WWW-Authenticate"), b)
		}
		return unauth, detail
	case http.StatusForbidden:
		if !isOCIError(b, "DENIED") {
			t.Errorf("403 body is not an OCI DENIED error: %s", b)
		}
		return deny, detail
	}
	t.Errorf("unexpected status: %s", detail)
	return -1, detail
}

func isOCIError(b []byte, code string) bool {
	var body struct {
		Errors []struct{ Code, Message string }
	}
	return json.Unmarshal(b, &body) == nil && len(body.Errors) == 1 && body.Errors[0].Code == code && body.Errors[0].Message != ""
}
