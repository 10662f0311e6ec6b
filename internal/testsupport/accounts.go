// Package testsupport holds hand-written fakes shared by tests: in-memory
// stores, scripted authorizers and clocks. Nothing here is used outside
// tests.
package testsupport

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Accounts is an in-memory store.UserStore, store.ProjectStore and
// store.CredentialStore, for tests of authentication and authorization
// that do not need a database.
type Accounts struct {
	mu       sync.Mutex
	nextID   int64
	users    map[int64]*store.User
	projects map[int64]*store.Project
	members  map[[2]int64]store.Role
	robots   map[int64]*store.Robot
	tokens   map[int64]*store.Token
	Now      func() time.Time // CreatedAt clock; time.Now when nil
}

// NewAccounts returns an empty Accounts.
func NewAccounts() *Accounts {
	return &Accounts{
		users: map[int64]*store.User{}, projects: map[int64]*store.Project{}, members: map[[2]int64]store.Role{},
		robots: map[int64]*store.Robot{}, tokens: map[int64]*store.Token{},
	}
}

func (a *Accounts) id() int64 { a.nextID++; return a.nextID }

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func notFound(what, name string) error { return fmt.Errorf("%s %s: %w", what, name, store.ErrNotFound) }

// CreateUser implements store.UserStore.
func (a *Accounts) CreateUser(_ context.Context, u *store.User) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.users {
		if x.Name == u.Name {
			return fmt.Errorf("user %s: %w", u.Name, store.ErrExists)
		}
	}
	u.ID = a.id()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = a.now()
	}
	c := *u
	a.users[u.ID] = &c
	return nil
}

// UserByName implements store.UserStore.
func (a *Accounts) UserByName(_ context.Context, name string) (*store.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.users {
		if x.Name == name {
			c := *x
			return &c, nil
		}
	}
	return nil, notFound("user", name)
}

// UserByID implements store.UserStore.
func (a *Accounts) UserByID(_ context.Context, id int64) (*store.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.users[id]
	if !ok {
		return nil, notFound("user", fmt.Sprint(id))
	}
	c := *x
	return &c, nil
}

// ListUsers implements store.UserStore.
func (a *Accounts) ListUsers(context.Context) ([]store.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []store.User{}
	for _, x := range a.users {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(x, y store.User) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// UpdateUser implements store.UserStore.
func (a *Accounts) UpdateUser(_ context.Context, u *store.User) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.users[u.ID]
	if !ok {
		return notFound("user", u.Name)
	}
	x.PasswordHash, x.Admin, x.Disabled = u.PasswordHash, u.Admin, u.Disabled
	return nil
}

// CreateProject implements store.ProjectStore.
func (a *Accounts) CreateProject(_ context.Context, p *store.Project) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.projects {
		if x.Name == p.Name {
			return fmt.Errorf("project %s: %w", p.Name, store.ErrExists)
		}
	}
	p.ID = a.id()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = a.now()
	}
	c := *p
	a.projects[p.ID] = &c
	return nil
}

// ProjectByName implements store.ProjectStore.
func (a *Accounts) ProjectByName(_ context.Context, name string) (*store.Project, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.projects {
		if x.Name == name {
			c := *x
			return &c, nil
		}
	}
	return nil, notFound("project", name)
}

// ListProjects implements store.ProjectStore.
func (a *Accounts) ListProjects(context.Context) ([]store.Project, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []store.Project{}
	for _, x := range a.projects {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(x, y store.Project) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// UpdateProject implements store.ProjectStore.
func (a *Accounts) UpdateProject(_ context.Context, p *store.Project) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.projects[p.ID]
	if !ok {
		return notFound("project", p.Name)
	}
	x.Public, x.Settings = p.Public, p.Settings
	return nil
}

// DeleteProject implements store.ProjectStore (the fake has no
// repositories, so it never conflicts).
func (a *Accounts) DeleteProject(_ context.Context, id int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.projects[id]; !ok {
		return notFound("project", fmt.Sprint(id))
	}
	delete(a.projects, id)
	return nil
}

// SetMember implements store.ProjectStore.
func (a *Accounts) SetMember(_ context.Context, projectID, userID int64, role store.Role) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.members[[2]int64{projectID, userID}] = role
	return nil
}

