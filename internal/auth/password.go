package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters a new hash is made with.
// Verification reads the parameters from the stored PHC string, so raising
// them later only affects new hashes.
type Argon2Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen int
	KeyLen  int
}

// DefaultArgon2 follows OWASP's password storage recommendation for
// argon2id (m=19 MiB, t=2, p=1). It costs about 20-40 ms on one core. The
// memory is modest on purpose: a server verifies many logins at once, and
// Hasher bounds how many run concurrently, so peak memory stays
// Memory × concurrency.
var DefaultArgon2 = Argon2Params{Time: 2, Memory: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrBadHash is returned for a stored hash that is not an argon2id PHC string.
var ErrBadHash = errors.New("stored password hash is not an argon2id PHC string")

// Hasher hashes and verifies passwords and robot secrets with argon2id,
// at most a fixed number at a time.
type Hasher struct {
	params Argon2Params
	sem    chan struct{}
}

// NewHasher returns a Hasher with params that runs at most concurrency
// hashes at once (at least 1).
func NewHasher(params Argon2Params, concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Hasher{params: params, sem: make(chan struct{}, concurrency)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of secret:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether secret matches the PHC string stored. The
// comparison is constant-time.
func (h *Hasher) Verify(ctx context.Context, stored, secret string) (bool, error) {
	ph, err := parsePHC(stored)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(secret), ph.salt, ph.time, ph.memory, ph.threads, uint32(len(ph.key)))
	h.release()
	return subtle.ConstantTimeCompare(key, ph.key) == 1, nil
}

type phc struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

// Bounds on parameters read from a stored hash, so a corrupt or planted
// row cannot make one verification take gigabytes or minutes.
const (
	maxArgonMemory = 1 << 20 // KiB: 1 GiB
	maxArgonTime   = 16
	maxArgonKey    = 128
)

func parsePHC(s string) (*phc, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, ErrBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("%w: unsupported version %q", ErrBadHash, parts[2])
	}
	var p phc
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, ErrBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, ErrBadHash
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return nil, ErrBadHash
			}
			p.threads = uint8(n)
		default:
			return nil, ErrBadHash
		}
	}
	if p.memory == 0 || p.time == 0 || p.threads == 0 || p.memory > maxArgonMemory || p.time > maxArgonTime {
		return nil, fmt.Errorf("%w: parameters out of range", ErrBadHash)
	}
	b64 := base64.RawStdEncoding
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return nil, ErrBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > maxArgonKey {
		return nil, ErrBadHash
	}
	return &p, nil
}
