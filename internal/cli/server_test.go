package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/server"
)

// runIn runs the command line with stdin.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = "admin-password"
	cfg.Console = io.Discard
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts
}

func TestServerCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SEAWALL_SERVER", "")
	ts := startServer(t)
	host := strings.TrimPrefix(ts.URL, "http://")

	// Not logged in yet.
	code, _, stderr := runIn(t, "", "project", "list")
	if code != ExitError || !strings.Contains(stderr, "seawall login") {
		t.Errorf("before login: %d %s", code, stderr)
	}
	// A wrong password.
	code, _, stderr = runIn(t, "nope\n", "login", host, "--username", "admin", "--password-stdin")
	if code != ExitError || !strings.Contains(stderr, "wrong user name or password") {
		t.Errorf("wrong password: %d %s", code, stderr)
	}
	// No terminal and no --password-stdin.
	code, _, stderr = runIn(t, "", "login", host, "--username", "admin")
	if code != ExitUsage || !strings.Contains(stderr, "--password-stdin") {
		t.Errorf("no terminal: %d %s", code, stderr)
	}
	code, stdout, stderr := runIn(t, "admin-password\n", "login", host, "--username", "admin", "--password-stdin")
	if code != ExitOK || !strings.Contains(stdout, "Logged in to "+ts.URL+" as admin (system admin)") {
		t.Fatalf("login: %d %s %s", code, stdout, stderr)
	}
	credFile := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "seawall", "credentials.json")
	fi, err := os.Stat(credFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(credFile)
	if strings.Contains(string(b), "admin-password") || !strings.Contains(string(b), "swt_") {
		t.Errorf("credentials file holds %s", b)
	}

	steps := []struct {
		stdin string
		args  []string
		code  int
		want  string // in stdout (or stderr on failure)
	}{
		{"", []string{"whoami"}, ExitOK, "admin (system admin) on " + ts.URL},
		{"", []string{"project", "create", "team"}, ExitOK, "Created private project team"},
		{"", []string{"project", "create", "library", "--public"}, ExitOK, "Created public project library"},
		{"", []string{"project", "create", "team"}, ExitError, "already exists"},
		{"", []string{"project", "create", "Bad_Name"}, ExitError, "lowercase"},
		{"", []string{"project", "list"}, ExitOK, "library  public"},
		{"alice-password\n", []string{"user", "create", "alice", "--password-stdin"}, ExitOK, "Created user alice"},
		{"", []string{"member", "add", "team", "alice", "--role", "developer"}, ExitOK, "alice is now developer in project team"},
		{"", []string{"member", "add", "team", "alice", "--role", "owner"}, ExitUsage, "unknown role owner"},
		{"", []string{"member", "add", "team", "nobody", "--role", "guest"}, ExitError, "does not exist"},
		{"", []string{"member", "list", "team"}, ExitOK, "alice  developer"},
		{"", []string{"robot", "create", "team", "ci", "--permissions", "pull,push", "--expires", "30d"}, ExitOK, "robot        robot$team+ci"},
		{"", []string{"robot", "create", "team", "x", "--permissions", "admin"}, ExitUsage, "unknown permission"},
		{"", []string{"robot", "create", "team", "x", "--permissions", "pull", "--expires", "soon"}, ExitUsage, "--expires"},
		{"", []string{"robot", "list", "team"}, ExitOK, "robot$team+ci  pull,push"},
		{"", []string{"project", "set", "team", "--public=true"}, ExitOK, "team is public"},
		{"", []string{"project", "set", "team", "--public=false"}, ExitOK, "team is private"},
		{"", []string{"gc", "--dry-run"}, ExitOK, "would delete 0 blobs"},
		{"", []string{"gc"}, ExitOK, "deleted 0 blobs"},
		{"", []string{"user", "list", "--format", "json"}, ExitOK, `"username": "alice"`},
	}
	var robotSecret string
	for _, s := range steps {
		code, stdout, stderr := runIn(t, s.stdin, s.args...)
		out := stdout
		if s.code != ExitOK {
			out = stderr
		}
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("seawall %s: exit %d, want %d; want %q in\n%s%s", strings.Join(s.args, " "), code, s.code, s.want, stdout, stderr)
		}
		if s.args[0] == "robot" && s.args[1] == "create" && code == ExitOK {
			robotSecret = regexp.MustCompile(`secret\s+(\S+)`).FindStringSubmatch(stdout)[1]
		}
	}

	// The robot's secret works with a registry client, and revocation stops it.
	ref, _ := name.ParseReference(host+"/team/app:v1", name.Insecure)
	img, _ := random.Image(256, 1)
	robot := &authn.Basic{Username: "robot$team+ci", Password: robotSecret}
	if err := remote.Write(ref, img, remote.WithAuth(robot)); err != nil {
		t.Fatalf("push as the robot: %v", err)
	}
	if code, stdout, stderr := runIn(t, "", "robot", "revoke", "team", "ci"); code != ExitOK {
		t.Fatalf("revoke: %d %s %s", code, stdout, stderr)
	}
	if _, err := remote.Image(ref, remote.WithAuth(robot)); err == nil {
		t.Error("a revoked robot could still pull")
	}
	if _, stdout, _ := runIn(t, "", "robot", "list", "team"); !strings.Contains(stdout, "revoked") {
		t.Errorf("robot list after revoke:\n%s", stdout)
	}

	// Alice logs in too (now the current server's login is hers) and may
	// not create users; the message says so.
	if code, _, stderr := runIn(t, "alice-password", "login", ts.URL, "-u", "alice", "--password-stdin"); code != ExitOK {
		t.Fatalf("alice login: %s", stderr)
	}
	code, _, stderr = runIn(t, "pw-pw-pw-pw\n", "user", "create", "bob", "--password-stdin")
	if code != ExitError || !strings.Contains(stderr, "only a system admin") {
		t.Errorf("alice creating a user: %d %s", code, stderr)
	}
	code, _, stderr = runIn(t, "", "robot", "list", "team")
	if code != ExitError || !strings.Contains(stderr, "does not allow") {
		t.Errorf("developer listing robots: %d %s", code, stderr)
	}
	// Logout revokes the token; the next command asks to log in.
	if code, _, stderr := runIn(t, "", "logout"); code != ExitOK {
		t.Fatalf("logout: %s", stderr)
	}
	code, _, stderr = runIn(t, "", "whoami", "--server", ts.URL)
	if code != ExitError || !strings.Contains(stderr, "seawall login") {
		t.Errorf("after logout: %d %s", code, stderr)
	}
	var creds credentials
	b, _ = os.ReadFile(credFile)
	if err := json.Unmarshal(b, &creds); err != nil || len(creds.Servers) != 0 {
		t.Errorf("credentials after logout: %s", b)
	}
}

