package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestTokenFlowWithRealClient(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "pub", Public: true}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "priv"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "dev", Password: "dev-password"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/priv/members/dev", admin, setMemberRequest{Role: "developer"}, nil)
	var ci robotJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/priv/robots", admin, createRobotRequest{Name: "ci", Permissions: []string{"pull", "push"}}, &ci)
	devToken := strings.TrimPrefix(e.login("dev", "dev-password"), "Bearer ")

	for _, tc := range []struct {
		name string
		auth authn.Authenticator
	}{
		{"password", &authn.Basic{Username: "dev", Password: "dev-password"}},
		{"API token as password", &authn.Basic{Username: "dev", Password: devToken}},
		{"robot", &authn.Basic{Username: ci.Name, Password: ci.Secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := "priv/" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-") + ":v1"
			if _, err := e.push(repo, tc.auth); err != nil {
				t.Fatalf("push: %v", err)
			}
			if err := e.pull(repo, tc.auth); err != nil {
				t.Fatalf("pull: %v", err)
			}
		})
	}

	// Anonymous pull works for the public project only.
	if _, err := e.push("pub/app:v1", &authn.Basic{Username: "admin", Password: adminPW}); err != nil {
		t.Fatal(err)
	}
	if err := e.pull("pub/app:v1", authn.Anonymous); err != nil {
		t.Errorf("anonymous pull of a public project: %v", err)
	}
	err := e.pull("priv/password:v1", authn.Anonymous)
	if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("anonymous pull of a private project: %v; want UNAUTHORIZED", err)
	}
	// Anonymous push to the public project is refused.
	if _, err := e.push("pub/other:v1", authn.Anonymous); err == nil {
		t.Error("anonymous push to a public project succeeded")
	}
	// A wrong password fails at the token service with 401.
	_, err = e.push("priv/x:v1", &authn.Basic{Username: "dev", Password: "wrong-password"})
	if err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Errorf("wrong password: %v", err)
	}
	// The robot cannot push to the public project (another project).
	if _, err := e.push("pub/robot:v1", &authn.Basic{Username: ci.Name, Password: ci.Secret}); err == nil || !strings.Contains(err.Error(), "DENIED") {
		t.Errorf("robot push to another project: %v; want DENIED", err)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.Auth.LoginFailureBurst = 3
		c.Auth.LoginFailuresPerMinute = 1
	})
	for i := range 3 {
		code, b, _ := e.call("POST", "/api/v1/login", "", loginRequest{Username: "admin", Password: "Wr0ngPassw0rd"})
		if code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, code, b)
		}
	}
	code, b, h := e.call("POST", "/api/v1/login", "", loginRequest{Username: "admin", Password: adminPW})
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !isOCIError(b, "TOOMANYREQUESTS") {
		t.Fatalf("after 3 failures the right password got %d (Retry-After %q) %s; want 429", code, h.Get("Retry-After"), b)
	}
	// The token service and Basic on /v2/ share the limit.
	code, _, _ = e.call("GET", "/service/token?scope=repository:x/y:pull", basicAuth("admin", adminPW), nil)
	if code != http.StatusTooManyRequests {
		t.Errorf("token service: %d, want 429", code)
	}
	code, _, h = e.call("GET", "/v2/x/y/tags/list", basicAuth("admin", adminPW), nil)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("/v2/ with Basic: %d, want 429 with Retry-After", code)
	}
	if strings.Contains(e.logs.String(), "Wr0ngPassw0rd") || strings.Contains(e.logs.String(), adminPW) {
		t.Error("a password appears in the log")
	}
}

