package registry

import (
	"errors"
	"net/http"
)

// Actions the registry asks an Authorizer about.
const (
	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
	// ActionCatalog is asked with repository "" before /v2/_catalog lists
	// anything.
	ActionCatalog = "catalog"
	// ActionList is asked for each repository /v2/_catalog would list; a
	// repository whose answer is an error is left out. It lets a role pull
	// without seeing the project's repositories (Harbor's limited guest).
	ActionList = "list"
)

// Authorizer decides what a request may do. The registry never
// authenticates by itself.
//
// The registry calls Authorize with:
//   - repo "" and no actions for the version check GET /v2/ (is the
//     request authenticated, or is anonymous access enabled?);
//   - repo "" and ActionCatalog for GET /v2/_catalog, then repo and
//     ActionList for each repository it would list;
//   - a repository name and ActionPull, ActionPush or ActionDelete for
//     everything under /v2/<name>/ (a cross-repository mount also asks
//     ActionPull on the source repository, and falls back to a normal
//     upload when that is refused).
//
// It returns nil, or an error the registry renders by what the error (or
// one it wraps) is:
//   - it has a method Header() string (a challenge, such as *Challenge):
//     401 UNAUTHORIZED with WWW-Authenticate set to Header();
//   - it is ErrDenied (errors.Is), or has StatusCode() int returning 403:
//     403 DENIED;
//   - it has StatusCode() int returning 429: 429 TOOMANYREQUESTS, with
//     Retry-After when it also has RetryAfter() time.Duration;
//   - anything else is a server error (500) and is logged.
type Authorizer interface {
	Authorize(r *http.Request, repo string, actions ...string) error
}

// ErrDenied is returned by an Authorizer when the caller is known but may
// not do what it asked.
var ErrDenied = errors.New("requested access to the resource is denied")

// Challenge asks the client to authenticate. HeaderValue is the full
// WWW-Authenticate value, e.g.
//
//	Bearer realm="https://seawall.example/service/token",service="seawall.example",scope="repository:team/app:pull,push"
type Challenge struct {
	HeaderValue string
	// Message is shown to the client in the UNAUTHORIZED error body.
	Message string
}

// Header is the WWW-Authenticate value.
func (c *Challenge) Header() string { return c.HeaderValue }

func (c *Challenge) Error() string {
	if c.Message != "" {
		return c.Message
	}
	return "authentication required"
}

// challenger is what the registry looks for to answer 401.
type challenger interface {
	error
	Header() string
}

// statusCoder is an error that says which HTTP status it is.
type statusCoder interface {
	error
	StatusCode() int
}