func TestServeCommand(t *testing.T) {
	// Find a free port; the race with another process is acceptable here.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("SEAWALL_ADMIN_PASSWORD", "")
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--addr", addr, "--data", data}, strings.NewReader(""), &out, &errb)
	}()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server did not come up: %v\n%s", err, errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("serve exited %d after SIGTERM:\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	log := errb.String()
	if !strings.Contains(log, `Seawall created the first user "admin"`) || !strings.Contains(log, "msg=\"seawall serving\"") {
		t.Errorf("serve output:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(data, "seawall.db")); err != nil {
		t.Error(err)
	}

	// Bad settings are a usage error naming the setting.
	code, _, stderr := runIn(t, "", "serve", "--addr", "nonsense", "--data", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "addr:") {
		t.Errorf("bad --addr: %d %s", code, stderr)
	}
	code, _, stderr = runIn(t, "", "serve", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != ExitError || !strings.Contains(stderr, "config file") {
		t.Errorf("missing --config: %d %s", code, stderr)
	}
}

func TestNormalizeServer(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000":               "http://127.0.0.1:5000",
		"localhost:5000/":              "http://localhost:5000",
		"registry.example.com":         "https://registry.example.com",
		"http://registry.example.com/": "http://registry.example.com",
		"https://r.example:8443/x":     "https://r.example:8443",
	} {
		got, err := normalizeServer(in)
		if err != nil || got != want {
			t.Errorf("normalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "https://"} {
		if _, err := normalizeServer(bad); err == nil {
			t.Errorf("normalizeServer(%q) accepted", bad)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "never": 0, "0": 0} {
		if got, err := parseExpiry(in); err != nil || got != want {
			t.Errorf("parseExpiry(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"d", "-1d", "3x", "1.5d", "-5m"} {
		if _, err := parseExpiry(bad); err == nil {
			t.Errorf("parseExpiry(%q) accepted", bad)
		}
	}
}