// FuzzAuthorizationHeader sends arbitrary Authorization headers through
// the whole server: never a 5xx, and never a successful push into a
// private project.
func FuzzAuthorizationHeader(f *testing.F) {
	e := newTestEnv(f)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "priv"}, nil)
	_, b, _ := e.call("GET", "/service/token?scope=repository:priv/app:pull,push", basicAuth("admin", adminPW), nil)
	var tok struct{ Token string }
	_ = jsonUnmarshal(b, &tok)
	for _, s := range []string{"", "Bearer " + tok.Token, "Bearer " + tok.Token[:len(tok.Token)-2], "Basic !!!", "Basic " + basicAuth("a", "b")[6:],
		"Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "bearer " + tok.Token, "Bearer swt_" + strings.Repeat("x", 43), "Negotiate x"} {
		f.Add(s)
	}
	body := []byte("x")
	sum := sha256.Sum256(body)
	path := "/v2/priv/app/blobs/uploads/?digest=sha256:" + hex.EncodeToString(sum[:])
	f.Fuzz(func(t *testing.T, h string) {
		if strings.ContainsAny(h, "\r\n\x00") {
			return // not a header value net/http would deliver
		}
		r := httptest.NewRequest("POST", path, bytes.NewReader(body))
		r.Header.Set("Authorization", h)
		r.RemoteAddr = "192.0.2.9:1"
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("Authorization %q: %d %s", h, w.Code, w.Body)
		}
		if w.Code < 300 && h != "Bearer "+tok.Token && h != "bearer "+tok.Token {
			t.Fatalf("Authorization %q pushed into a private project: %d", h, w.Code)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	// Start a monolithic blob upload whose body arrives slowly.
	content := bytes.Repeat([]byte("seawall "), 64<<10)
	sum := sha256.Sum256(content)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/v2/team/app/blobs/uploads/?digest=sha256:"+hex.EncodeToString(sum[:]), pr)
	req.ContentLength = int64(len(content))
	req.Header.Set("Authorization", basicAuth("admin", adminPW))
	respc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		respc <- resp
	}()
	if _, err := pw.Write(content[:1000]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the request is in flight
	cancel()                           // SIGTERM
	time.Sleep(100 * time.Millisecond)
	// New connections are refused while the in-flight request finishes.
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the server still accepts connections after shutdown began")
	}
	if _, err := pw.Write(content[1000:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case resp := <-respc:
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("in-flight upload: %d %s", resp.StatusCode, b)
		}
	case err := <-errc:
		t.Fatalf("in-flight upload failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight upload did not finish")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	// The blob is there.
	code, _, _ := e.call("HEAD", "/v2/team/app/blobs/sha256:"+hex.EncodeToString(sum[:]), basicAuth("admin", adminPW), nil)
	if code != http.StatusOK {
		t.Errorf("blob after shutdown: %d", code)
	}
}

func TestMetrics(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "dev", Password: "dev-password"}, nil)
	basic := &authn.Basic{Username: "admin", Password: adminPW}
	if _, err := e.push("team/app:v1", basic); err != nil {
		t.Fatal(err)
	}
	if err := e.pull("team/app:v1", basic); err != nil {
		t.Fatal(err)
	}
	if code, _, h := e.call("GET", "/metrics", "", nil); code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous /metrics: %d", code)
	}
	if code, _, _ := e.call("GET", "/metrics", e.login("dev", "dev-password"), nil); code != http.StatusForbidden {
		t.Errorf("non-admin /metrics: %d", code)
	}
	code, b, _ := e.call("GET", "/metrics", admin, nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, b)
	}
	text := string(b)
	for _, want := range []string{
		`seawall_http_requests_total{code="201",method="PUT",route="/v2/{name}/manifests/{reference}"} 1`,
		`seawall_http_requests_total{code="201",method="POST",route="POST /api/v1/projects"} 1`,
		`seawall_http_request_duration_seconds_bucket{method="GET",route="/v2/{name}/blobs/{digest}",le="+Inf"}`,
		`seawall_registry_active_uploads 0`,
		`seawall_http_requests_in_flight 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, name := range []string{"seawall_registry_bytes_pushed_total", "seawall_registry_bytes_pulled_total"} {
		var v float64
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, name+" ") {
				fmt.Sscanf(strings.TrimPrefix(line, name+" "), "%g", &v)
			}
		}
		if v < 1024 {
			t.Errorf("%s = %v, want the image's bytes", name, v)
		}
	}
	if strings.Contains(text, "team/app") {
		t.Error("a repository name leaked into a metric label")
	}
	// With metrics.anonymous, anyone may scrape.
	e2 := newTestEnv(t, func(c *Config) { c.Metrics.Anonymous = true })
	if code, _, _ := e2.call("GET", "/metrics", "", nil); code != http.StatusOK {
		t.Errorf("anonymous /metrics with metrics.anonymous: %d", code)
	}
}

func TestHealth(t *testing.T) {
	e := newTestEnv(t)
	if code, _, _ := e.call("GET", "/healthz", "", nil); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	if code, b, _ := e.call("GET", "/readyz", "", nil); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, b)
	}
	// Blob storage that takes no writes makes the server unready.
	uploads := filepath.Join(e.srv.cfg.DataDir, "uploads")
	if err := os.Rename(uploads, uploads+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(uploads, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, b, _ := e.call("GET", "/readyz", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(b), `"blobs":"failing"`) {
		t.Errorf("/readyz with unwritable blobs: %d %s", code, b)
	}
	os.Remove(uploads)
	os.Rename(uploads+".away", uploads)
	// A closed store makes it unready too.
	e.srv.Store().Close()
	code, b, _ = e.call("GET", "/readyz", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(b), `"store":"failing"`) {
		t.Errorf("/readyz with a closed store: %d %s", code, b)
	}
	if strings.Contains(string(b), e.srv.cfg.DataDir) {
		t.Error("/readyz shows internal paths")
	}
}

func TestFirstStartAdmin(t *testing.T) {
	dir := t.TempDir()
	var console bytes.Buffer
	logs := &bytes.Buffer{}
	cfg := Default()
	cfg.DataDir = dir
	cfg.Console = &console
	srv, err := New(context.Background(), cfg, newBufLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	out := console.String()
	i := strings.Index(out, "generated password:\n\n      ")
	if i < 0 {
		t.Fatalf("console does not show the generated password:\n%s", out)
	}
	pw := strings.Fields(out[i+len("generated password:"):])[0]
	if len(pw) < 16 || strings.Contains(logs.String(), pw) {
		t.Errorf("password %q too short or logged", pw)
	}
	if _, err := srv.Auth().Login(context.Background(), "admin", pw, "127.0.0.1"); err != nil {
		t.Errorf("generated password does not log in: %v", err)
	}
	srv.Close()
	// The key file is private.
	if fi, err := os.Stat(filepath.Join(dir, "keys", "token-signing.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("signing key: %v %v", fi, err)
	}
	// A second start prints nothing and keeps the password.
	console.Reset()
	srv, err = New(context.Background(), cfg, newBufLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if console.Len() != 0 {
		t.Errorf("second start printed %q", console.String())
	}
	if _, err := srv.Auth().Login(context.Background(), "admin", pw, "127.0.0.1"); err != nil {
		t.Errorf("password changed on restart: %v", err)
	}
}

func TestPlainHTTPWarningAndTLS(t *testing.T) {
	// Plain HTTP on every interface logs a loud warning.
	e := newTestEnv(t)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on 0.0.0.0: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if !strings.Contains(e.logs.String(), "PLAIN HTTP ON A NON-LOOPBACK ADDRESS") {
		t.Error("no warning for plain HTTP on a non-loopback address")
	}

	// TLS when a certificate and key are given.
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	e2 := newTestEnv(t, func(c *Config) { c.TLS.Cert, c.TLS.Key = certFile, keyFile })
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- e2.srv.Serve(ctx2, ln2) }()
	defer func() { cancel2(); <-done2 }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + ln2.Addr().String() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="https://`) {
		t.Errorf("TLS /v2/: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS header over TLS")
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestMiddleware(t *testing.T) {
	e := newTestEnv(t)
	// Security headers and request IDs on every response.
	code, _, h := e.call("GET", "/healthz", "", nil)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	for _, k := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "X-Request-ID"} {
		if h.Get(k) == "" {
			t.Errorf("no %s header", k)
		}
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "abc-123" {
		t.Errorf("request ID not kept: %q", resp.Header.Get("X-Request-ID"))
	}
	// A panic becomes a 500 with a generic JSON body.
	h2 := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internal detail") }), e.srv.middleware())
	w := httptest.NewRecorder()
	h2.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "secret internal detail") || !isOCIError(w.Body.Bytes(), "UNKNOWN") {
		t.Errorf("panic: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(e.logs.String(), "secret internal detail") {
		t.Error("the panic is not logged")
	}
	// Unknown endpoints get a JSON 404.
	if code, b, _ := e.call("GET", "/nope", "", nil); code != http.StatusNotFound || !isOCIError(b, "NOT_FOUND") {
		t.Errorf("unknown endpoint: %d %s", code, b)
	}
	// Credentials never reach the access log.
	e.call("GET", "/v2/", basicAuth("admin", adminPW), nil)
	if strings.Contains(e.logs.String(), adminPW) || strings.Contains(e.logs.String(), basicAuth("admin", adminPW)[6:]) {
		t.Error("credentials in the log")
	}
}
