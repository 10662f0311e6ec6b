package server

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/seawall-dev/seawall/internal/audit"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/webhook"
)

// auditLines reads GET /api/v1/audit with query q.
func (e *testEnv) auditLines(auth, q string) []audit.Entry {
	e.t.Helper()
	code, b, h := e.call("GET", "/api/v1/audit"+q, auth, nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/x-ndjson" {
		e.t.Fatalf("audit: %d %s %s", code, h.Get("Content-Type"), b)
	}
	var out []audit.Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var en audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil {
			e.t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, en)
	}
	return out
}

func kinds(es []audit.Entry) map[string]int {
	m := map[string]int{}
	for _, e := range es {
		m[e.Kind]++
	}
	return m
}

// TestAuditRecordsAndVerifies drives the server as users would and reads
// the audit log back through the API; then it changes one stored entry
// behind the server's back and verification names it.
func TestAuditRecordsAndVerifies(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	code, _, _ := e.call("POST", "/api/v1/login", "", loginRequest{Username: "admin", Password: "not-the-password"})
	if code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", code)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "dev", Password: "dev-password"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/team/members/dev", admin, setMemberRequest{Role: "developer"}, nil)
	dev := &authn.Basic{Username: "dev", Password: "dev-password"}
	if _, err := e.push("team/app:v1", dev); err != nil {
		t.Fatal(err)
	}
	if err := e.pull("team/app:v1", dev); err != nil {
		t.Fatal(err)
	}
	// A wrong password on the registry is a failed login too.
	if err := e.pull("team/app:v1", &authn.Basic{Username: "dev", Password: "wrong"}); err == nil {
		t.Fatal("pull with a wrong password worked")
	}

	es := e.auditLines(admin, "")
	got := kinds(es)
	for _, k := range []events.Kind{events.KindLogin, events.KindLoginFailed, events.KindRoleChange, events.KindPush, events.KindPull} {
		if got[string(k)] == 0 {
			t.Errorf("no %s entry in the audit log: %v", k, got)
		}
	}
	if got[string(events.KindLoginFailed)] < 2 {
		t.Errorf("%d failed logins recorded, want the API's and the registry's", got[string(events.KindLoginFailed)])
	}
	for i, en := range es {
		if en.Seq != int64(i+1) || en.Hash == "" || (i > 0 && en.PrevHash != es[i-1].Hash) {
			t.Fatalf("entry %d: seq %d prev %q hash %q: not a chain", i, en.Seq, en.PrevHash, en.Hash)
		}
	}
	var push audit.Entry
	for _, en := range es {
		if en.Kind == "push" && en.Tag == "v1" {
			push = en
		}
	}
	if push.Actor != "dev" || push.Repo != "team/app" || !strings.HasPrefix(push.Digest, "sha256:") || push.Project != "team" {
		t.Errorf("push entry %+v", push)
	}
	// Filters.
	if only := e.auditLines(admin, "?project=team"); len(only) == 0 || kinds(only)["login"] != 0 {
		t.Errorf("project filter: %v", kinds(only))
	}
	if none := e.auditLines(admin, "?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(none) != 0 {
		t.Errorf("since in the future returned %d entries", len(none))
	}
	if code, _, _ := e.call("GET", "/api/v1/audit?since=yesterday", admin, nil); code != http.StatusBadRequest {
		t.Errorf("bad since: %d", code)
	}
	// Only system admins read it.
	devTok := e.login("dev", "dev-password")
	if code, _, _ := e.call("GET", "/api/v1/audit", devTok, nil); code != http.StatusForbidden {
		t.Errorf("developer reading the audit log: %d, want 403", code)
	}

	var rep audit.Report
	e.must(http.StatusOK, "GET", "/api/v1/audit/verify", admin, nil, &rep)
	if !rep.OK || rep.Entries < int64(len(es)) {
		t.Fatalf("verify: %+v", rep)
	}

	// Change one byte of the push entry's actor, directly in the file.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.srv.cfg.DataDir, "seawall.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, fmt.Sprintf(`UPDATE audit_log SET actor = 'deu' WHERE seq = %d`, push.Seq)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit/verify", admin, nil, &rep)
	if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != push.Seq {
		t.Fatalf("verify after tampering: %+v; want entry %d named", rep, push.Seq)
	}
}

// TestWebhooksThroughTheAPI adds a webhook with the API and receives a
// signed push event on a real HTTP receiver.
func TestWebhooksThroughTheAPI(t *testing.T) {
	var (
		mu  sync.Mutex
		got []webhook.Payload
		bad []string
	)
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderTimestamp), body, time.Now(), webhook.DefaultTolerance); err != nil {
			bad = append(bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		json.Unmarshal(body, &p)
		got = append(got, p)
	}))
	defer rcv.Close()

	// By default a loopback receiver is refused.
	strict := newTestEnv(t)
	sa := strict.login("admin", adminPW)
	strict.must(http.StatusCreated, "POST", "/api/v1/projects", sa, createProjectRequest{Name: "team"}, nil)
	code, b, _ := strict.call("POST", "/api/v1/projects/team/webhooks", sa, createWebhookRequest{URL: rcv.URL})
	if code != http.StatusBadRequest || !strings.Contains(string(b), "loopback") {
		t.Fatalf("loopback webhook: %d %s; want 400 naming loopback", code, b)
	}

	e := newTestEnv(t, func(c *Config) { c.Webhooks.AllowInternal = true })
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	code, b, _ = e.call("POST", "/api/v1/projects/team/webhooks", admin, createWebhookRequest{URL: rcv.URL, Events: []string{"nonsense"}})
	if code != http.StatusBadRequest || !strings.Contains(string(b), "unknown event") {
		t.Errorf("bad event kind: %d %s", code, b)
	}
	var h webhookJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/team/webhooks", admin, createWebhookRequest{URL: rcv.URL + "/hook", Events: []string{"push", "delete"}}, &h)
	if len(h.Secret) != 64 || h.Project != "team" {
		t.Fatalf("created %+v: want a generated secret", h)
	}
	mu.Lock()
	secret = h.Secret
	mu.Unlock()
	var list []webhookJSON
	e.must(http.StatusOK, "GET", "/api/v1/projects/team/webhooks", admin, nil, &list)
	if len(list) != 1 || list[0].Secret != "" || list[0].URL != rcv.URL+"/hook" {
		t.Errorf("list %+v: want the hook without its secret", list)
	}

	if _, err := e.push("team/app:v1", &authn.Basic{Username: "admin", Password: adminPW}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery within 15s (refused: %v)", bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	ev := got[0].Event
	mu.Unlock()
	if ev.Kind != events.KindPush || ev.Repo != "team/app" || ev.Tag != "v1" || ev.Actor != "admin" {
		t.Errorf("delivered %+v", ev)
	}
	var ds []deliveryJSON
	e.must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/projects/team/webhooks/%d/deliveries", h.ID), admin, nil, &ds)
	if len(ds) == 0 || ds[0].Event != "push" {
		t.Errorf("deliveries %+v", ds)
	}
	// Another project's path does not reach this hook.
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "other"}, nil)
	if code, _, _ := e.call("DELETE", fmt.Sprintf("/api/v1/projects/other/webhooks/%d", h.ID), admin, nil); code != http.StatusNotFound {
		t.Errorf("delete through another project: %d, want 404", code)
	}
	e.must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/projects/team/webhooks/%d", h.ID), admin, nil, nil)
}
