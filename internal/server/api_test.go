package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func newBufLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedWriter{w: w}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestAPI(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)

	// whoami
	var me whoamiResponse
	e.must(http.StatusOK, "GET", "/api/v1/whoami", admin, nil, &me)
	if me.Username != "admin" || !me.Admin || me.Kind != "user" || me.Via != "token" || me.ExpiresAt == nil {
		t.Errorf("whoami %+v", me)
	}
	e.must(http.StatusUnauthorized, "GET", "/api/v1/whoami", "", nil, nil)

	// Users: only system admins create them; names and passwords are checked.
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "alice", Password: "alice-password"}, nil)
	e.must(http.StatusConflict, "POST", "/api/v1/users", admin, createUserRequest{Username: "alice", Password: "alice-password"}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/users", admin, createUserRequest{Username: "robot$x", Password: "alice-password"}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/users", admin, createUserRequest{Username: "bob", Password: "short"}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/users", admin, map[string]any{"username": "bob", "password": "long-enough", "extra": 1}, nil)
	alice := e.login("alice", "alice-password")
	e.must(http.StatusForbidden, "POST", "/api/v1/users", alice, createUserRequest{Username: "bob", Password: "bob-password"}, nil)
	var users []userJSON
	e.must(http.StatusOK, "GET", "/api/v1/users", admin, nil, &users)
	if len(users) != 2 {
		t.Errorf("users %+v", users)
	}

	// A user changes their own password with the current one.
	e.must(http.StatusForbidden, "PATCH", "/api/v1/users/alice", alice, map[string]string{"password": "new-password", "currentPassword": "wrong"}, nil)
	e.must(http.StatusOK, "PATCH", "/api/v1/users/alice", alice, map[string]string{"password": "new-password", "currentPassword": "alice-password"}, nil)
	e.must(http.StatusForbidden, "PATCH", "/api/v1/users/alice", alice, map[string]bool{"admin": true}, nil)
	e.must(http.StatusConflict, "PATCH", "/api/v1/users/admin", admin, map[string]bool{"disabled": true}, nil)
	alice = e.login("alice", "new-password")

	// Projects: the creator becomes its admin; names are checked.
	var pj projectJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects", alice, createProjectRequest{Name: "web"}, &pj)
	if pj.Role != "admin" || pj.Public {
		t.Errorf("created project %+v", pj)
	}
	e.must(http.StatusConflict, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "web"}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "Web"}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "../etc"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "open", Public: true}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "secret"}, nil)
	var list []projectJSON
	e.must(http.StatusOK, "GET", "/api/v1/projects", alice, nil, &list)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "open,web" {
		t.Errorf("alice sees projects %v, want open and web", names)
	}
	// A private project she is not in looks the same as one that does not exist.
	_, b1, _ := e.call("GET", "/api/v1/projects/secret", alice, nil)
	_, b2, _ := e.call("GET", "/api/v1/projects/nosuch", alice, nil)
	if strings.ReplaceAll(string(b1), "secret", "X") != strings.ReplaceAll(string(b2), "nosuch", "X") {
		t.Errorf("existence leaks: %s vs %s", b1, b2)
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/projects/nosuch", admin, nil, nil)
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/web", alice, map[string]bool{"public": true}, &pj)
	if !pj.Public {
		t.Error("PATCH public did not stick")
	}

	// Members.
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "carol", Password: "carol-password"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/web/members/carol", alice, setMemberRequest{Role: "maintainer"}, nil)
	e.must(http.StatusBadRequest, "PUT", "/api/v1/projects/web/members/carol", alice, setMemberRequest{Role: "owner"}, nil)
	e.must(http.StatusNotFound, "PUT", "/api/v1/projects/web/members/nobody", alice, setMemberRequest{Role: "guest"}, nil)
	var members []memberJSON
	e.must(http.StatusOK, "GET", "/api/v1/projects/web/members", alice, nil, &members)
	if len(members) != 2 {
		t.Errorf("members %+v", members)
	}
	carol := e.login("carol", "carol-password")
	e.must(http.StatusForbidden, "PUT", "/api/v1/projects/web/members/admin", carol, setMemberRequest{Role: "admin"}, nil)

	// Robots: a maintainer manages them; the secret is shown once.
	var rb robotJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/web/robots", carol, createRobotRequest{Name: "ci", Permissions: []string{"pull", "push"}, ExpiresIn: 3600}, &rb)
	if rb.Name != "robot$web+ci" || rb.Secret == "" || rb.ExpiresAt == nil || rb.CreatedBy != "carol" {
		t.Errorf("robot %+v", rb)
	}
	e.must(http.StatusConflict, "POST", "/api/v1/projects/web/robots", carol, createRobotRequest{Name: "ci", Permissions: []string{"pull"}}, nil)
	e.must(http.StatusBadRequest, "POST", "/api/v1/projects/web/robots", carol, createRobotRequest{Name: "x", Permissions: []string{"admin"}}, nil)
	_, b, _ := e.call("GET", "/api/v1/projects/web/robots", carol, nil)
	if strings.Contains(string(b), rb.Secret) || strings.Contains(string(b), "secret") {
		t.Errorf("robot list shows a secret: %s", b)
	}
	if strings.Contains(e.logs.String(), rb.Secret) {
		t.Error("robot secret in the log")
	}
	var who whoamiResponse
	e.must(http.StatusOK, "GET", "/api/v1/whoami", basicAuth(rb.Name, rb.Secret), nil, &who)
	if who.Kind != "robot" || len(who.Permissions) != 2 {
		t.Errorf("robot whoami %+v", who)
	}
	// Robots cannot log in to the API for a token.
	e.must(http.StatusForbidden, "POST", "/api/v1/login", "", loginRequest{Username: rb.Name, Password: rb.Secret}, nil)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/projects/web/robots/ci", carol, nil, nil)
	e.must(http.StatusUnauthorized, "GET", "/api/v1/whoami", basicAuth(rb.Name, rb.Secret), nil, nil)
	e.must(http.StatusNotFound, "DELETE", "/api/v1/projects/web/robots/nosuch", carol, nil, nil)

	// Remove a member.
	e.must(http.StatusNoContent, "DELETE", "/api/v1/projects/web/members/carol", alice, nil, nil)
	e.must(http.StatusForbidden, "GET", "/api/v1/projects/web/robots", carol, nil, nil)

	// Repositories and deletion of a project.
	if _, err := e.push("web/app:v1", &authn.Basic{Username: "alice", Password: "new-password"}); err != nil {
		t.Fatal(err)
	}
	var repos struct{ Repositories []string }
	e.must(http.StatusOK, "GET", "/api/v1/projects/web/repositories", alice, nil, &repos)
	if len(repos.Repositories) != 1 || repos.Repositories[0] != "web/app" {
		t.Errorf("repositories %+v", repos)
	}
	e.must(http.StatusConflict, "DELETE", "/api/v1/projects/web", alice, nil, nil)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/projects/secret", admin, nil, nil)

	// GC: system admins only.
	e.must(http.StatusForbidden, "POST", "/api/v1/gc", alice, gcRequest{DryRun: true}, nil)
	var gc gcResponse
	e.must(http.StatusOK, "POST", "/api/v1/gc", admin, gcRequest{DryRun: true}, &gc)
	if !gc.DryRun || gc.BlobsDeleted != 0 {
		t.Errorf("gc dry run %+v", gc)
	}
	e.must(http.StatusOK, "POST", "/api/v1/gc", admin, nil, &gc)

	// Logout revokes the token.
	e.must(http.StatusNoContent, "POST", "/api/v1/logout", alice, nil, nil)
	e.must(http.StatusUnauthorized, "GET", "/api/v1/whoami", alice, nil, nil)

	// Bodies are bounded.
	code, _, _ := e.call("POST", "/api/v1/login", "", map[string]string{"username": strings.Repeat("a", 70<<10), "password": "x"})
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", code)
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/login", bytes.NewReader([]byte(`{"username":"a","password":"b"} {}`)))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("trailing data: %d", resp.StatusCode)
	}
}
