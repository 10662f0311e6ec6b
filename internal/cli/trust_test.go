package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/audit"
	"github.com/seawall-dev/seawall/internal/server"
)

// regexpSecret matches a generated webhook secret on its own line.
var regexpSecret = regexp.MustCompile(`(?m)^[0-9a-f]{64}$`)

// TestAuditAndWebhookCommands runs `seawall audit`, `seawall audit
// verify` and `seawall webhook …` against a real server; then it changes
// one byte of one entry in the server's SQLite file and `audit verify`
// fails, naming the entry — through the API and with --data.
func TestAuditAndWebhookCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SEAWALL_SERVER", "")
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = "admin-password"
	cfg.Console = io.Discard
	cfg.Webhooks.AllowInternal = true
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rcv.Close()

	if code, out, errs := runIn(t, "admin-password\n", "login", ts.URL, "--username", "admin", "--password-stdin"); code != ExitOK {
		t.Fatalf("login: %d %s %s", code, out, errs)
	}
	runIn(t, "", "project", "create", "team")
	runIn(t, "", "project", "create", "other")

	// Webhooks.
	code, out, errs := runIn(t, "", "webhook", "add", "team", rcv.URL+"/hook", "--events", "push,verdict-change")
	if code != ExitOK || !strings.Contains(out, "Added webhook 1 for project team") || !regexpSecret.MatchString(out) {
		t.Fatalf("webhook add: %d %q %q", code, out, errs)
	}
	code, out, _ = runIn(t, "", "webhook", "list", "team")
	if code != ExitOK || !strings.Contains(out, rcv.URL+"/hook") || !strings.Contains(out, "push,verdict-change") {
		t.Errorf("webhook list: %d %q", code, out)
	}
	code, _, errs = runIn(t, "", "webhook", "add", rcv.URL)
	if code != ExitUsage || !strings.Contains(errs, "--server-wide") {
		t.Errorf("add without project: %d %q", code, errs)
	}
	code, _, errs = runIn(t, "", "webhook", "add", "team", "ftp://x/")
	if code != ExitError || !strings.Contains(errs, "http or https") {
		t.Errorf("add ftp: %d %q", code, errs)
	}
	code, out, _ = runIn(t, "", "webhook", "deliveries", "team", "1")
	if code != ExitOK || !strings.Contains(out, "STATE") {
		t.Errorf("deliveries: %d %q", code, out)
	}
	if code, out, errs = runIn(t, "", "webhook", "rm", "other", "1"); code != ExitError {
		t.Errorf("rm through another project: %d %q %q", code, out, errs)
	}
	if code, out, _ = runIn(t, "", "webhook", "rm", "team", "1"); code != ExitOK {
		t.Errorf("rm: %d %q", code, out)
	}

	// The audit log: the login and the project settings are there.
	code, out, errs = runIn(t, "", "audit", "--since", "1h")
	if code != ExitOK {
		t.Fatalf("audit: %d %s", code, errs)
	}
	var es []audit.Entry
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var en audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		es = append(es, en)
	}
	if len(es) == 0 || es[0].Kind != "login" || es[0].Actor != "admin" {
		t.Fatalf("audit entries %+v: want the login first", es)
	}
	if code, _, errs = runIn(t, "", "audit", "--since", "last tuesday"); code != ExitUsage {
		t.Errorf("bad --since: %d %s", code, errs)
	}
	code, out, _ = runIn(t, "", "audit", "verify")
	if code != ExitOK || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %d %q", code, out)
	}

	// Tamper: one byte of the first entry's actor.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "seawall.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'admim' WHERE seq = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"audit", "verify"}, {"audit", "verify", "--data", cfg.DataDir}} {
		code, out, _ = runIn(t, "", args...)
		if code != ExitError || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "entry 1:") || !strings.Contains(out, `"admim"`) {
			t.Errorf("%v after tampering: %d %q; want exit 1 naming entry 1", args, code, out)
		}
	}
	code, out, _ = runIn(t, "", "audit", "verify", "--format", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.OK || rep.FirstBad.Seq != 1 || code != ExitError {
		t.Errorf("verify --format json: %d %q", code, out)
	}
}
