package server

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/seawall-dev/seawall/internal/auth"
)

// rawResponse is what a raw request got back; status 0 means the server
// closed the connection without answering.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// rawRequest sends one request over a fresh connection exactly as given:
// the path is not cleaned or re-escaped, and the Content-Length header is
// whatever hdr says (set from the body when hdr has none and noLength is
// false). With hangUp, the write side is closed after the body, so a body
// shorter than its Content-Length ends early, as when a client hangs up.
func rawRequest(t *testing.T, host, method, path string, hdr []string, body []byte, noLength, hangUp bool) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
	hasLength := false
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
		hasLength = hasLength || strings.EqualFold(hdr[i], "Content-Length") || strings.EqualFold(hdr[i], "Transfer-Encoding")
	}
	if !hasLength && !noLength {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	go func() {
		conn.Write(b.Bytes())
		if hangUp {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return rawResponse{}
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: rb}
}

// chunked encodes body with chunked transfer encoding.
func chunked(body []byte) []byte {
	var b bytes.Buffer
	for len(body) > 0 {
		n := min(len(body), 32<<10)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// ociErrorCode returns the first error code of an OCI error body, or "".
func ociErrorCode(b []byte) string {
	var eb struct{ Errors []struct{ Code string } }
	if json.Unmarshal(b, &eb) != nil || len(eb.Errors) == 0 {
		return ""
	}
	return eb.Errors[0].Code
}

// TestHostileRequests sends the full server, auth on, requests a hostile
// client would: path traversal in repository names, bad digests, lying
// Content-Length headers, huge manifests, uploads into someone else's
// session and malformed or forged JWTs. Each gets the spec's status and
// error code, never a 5xx, and none changes anything it should not.
func TestHostileRequests(t *testing.T) {
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	for _, p := range []string{"priv", "other"} {
		e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: p}, nil)
	}
	for _, u := range []struct{ name, project string }{{"dev", "priv"}, {"eve", "other"}} {
		e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: u.name, Password: u.name + "-password"}, nil)
		e.must(http.StatusOK, "PUT", "/api/v1/projects/"+u.project+"/members/"+u.name, admin, setMemberRequest{Role: "developer"}, nil)
	}
	dev, eve := basicAuth("dev", "dev-password"), basicAuth("eve", "eve-password")

	// A pushed image to aim at, and an upload session of each user.
	img, err := e.push("priv/app:v1", &authn.Basic{Username: "dev", Password: "dev-password"})
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := img.RawManifest()
	mediaType, _ := img.MediaType()
	layers, _ := img.Layers()
	layerDigest, _ := layers[0].Digest()
	startUpload := func(repo, authz string) (location, id string) {
		r := rawRequest(t, e.host, "POST", "/v2/"+repo+"/blobs/uploads/", []string{"Authorization", authz}, nil, false, false)
		if r.status != http.StatusAccepted {
			t.Fatalf("start upload in %s: %d %s %v", repo, r.status, r.body, r.header)
		}
		location = r.header.Get("Location")
		return location, location[strings.LastIndex(location, "/")+1:]
	}
	devUpload, _ := startUpload("priv/app", dev)
	eveUpload, eveID := startUpload("other/app", eve)

	// Registry tokens: a real one for priv/app, and forgeries built from
	// its claims.
	var tok struct{ Token string }
	r := rawRequest(t, e.host, "GET", "/service/token?service="+e.host+"&scope=repository:priv/app:pull,push", []string{"Authorization", dev}, nil, false, false)
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token service: %d %s", r.status, r.body)
	}
	var real auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok.Token, &real); err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadOrCreateKey(filepath.Join(e.srv.cfg.DataDir, "keys", "token-signing.pem"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	forge := func(method jwt.SigningMethod, signKey any, mutate func(*auth.Claims)) string {
		c := real
		c.Access = append([]auth.Scope(nil), real.Access...)
		if mutate != nil {
			mutate(&c)
		}
		s, err := jwt.NewWithClaims(method, c).SignedString(signKey)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	past := jwt.NewNumericDate(time.Now().Add(-time.Hour))
	noneToken, _ := jwt.NewWithClaims(jwt.SigningMethodNone, real).SignedString(jwt.UnsafeAllowNoneSignatureType)

	h64 := strings.Repeat("ab", 32)
	hugeManifest := append(append([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":"`),
		bytes.Repeat([]byte("a"), 4<<20)...), `"}}`...)
	ociCT := []string{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}
	with := func(hdr ...[]string) []string {
		var out []string
		for _, h := range hdr {
			out = append(out, h...)
		}
		return out
	}
	authz := func(a string) []string { return []string{"Authorization", a} }

	tests := []struct {
		name     string
		method   string
		path     string
		hdr      []string
		body     []byte
		noLength bool // send no Content-Length (the body says how long it is, or there is none)
		status   int  // 0: the client hangs up mid-body; any 4xx or no answer
		code     string
	}{
		// Path traversal in repository names: refused as names, never
		// cleaned or redirected to another repository.
		{"dot-dot in name", "GET", "/v2/priv/../other/app/tags/list", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"dot-dot push", "PUT", "/v2/priv/../other/app/manifests/v1", with(authz(dev), ociCT), manifest, false, 400, "NAME_INVALID"},
		{"escaped dot-dot", "GET", "/v2/priv/%2e%2e/other/app/tags/list", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"escaped slashes", "GET", "/v2/priv/app%2F..%2F..%2Fother/tags/list", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"leading dot-dot", "GET", "/v2/..%2f..%2fetc/passwd/tags/list", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"double slash", "GET", "/v2/priv//app/manifests/v1", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"dot segment", "GET", "/v2/priv/./app/manifests/v1", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"NUL in name", "GET", "/v2/priv/app%00/tags/list", authz(dev), nil, false, 400, "NAME_INVALID"},
		{"anonymous dot-dot", "GET", "/v2/other/../priv/app/manifests/v1", nil, nil, false, 400, "NAME_INVALID"},
		{"digest traversal", "GET", "/v2/priv/app/blobs/sha256:..%2F..%2F..%2Fseawall.db", authz(dev), nil, false, 404, "UNSUPPORTED"},
		{"upload id traversal", "PATCH", "/v2/priv/app/blobs/uploads/..%2F..%2Fseawall.db", authz(dev), []byte("x"), false, 404, "UNSUPPORTED"},
		{"upload id dot-dot", "PUT", "/v2/priv/app/blobs/uploads/..?digest=sha256:" + h64, authz(dev), nil, false, 404, "BLOB_UPLOAD_UNKNOWN"},

		// Bad digests.
		{"blob digest not hex", "GET", "/v2/priv/app/blobs/sha256:zz", authz(dev), nil, false, 400, "DIGEST_INVALID"},
		{"blob digest short", "GET", "/v2/priv/app/blobs/sha256:" + h64[:10], authz(dev), nil, false, 400, "DIGEST_INVALID"},
		{"blob digest algorithm", "GET", "/v2/priv/app/blobs/md5:" + h64[:32], authz(dev), nil, false, 400, "DIGEST_INVALID"},
		{"manifest digest not hex", "GET", "/v2/priv/app/manifests/sha256:xyz", authz(dev), nil, false, 400, "DIGEST_INVALID"},
		{"manifest digest mismatch", "PUT", "/v2/priv/app/manifests/sha256:" + h64, with(authz(dev), []string{"Content-Type", string(mediaType)}), manifest, false, 400, "DIGEST_INVALID"},
		{"monolithic digest mismatch", "POST", "/v2/priv/app/blobs/uploads/?digest=sha256:" + h64, authz(dev), []byte("not that"), false, 400, "DIGEST_INVALID"},
		{"monolithic digest malformed", "POST", "/v2/priv/app/blobs/uploads/?digest=sha256:", authz(dev), []byte("x"), false, 400, "DIGEST_INVALID"},
		{"finish digest malformed", "PUT", devUpload + "?digest=sha512:abc", authz(dev), nil, false, 400, "DIGEST_INVALID"},

		// Wrong Content-Length.
		{"body shorter than Content-Length", "PATCH", devUpload, with(authz(dev), []string{"Content-Length", "100", "Content-Range", "0-99"}), []byte("twenty bytes of data"), false, 0, ""},
		{"Content-Range longer than body", "PATCH", devUpload, with(authz(dev), []string{"Content-Range", "0-99"}), []byte("abc"), false, 400, "SIZE_INVALID"},
		{"Content-Length shorter than manifest", "PUT", "/v2/priv/app/manifests/cut", with(authz(dev), ociCT, []string{"Content-Length", "20"}), manifest, false, 400, "MANIFEST_INVALID"},
		{"Content-Length shorter than blob", "POST", "/v2/priv/app/blobs/uploads/?digest=" + layerDigest.String(), with(authz(dev), []string{"Content-Length", "10"}), []byte(strings.Repeat("x", 100)), false, 400, "DIGEST_INVALID"},
		{"Content-Length not a number", "PATCH", devUpload, with(authz(dev), []string{"Content-Length", "ten"}), nil, false, 400, ""},
		{"Content-Length negative", "PATCH", devUpload, with(authz(dev), []string{"Content-Length", "-5"}), nil, false, 400, ""},
		{"Content-Length twice, differing", "PATCH", devUpload, with(authz(dev), []string{"Content-Length", "3", "Content-Length", "4"}), []byte("abcd"), false, 400, ""},

		// Huge manifests are refused before they are read in full.
		{"huge manifest", "PUT", "/v2/priv/app/manifests/huge", with(authz(dev), ociCT), hugeManifest, false, 413, "MANIFEST_INVALID"},
		{"huge manifest, chunked", "PUT", "/v2/priv/app/manifests/huge", with(authz(dev), ociCT, []string{"Transfer-Encoding", "chunked"}), chunked(hugeManifest), true, 413, "MANIFEST_INVALID"},
		{"huge Content-Length, tiny body", "PUT", "/v2/priv/app/manifests/huge", with(authz(dev), ociCT, []string{"Content-Length", "1000000000000"}), []byte("{}"), false, 413, "MANIFEST_INVALID"},

		// Someone else's upload session.
		{"other user's session id in my repo", "PATCH", "/v2/priv/app/blobs/uploads/" + eveID, authz(dev), []byte("x"), false, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"other user's session finished in my repo", "PUT", "/v2/priv/app/blobs/uploads/" + eveID + "?digest=sha256:" + h64, authz(dev), nil, false, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"other user's session cancelled in my repo", "DELETE", "/v2/priv/app/blobs/uploads/" + eveID, authz(dev), nil, false, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"other user's session status in my repo", "GET", "/v2/priv/app/blobs/uploads/" + eveID, authz(dev), nil, false, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"other user's session at its own path", "PATCH", eveUpload, authz(dev), []byte("x"), false, 403, "DENIED"},
		{"anonymous on a session", "PATCH", devUpload, nil, []byte("x"), false, 401, "UNAUTHORIZED"},
		{"guessed session id", "PATCH", "/v2/priv/app/blobs/uploads/" + strings.Repeat("A", 43), authz(dev), []byte("x"), false, 404, "BLOB_UPLOAD_UNKNOWN"},

		// Malformed and forged JWTs.
		{"JWT garbage", "GET", "/v2/priv/app/tags/list", authz("Bearer a.b.c"), nil, false, 401, "UNAUTHORIZED"},
		{"JWT empty", "GET", "/v2/priv/app/tags/list", authz("Bearer "), nil, false, 401, "UNAUTHORIZED"},
		{"JWT not base64", "GET", "/v2/priv/app/tags/list", authz("Bearer !!!.???.***"), nil, false, 401, "UNAUTHORIZED"},
		{"JWT truncated signature", "GET", "/v2/priv/app/tags/list", authz("Bearer " + tok.Token[:len(tok.Token)-4]), nil, false, 401, "UNAUTHORIZED"},
		{"JWT oversized", "GET", "/v2/priv/app/tags/list", authz("Bearer " + strings.Repeat("a", 20<<10) + ".b.c"), nil, false, 401, "UNAUTHORIZED"},
		{"JWT alg none", "GET", "/v2/priv/app/tags/list", authz("Bearer " + noneToken), nil, false, 401, "UNAUTHORIZED"},
		{"JWT HS256 keyed with the public key", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodHS256, pubDER, nil)), nil, false, 401, "UNAUTHORIZED"},
		{"JWT signed by another key", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, otherKey, nil)), nil, false, 401, "UNAUTHORIZED"},
		{"JWT expired", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, key, func(c *auth.Claims) { c.ExpiresAt = past })), nil, false, 401, "UNAUTHORIZED"},
		{"JWT without exp", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, key, func(c *auth.Claims) { c.ExpiresAt = nil })), nil, false, 401, "UNAUTHORIZED"},
		{"JWT for another service", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, key, func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"registry.example"} })), nil, false, 401, "UNAUTHORIZED"},
		{"JWT from another issuer", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, key, func(c *auth.Claims) { c.Issuer = "evil" })), nil, false, 401, "UNAUTHORIZED"},
		{"JWT not yet valid", "GET", "/v2/priv/app/tags/list", authz(forge(jwt.SigningMethodES256, key, func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) })), nil, false, 401, "UNAUTHORIZED"},
		{"JWT used on another project", "GET", "/v2/other/app/tags/list", authz("Bearer " + tok.Token), nil, false, 403, "DENIED"},
		{"JWT used on another repository", "GET", "/v2/priv/other/tags/list", authz("Bearer " + tok.Token), nil, false, 401, "UNAUTHORIZED"},
		{"JWT for priv/app", "GET", "/v2/priv/app/tags/list", authz("Bearer " + tok.Token), nil, false, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rawRequest(t, e.host, tc.method, tc.path, tc.hdr, tc.body, tc.noLength, tc.status == 0)
			if r.status >= 500 {
				t.Fatalf("%s %s = %d %s", tc.method, tc.path, r.status, r.body)
			}
			if tc.status == 0 {
				if r.status != 0 && (r.status < 400 || r.status >= 500) {
					t.Fatalf("%s %s = %d %s, want a 4xx or no answer", tc.method, tc.path, r.status, r.body)
				}
				return
			}
			if r.status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d %s", tc.method, tc.path, r.status, r.body, tc.status, tc.code)
			}
			if tc.code != "" {
				if got := ociErrorCode(r.body); got != tc.code {
					t.Errorf("error code %q (%s), want %s", got, r.body, tc.code)
				}
			}
			if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer realm=") {
				t.Errorf("401 without a Bearer challenge: %q", r.header.Get("WWW-Authenticate"))
			}
			if r.status == http.StatusTemporaryRedirect || r.status == http.StatusMovedPermanently {
				t.Errorf("redirected to %s", r.header.Get("Location"))
			}
		})
	}

	// Nothing hostile changed anything: eve's session is intact and still
	// finishes, dev's session still takes its bytes, and nothing landed in
	// other/ or under a traversal name.
	content := []byte("eve's own blob")
	r = rawRequest(t, e.host, "PUT", eveUpload+"?digest="+crashSHA256(content), []string{"Authorization", eve}, content, false, false)
	if r.status != http.StatusCreated {
		t.Errorf("eve finishing her session after the attacks: %d %s", r.status, r.body)
	}
	r = rawRequest(t, e.host, "PATCH", devUpload, []string{"Authorization", dev, "Content-Range", "0-2"}, []byte("abc"), false, false)
	if r.status != http.StatusAccepted {
		t.Errorf("dev's session after the attacks: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/v2/other/app/manifests/v1", "/v2/priv/app/manifests/cut", "/v2/priv/app/manifests/huge"} {
		if r := rawRequest(t, e.host, "HEAD", p, []string{"Authorization", basicAuth("admin", adminPW)}, nil, true, false); r.status != http.StatusNotFound {
			t.Errorf("HEAD %s after the attacks: %d, want 404", p, r.status)
		}
	}
	if r := rawRequest(t, e.host, "HEAD", "/v2/priv/app/blobs/sha256:"+h64, []string{"Authorization", dev}, nil, true, false); r.status != http.StatusNotFound {
		t.Errorf("a blob under a mismatched digest is visible: %d", r.status)
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("the server logged an error for a hostile request:\n%s", clientTail(e.logs.String(), 3000))
	}
}
