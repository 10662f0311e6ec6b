package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are a registry token's claims, as the distribution token spec
// defines them: who (sub), for which service (aud), and the access granted.
type Claims struct {
	jwt.RegisteredClaims
	Access []Scope `json:"access"`
}

// maxJWTLen bounds a bearer token read from a request; ours are well under
// 2 KiB even with many scopes.
const maxJWTLen = 16 << 10

// Signer issues and verifies ES256 registry tokens.
type Signer struct {
	key    *ecdsa.PrivateKey
	kid    string
	issuer string
	now    func() time.Time
	// verified remembers tokens whose signature and claims checked out,
	// until they expire: a client sends the same token on every request,
	// and an ECDSA verification costs far more than the rest of a
	// manifest GET.
	verified *tokenCache
}

// jwtLeeway is the clock skew allowed on exp, nbf and iat.
const jwtLeeway = 5 * time.Second

// NewSigner returns a Signer with key. now is the clock (time.Now when nil).
func NewSigner(key *ecdsa.PrivateKey, issuer string, now func() time.Time) (*Signer, error) {
	if key.Curve != elliptic.P256() {
		return nil, errors.New("token signing key must be an ECDSA P-256 key (ES256)")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, kid: keyID(&key.PublicKey), issuer: issuer, now: now, verified: newTokenCache(maxCachedTokens)}, nil
}

// keyID is the RFC 7638 JWK thumbprint of the public key.
func keyID(pub *ecdsa.PublicKey) string {
	b, _ := pub.Bytes() // uncompressed point: 0x04 || X || Y
	x := base64.RawURLEncoding.EncodeToString(b[1:33])
	y := base64.RawURLEncoding.EncodeToString(b[33:65])
	thumb, _ := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}{"P-256", "EC", x, y})
	sum := sha256.Sum256(thumb)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Issue signs a token for subject with access, valid for ttl at service.
func (s *Signer) Issue(subject, service string, access []Scope, ttl time.Duration) (token string, expires time.Time, err error) {
	now := s.now()
	jti, err := randomString(16)
	if err != nil {
		return "", time.Time{}, err
	}
	if access == nil {
		access = []Scope{}
	}
	expires = now.Add(ttl)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{service},
			ExpiresAt: jwt.NewNumericDate(expires),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Second)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Access: access,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = s.kid
	token, err = t.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return token, expires, nil
}

// ErrBadToken is returned for a bearer token that is malformed, forged,
// expired or meant for another service.
var ErrBadToken = errors.New("invalid registry token")

// Verify checks token's signature (ES256 only), expiry, issuer and that
// its audience is service, and returns its claims. An empty subject is an
// anonymous client's token.
func (s *Signer) Verify(token, service string) (*Claims, error) {
	if len(token) > maxJWTLen {
		return nil, ErrBadToken
	}
	key := tokenKey(token, service)
	now := s.now()
	if c, ok := s.verified.get(key, now); ok {
		return c, nil
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(s.issuer),
		jwt.WithAudience(service),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(jwtLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	// WithExpirationRequired made sure ExpiresAt is set. Past nbf and iat
	// now, the token stays valid until exp (plus the leeway), which is
	// what the cache checks.
	s.verified.add(key, &c, c.ExpiresAt.Add(jwtLeeway), now)
	cp := c
	return &cp, nil
}

// maxCachedTokens bounds the verified-token cache (about 1 KiB each).
const maxCachedTokens = 10_000

// tokenCache maps the SHA-256 of (service, token) to the token's verified
// claims and the instant they stop being valid. It holds no secret a
// client could not already present: registry tokens are bearer tokens.
type tokenCache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]cachedClaims
}

type cachedClaims struct {
	claims *Claims
	until  time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: map[[32]byte]cachedClaims{}}
}

func tokenKey(token, service string) [32]byte {
	h := sha256.New()
	h.Write([]byte(service))
	h.Write([]byte{0})
	h.Write([]byte(token))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns a copy of the claims verified for key, unless they have
// expired by now.
func (c *tokenCache) get(key [32]byte, now time.Time) (*Claims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(c.m, key)
		return nil, false
	}
	cp := *e.claims
	return &cp, true
}

func (c *tokenCache) add(key [32]byte, claims *Claims, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[key] = cachedClaims{claims: claims, until: until}
}

// LoadOrCreateKey reads the PEM-encoded ECDSA P-256 key at path, or
// generates one and writes it there with mode 0600 on first start. A key
// file that others can read is used but logged as a warning.
func LoadOrCreateKey(path string, log *slog.Logger) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("token signing key is readable by other users; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
		}
		return parseKey(b, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	// Write to a temporary file and link it into place, so two servers
	// starting on one data directory agree on one key and a crash never
	// leaves half a key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-signing-*.pem")
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path, log)
		}
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	log.Info("generated token signing key", "path", path)
	return key, nil
}

func parseKey(b []byte, path string) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("token signing key %s: no PEM block", path)
	}
	var key *ecdsa.PrivateKey
	switch blk.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token signing key %s: %w", path, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token signing key %s: %w", path, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("token signing key %s: not an ECDSA key", path)
		}
		key = ek
	default:
		return nil, fmt.Errorf("token signing key %s: unexpected PEM block %q", path, blk.Type)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("token signing key %s: want a P-256 key for ES256", path)
	}
	return key, nil
}
