package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// The client side of the server API: where credentials are kept, how
// commands find their server, and one small JSON client.

// credentials is $XDG_CONFIG_HOME/seawall/credentials.json: an API token
// per server, and the server of the last login.
type credentials struct {
	Current string                 `json:"current,omitempty"`
	Servers map[string]serverCreds `json:"servers"`
}

type serverCreds struct {
	Username  string    `json:"username"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	Insecure  bool      `json:"insecure,omitempty"`
}

func credentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory for credentials: %w (set XDG_CONFIG_HOME)", err)
	}
	return filepath.Join(dir, "seawall", "credentials.json"), nil
}

func loadCredentials() (*credentials, string, error) {
	path, err := credentialsPath()
	if err != nil {
		return nil, "", err
	}
	c := &credentials{Servers: map[string]serverCreds{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("reading credentials: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, path, fmt.Errorf("credentials file %s is corrupt (%v): delete it and log in again", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]serverCreds{}
	}
	return c, path, nil
}

// save writes the file with mode 0600, atomically.
func (c *credentials) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*.json")
	if err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving credentials: %w", err)
	}
	return nil
}

// normalizeServer turns "host:port" or a URL into "scheme://host[:port]".
// Without a scheme, loopback hosts get http and others https.
func normalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", usagef("no server given: pass a URL such as https://registry.example.com")
	}
	if !strings.Contains(s, "://") {
		host := s
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host = host[:i]
		}
		scheme := "https"
		h := host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			h = hh
		}
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			scheme = "http"
		}
		s = scheme + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("server %q: want a URL such as https://registry.example.com or 127.0.0.1:5000", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// serverFlags are --server and --insecure, for the commands that talk to
// a Seawall server.
type serverFlags struct {
	server   string
	insecure bool
}

func (f *serverFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", os.Getenv("SEAWALL_SERVER"), "Seawall server URL (default: the last `seawall login`; or SEAWALL_SERVER)")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
}

// client returns an API client for the chosen server with its stored token.
func (f *serverFlags) client() (*apiClient, error) {
	creds, _, err := loadCredentials()
	if err != nil {
		return nil, err
	}
	server := f.server
	if server == "" {
		server = creds.Current
	}
	if server == "" {
		return nil, errors.New("not logged in to any server: run `seawall login SERVER` first (or pass --server)")
	}
	server, err = normalizeServer(server)
	if err != nil {
		return nil, err
	}
	sc, ok := creds.Servers[server]
	if !ok {
		return nil, fmt.Errorf("not logged in to %s: run `seawall login %s` first", server, server)
	}
	if !sc.ExpiresAt.IsZero() && time.Now().After(sc.ExpiresAt) {
		return nil, fmt.Errorf("your login to %s expired at %s: run `seawall login %s` again", server, sc.ExpiresAt.Local().Format(time.RFC3339), server)
	}
	return newAPIClient(server, sc.Token, f.insecure || sc.Insecure), nil
}

// apiClient calls the server's /api/v1.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, token string, insecure bool) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	return &apiClient{base: base, token: token, http: &http.Client{Transport: tr}}
}

// apiError is an error answer from the server.
type apiError struct {
	Status  int
	Code    string
	Message string
	server  string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += fmt.Sprintf("; log in again with `seawall login %s`", e.server)
	case http.StatusTooManyRequests:
		msg += "; wait before trying again"
	}
	return msg
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("cannot reach %s: %w (is the server running, and the URL right?)", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("reading the answer from %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		return c.apiErr(resp.StatusCode, b, path)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("unexpected answer from %s%s: %w", c.base, path, err)
		}
	}
	return nil
}

// readSecret reads a password: all of stdin with fromStdin (one trailing
// newline dropped), else a prompt on the terminal without echo.
func readSecret(e *env, prompt string, fromStdin bool) (string, error) {
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
		if err != nil {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if s == "" {
			return "", usagef("--password-stdin: stdin was empty")
		}
		return s, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no terminal to ask for the password on: pipe it in with --password-stdin")
	}
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}

// readLine prompts for one line on a terminal.
func readLine(e *env, prompt string) (string, error) {
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no terminal to ask on: pass --username")
	}
	fmt.Fprint(e.stderr, prompt)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the user name: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// parseExpiry reads "30d", "12h", "90m" or "never" (0).
func parseExpiry(s string) (time.Duration, error) {
	switch s {
	case "never", "0", "":
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days <= 0 || fmt.Sprint(days) != n {
			return 0, usagef("--expires %q: want days (30d), a duration (12h) or never", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("--expires %q: want days (30d), a duration (12h) or never", s)
	}
	return d, nil
}

// formatFlag is --format table|json for listing commands.
type formatFlag struct{ value string }

func (f *formatFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.value, "format", "table", "output format: table or json")
}

func (f *formatFlag) check() error {
	if f.value != "table" && f.value != "json" {
		return usagef("unknown --format %q: choose table or json", f.value)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// apiErr is the error for an API answer with status >= 300 and body b to
// a request for path: the server's first OCI-style error, or, when the
// body holds none, a note that this may not be a Seawall server.
func (c *apiClient) apiErr(status int, b []byte, path string) error {
	var eb struct {
		Errors []struct{ Code, Message string }
	}
	ae := &apiError{Status: status, server: c.base}
	if json.Unmarshal(b, &eb) == nil && len(eb.Errors) > 0 {
		ae.Code, ae.Message = eb.Errors[0].Code, eb.Errors[0].Message
	} else {
		ae.Code, ae.Message = http.StatusText(status), fmt.Sprintf("unexpected answer from %s%s (is this a Seawall server?)", c.base, path)
	}
	return ae
}
