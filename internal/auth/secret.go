package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// TokenPrefix starts every API token, so a token is recognisable in a
// Basic password field and by secret scanners.
const TokenPrefix = "swt_"

// RobotPrefix starts every robot account's full name: robot$<project>+<name>.
const RobotPrefix = "robot$"

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewAPIToken returns a new API token (32 random bytes) and the hash that
// is stored in its place.
func NewAPIToken() (token, hash string, err error) {
	s, err := randomString(32)
	if err != nil {
		return "", "", err
	}
	token = TokenPrefix + s
	return token, HashToken(token), nil
}

// HashToken is the stored form of an API token: SHA-256, hex. A token has
// 256 bits of entropy, so a fast hash is enough and lets the store look
// it up by hash.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IsAPIToken reports whether s looks like an API token.
func IsAPIToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) == len(TokenPrefix)+43
}

// NewRobotSecret returns a robot account's secret: 32 random bytes.
func NewRobotSecret() (string, error) { return randomString(32) }

// NewPassword returns a random password for the first admin.
func NewPassword() (string, error) { return randomString(18) }

// equalHash compares two hashes in constant time.
func equalHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// RobotName is the full name of robot name in project.
func RobotName(project, name string) string { return RobotPrefix + project + "+" + name }

// IsRobotName reports whether a user name names a robot account.
func IsRobotName(s string) bool { return strings.HasPrefix(s, RobotPrefix) }
