package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers on every delivery.
const (
	HeaderSignature = "X-Seawall-Signature" // "sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">"
	HeaderTimestamp = "X-Seawall-Timestamp" // Unix seconds when the attempt was signed
	HeaderEvent     = "X-Seawall-Event"     // the event kind
	HeaderDelivery  = "X-Seawall-Delivery"  // the delivery's id, the same on every retry
)

// DefaultTolerance is how far a receiver should let a delivery's
// timestamp be from its own clock before refusing it as a replay.
const DefaultTolerance = 5 * time.Minute

// NewSecret returns a random webhook secret: 32 bytes, hex.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Sign returns the X-Seawall-Signature value for body sent at ts: the
// HMAC-SHA256, keyed with secret, of the decimal timestamp, a dot and the
// body. Covering the timestamp stops a captured delivery from being
// replayed later with a fresh timestamp.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors from Verify.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp is outside the tolerance (a replay, or a clock off)")
)

// Verify checks a received delivery as a receiver should: the signature
// header against the body and the timestamp header, and the timestamp
// against now within tolerance. It compares in constant time.
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrBadSignature, HeaderTimestamp, timestamp)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: off by %s", ErrStale, d.Round(time.Second))
	}
	return nil
}
