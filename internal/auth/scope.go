package auth

import (
	"errors"
	"slices"
	"strings"
)

// Scope is one resource and the actions asked for or granted on it, as in
// the distribution token spec: "repository:project/repo:pull,push".
// It is also the JWT's "access" claim entry.
type Scope struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Resource types.
const (
	TypeRepository = "repository"
	TypeRegistry   = "registry" // "registry:catalog:*"
)

// CatalogScope is the scope of /v2/_catalog.
var CatalogScope = Scope{Type: TypeRegistry, Name: "catalog", Actions: []string{"*"}}

// maxScopeLen bounds a scope string read from a request.
const maxScopeLen = 512

var errBadScope = errors.New(`malformed scope: want "repository:PROJECT/REPO:pull[,push]"`)

// ParseScope parses "type:name:action[,action]". The name may contain
// colons (a registry host with a port), so the type ends at the first
// colon and the actions start after the last one. "repository(plugin)"
// style class suffixes are dropped from the type.
func ParseScope(s string) (Scope, error) {
	if len(s) > maxScopeLen {
		return Scope{}, errBadScope
	}
	typ, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Scope{}, errBadScope
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return Scope{}, errBadScope
	}
	name, acts := rest[:i], rest[i+1:]
	if j := strings.IndexByte(typ, '('); j > 0 && strings.HasSuffix(typ, ")") {
		typ = typ[:j]
	}
	if typ == "" || name == "" {
		return Scope{}, errBadScope
	}
	sc := Scope{Type: typ, Name: name}
	for _, a := range strings.Split(acts, ",") {
		if a != "" && !slices.Contains(sc.Actions, a) {
			sc.Actions = append(sc.Actions, a)
		}
	}
	return sc, nil
}

// ParseScopes parses every scope parameter; a parameter may itself hold
// several scopes separated by spaces (the OAuth2 form).
func ParseScopes(params []string) ([]Scope, error) {
	var out []Scope
	for _, p := range params {
		for _, f := range strings.Fields(p) {
			sc, err := ParseScope(f)
			if err != nil {
				return nil, err
			}
			out = append(out, sc)
		}
	}
	if len(out) > 64 {
		return nil, errors.New("too many scopes in one request (at most 64)")
	}
	return out, nil
}

// String renders the scope as a challenge or token request carries it.
func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// covers reports whether granted includes every action in want for the
// resource typ/name.
func covers(granted []Scope, typ, name string, want []string) bool {
	for _, w := range want {
		found := false
		for _, g := range granted {
			if g.Type == typ && g.Name == name && (slices.Contains(g.Actions, w) || slices.Contains(g.Actions, "*")) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
