package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnauthenticated is returned when credentials were given but are wrong,
// expired, revoked or malformed. It never says which, so it cannot be
// used to learn which user names exist.
var ErrUnauthenticated = errors.New("authentication failed: wrong user name, password, secret or token, or the account is disabled, expired or revoked")

// ErrDenied is returned when the principal is known but may not do what it
// asked. The registry renders it as 403 DENIED.
var ErrDenied = errors.New("requested access to the resource is denied")

// Challenge asks the client to authenticate: the registry renders it as
// 401 with WWW-Authenticate set to Header().
type Challenge struct {
	Realm   string
	Service string
	Scopes  []Scope // empty for the base /v2/ endpoint
	// Reason is the RFC 6750 error: "" (no credentials), "invalid_token"
	// or "insufficient_scope".
	Reason string
	Err    error // the cause, for logs; never shown to the client
}

func (c *Challenge) Error() string {
	msg := "authentication required"
	if c.Reason != "" {
		msg += " (" + c.Reason + ")"
	}
	if c.Err != nil {
		msg += ": " + c.Err.Error()
	}
	return msg
}

func (c *Challenge) Unwrap() error { return c.Err }

// Header is the WWW-Authenticate value:
// Bearer realm="https://host/service/token",service="host",scope="repository:p/r:pull".
func (c *Challenge) Header() string {
	var b strings.Builder
	fmt.Fprintf(&b, `Bearer realm=%s,service=%s`, quote(c.Realm), quote(c.Service))
	if len(c.Scopes) > 0 {
		ss := make([]string, len(c.Scopes))
		for i, s := range c.Scopes {
			ss[i] = s.String()
		}
		fmt.Fprintf(&b, `,scope=%s`, quote(strings.Join(ss, " ")))
	}
	if c.Reason != "" {
		fmt.Fprintf(&b, `,error=%s`, quote(c.Reason))
	}
	return b.String()
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// RateLimitedError is returned when too many logins failed for a user name
// or from a client address; the client may try again after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.RetryAfter.Round(time.Second))
}

// StatusCode lets an HTTP layer render the error as 429.
func (e *RateLimitedError) StatusCode() int { return 429 }
