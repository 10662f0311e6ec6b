package blob

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Digest algorithms Seawall stores and verifies.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// Errors from ParseDigest, wrapped.
var (
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrUnsupportedDigest is a digest that is well formed but uses an
	// algorithm other than sha256 and sha512. It also matches
	// ErrInvalidDigest.
	ErrUnsupportedDigest = fmt.Errorf("%w: unsupported algorithm", ErrInvalidDigest)
)

// maxDigestLen bounds what ParseDigest looks at: the longest supported
// digest is "sha512:" and 128 hex digits.
const maxDigestLen = 256

// Digest is a validated content digest, "sha256:<64 hex>" or
// "sha512:<128 hex>". The zero value is not a valid digest.
type Digest string

// ParseDigest checks s against the OCI digest grammar and accepts only the
// algorithms Seawall can verify, with lowercase hex of the right length.
func ParseDigest(s string) (Digest, error) {
	if len(s) > maxDigestLen {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidDigest, maxDigestLen)
	}
	alg, enc, ok := strings.Cut(s, ":")
	if !ok || !validAlgorithm(alg) || !validEncoded(enc) {
		return "", fmt.Errorf("%w %q: want <algorithm>:<hex>, e.g. sha256:<64 hex digits>", ErrInvalidDigest, s)
	}
	n, known := hexLen[alg]
	if !known {
		return "", fmt.Errorf("%w %q: use sha256 or sha512", ErrUnsupportedDigest, alg)
	}
	if len(enc) != n || !isLowerHex(enc) {
		return "", fmt.Errorf("%w %q: %s needs %d lowercase hex digits", ErrInvalidDigest, s, alg, n)
	}
	return Digest(s), nil
}

var hexLen = map[string]int{SHA256: 64, SHA512: 128}

// SupportedAlgorithm reports whether alg is sha256 or sha512.
func SupportedAlgorithm(alg string) bool {
	_, ok := hexLen[alg]
	return ok
}

// Algorithm is the part before the colon.
func (d Digest) Algorithm() string {
	alg, _, _ := strings.Cut(string(d), ":")
	return alg
}

// Hex is the part after the colon.
func (d Digest) Hex() string {
	_, enc, _ := strings.Cut(string(d), ":")
	return enc
}

func (d Digest) String() string { return string(d) }

// FromBytes returns the digest of b with algorithm alg (sha256 or sha512).
func FromBytes(alg string, b []byte) (Digest, error) {
	h, err := NewHash(alg)
	if err != nil {
		return "", err
	}
	h.Write(b)
	return Sum(alg, h), nil
}

// NewHash returns a hash for alg whose state can be marshalled with
// encoding.BinaryMarshaler, so an upload can resume after a restart.
func NewHash(alg string) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("%w %q: use sha256 or sha512", ErrUnsupportedDigest, alg)
}

// Sum formats h's current sum as a digest of algorithm alg.
func Sum(alg string, h hash.Hash) Digest {
	return Digest(alg + ":" + hex.EncodeToString(h.Sum(nil)))
}

// RestoreHash returns a hash for alg in the state saved by MarshalHash.
func RestoreHash(alg string, state []byte) (hash.Hash, error) {
	h, err := NewHash(alg)
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return h, nil
	}
	u, ok := h.(encoding.BinaryUnmarshaler)
	if !ok {
		return nil, fmt.Errorf("%s hash state cannot be restored", alg)
	}
	if err := u.UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restore %s hash state: %w", alg, err)
	}
	return h, nil
}

// MarshalHash saves h's state for RestoreHash.
func MarshalHash(h hash.Hash) ([]byte, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, errors.New("hash state cannot be saved")
	}
	return m.MarshalBinary()
}

func validAlgorithm(alg string) bool {
	// algorithm-component ([+._-] algorithm-component)*, components [a-z0-9]+
	if alg == "" {
		return false
	}
	prevSep := true
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSep = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

func validEncoded(enc string) bool {
	if enc == "" {
		return false
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