// RemoveMember implements store.ProjectStore.
func (a *Accounts) RemoveMember(_ context.Context, projectID, userID int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := [2]int64{projectID, userID}
	if _, ok := a.members[k]; !ok {
		return notFound("member", fmt.Sprint(userID))
	}
	delete(a.members, k)
	return nil
}

// MemberRole implements store.ProjectStore.
func (a *Accounts) MemberRole(_ context.Context, projectID, userID int64) (store.Role, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.members[[2]int64{projectID, userID}]
	if !ok {
		return "", notFound("member", fmt.Sprint(userID))
	}
	return r, nil
}

// ListMembers implements store.ProjectStore.
func (a *Accounts) ListMembers(_ context.Context, projectID int64) ([]store.Member, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []store.Member{}
	for k, r := range a.members {
		if k[0] == projectID {
			out = append(out, store.Member{ProjectID: k[0], UserID: k[1], UserName: a.users[k[1]].Name, Role: r})
		}
	}
	slices.SortFunc(out, func(x, y store.Member) int { return cmp.Compare(x.UserName, y.UserName) })
	return out, nil
}

// CreateRobot implements store.CredentialStore.
func (a *Accounts) CreateRobot(_ context.Context, r *store.Robot) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.robots {
		if x.Name == r.Name {
			return fmt.Errorf("robot %s: %w", r.Name, store.ErrExists)
		}
	}
	r.ID = a.id()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = a.now()
	}
	c := *r
	c.Permissions = slices.Clone(r.Permissions)
	a.robots[r.ID] = &c
	return nil
}

// RobotByName implements store.CredentialStore.
func (a *Accounts) RobotByName(_ context.Context, name string) (*store.Robot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.robots {
		if x.Name == name {
			c := *x
			c.Permissions = slices.Clone(x.Permissions)
			return &c, nil
		}
	}
	return nil, notFound("robot", name)
}

// ListRobots implements store.CredentialStore.
func (a *Accounts) ListRobots(_ context.Context, projectID int64) ([]store.Robot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []store.Robot{}
	for _, x := range a.robots {
		if x.ProjectID == projectID {
			out = append(out, *x)
		}
	}
	slices.SortFunc(out, func(x, y store.Robot) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// RevokeRobot implements store.CredentialStore.
func (a *Accounts) RevokeRobot(_ context.Context, id int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.robots[id]
	if !ok {
		return notFound("robot", fmt.Sprint(id))
	}
	x.Revoked = true
	return nil
}

// CreateToken implements store.CredentialStore.
func (a *Accounts) CreateToken(_ context.Context, t *store.Token) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t.ID = a.id()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = a.now()
	}
	c := *t
	a.tokens[t.ID] = &c
	return nil
}

// TokenByHash implements store.CredentialStore.
func (a *Accounts) TokenByHash(_ context.Context, hash string) (*store.Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.tokens {
		if x.Hash == hash {
			c := *x
			return &c, nil
		}
	}
	return nil, notFound("token", "")
}

// TouchToken implements store.CredentialStore.
func (a *Accounts) TouchToken(_ context.Context, id int64, at time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if x, ok := a.tokens[id]; ok {
		x.LastUsed = at
	}
	return nil
}

// RevokeToken implements store.CredentialStore.
func (a *Accounts) RevokeToken(_ context.Context, id int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.tokens[id]; !ok {
		return notFound("token", fmt.Sprint(id))
	}
	delete(a.tokens, id)
	return nil
}

var (
	_ store.UserStore       = (*Accounts)(nil)
	_ store.ProjectStore    = (*Accounts)(nil)
	_ store.CredentialStore = (*Accounts)(nil)
)
