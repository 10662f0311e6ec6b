package testsupport

import (
	"net/http"
	"slices"
	"sync"

	"github.com/seawall-dev/seawall/internal/registry"
)

// AllowAll lets every request do everything.
type AllowAll struct{}

// Authorize always allows.
func (AllowAll) Authorize(*http.Request, string, ...string) error { return nil }

// Grant is one permission of a ScriptedAuth user: actions on a repository
// ("" for the version check and the catalog; "*" for every repository).
type Grant struct {
	Repo    string
	Actions []string
}

// ScriptedAuth authenticates with HTTP Basic against a fixed set of users
// and authorizes from their grants. Anonymous requests and bad passwords
// get a Basic challenge; known users asking for more than their grants get
// registry.ErrDenied. Anonymous holds grants for unauthenticated requests.
type ScriptedAuth struct {
	Realm     string
	Users     map[string]string  // name → password
	Grants    map[string][]Grant // name → grants
	Anonymous []Grant

	mu    sync.Mutex
	Calls []Call // every Authorize call, for assertions
}

// Call records one Authorize call.
type Call struct {
	User    string
	Repo    string
	Actions []string
}

// Authorize implements registry.Authorizer.
func (a *ScriptedAuth) Authorize(r *http.Request, repo string, actions ...string) error {
	user, pass, ok := r.BasicAuth()
	a.mu.Lock()
	a.Calls = append(a.Calls, Call{User: user, Repo: repo, Actions: actions})
	a.mu.Unlock()
	grants := a.Anonymous
	if ok {
		want, known := a.Users[user]
		if !known || want != pass {
			return a.challenge()
		}
		grants = a.Grants[user]
	}
	for _, act := range actions {
		if !allowed(grants, repo, act) {
			if !ok {
				return a.challenge()
			}
			return registry.ErrDenied
		}
	}
	if len(actions) == 0 && !ok && a.Anonymous == nil {
		return a.challenge()
	}
	return nil
}

func (a *ScriptedAuth) challenge() error {
	realm := a.Realm
	if realm == "" {
		realm = "seawall-test"
	}
	return &registry.Challenge{HeaderValue: `Basic realm="` + realm + `"`}
}

func allowed(grants []Grant, repo, action string) bool {
	for _, g := range grants {
		if (g.Repo == repo || g.Repo == "*" && repo != "") && slices.Contains(g.Actions, action) {
			return true
		}
	}
	return false
}

var (
	_ registry.Authorizer = AllowAll{}
	_ registry.Authorizer = (*ScriptedAuth)(nil)
)
