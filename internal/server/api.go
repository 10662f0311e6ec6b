package server

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
)

// The /api/v1 handlers. Each authenticates with s.principal and checks
// its permission with auth's matrix before touching the store.

var (
	projectNameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	robotNameRE   = projectNameRE
	userNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)
)

const (
	maxProjectName = 255
	maxUserName    = 64
	maxRobotName   = 64
	minPassword    = 8
	maxPassword    = 1024
)

func checkUserName(n string) error {
	if len(n) > maxUserName || !userNameRE.MatchString(n) {
		return badRequest("user name %q: use 1 to %d letters, digits, '.', '_', '@' or '-', starting with a letter or digit", n, maxUserName)
	}
	return nil
}

func checkPassword(pw string) error {
	if len(pw) < minPassword || len(pw) > maxPassword {
		return badRequest("the password must be %d to %d characters long", minPassword, maxPassword)
	}
	return nil
}

// principal authenticates r and refuses anonymous callers.
func (s *Server) principal(r *http.Request) (*auth.Principal, error) {
	p, err := s.auth.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.Anonymous {
		return nil, errf(http.StatusUnauthorized, codeUnauthorized, "log in first: `seawall login SERVER`, or send an API token as 'Authorization: Bearer …'")
	}
	info(r).user = p.Name
	return p, nil
}

func (s *Server) systemAdmin(r *http.Request) (*auth.Principal, error) {
	p, err := s.principal(r)
	if err != nil {
		return nil, err
	}
	if !p.SystemAdmin() {
		return nil, errf(http.StatusForbidden, codeDenied, "only a system admin may do this")
	}
	return p, nil
}

// principalProject authenticates r and loads the project its path names,
// if the caller may do a there: the first two steps of every project
// handler.
func (s *Server) principalProject(r *http.Request, a auth.Action) (*auth.Principal, *store.Project, error) {
	p, err := s.principal(r)
	if err != nil {
		return nil, nil, err
	}
	proj, err := s.project(r, p, a)
	if err != nil {
		return nil, nil, err
	}
	return p, proj, nil
}

// project loads the project named in the path and checks that p may do a
// in it. A project that does not exist and one the caller may not see
// give the same 403, so project names do not leak; a system admin gets 404.
func (s *Server) project(r *http.Request, p *auth.Principal, a auth.Action) (*store.Project, error) {
	name := r.PathValue("project")
	ctx := r.Context()
	proj, err := s.store.ProjectByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if p.SystemAdmin() {
			return nil, errf(http.StatusNotFound, codeNotFound, "project %q does not exist", name)
		}
		return nil, errf(http.StatusForbidden, codeDenied, "project %q does not exist or you have no access to it", name)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.auth.Can(ctx, p, name, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		if see, _ := s.auth.Can(ctx, p, name, auth.ActionPull); !see {
			return nil, errf(http.StatusForbidden, codeDenied, "project %q does not exist or you have no access to it", name)
		}
		return nil, errf(http.StatusForbidden, codeDenied, "your role in project %q does not allow this (%s); ask a project admin", name, a)
	}
	return proj, nil
}

// --- login, logout, whoami

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// ExpiresIn is the token's lifetime in seconds (at most, and by
	// default, auth.api_token_ttl).
	ExpiresIn int64  `json:"expiresIn,omitempty"`
	TokenName string `json:"tokenName,omitempty"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	Username  string    `json:"username"`
	Admin     bool      `json:"admin"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return badRequest("username and password are required")
	}
	p, err := s.auth.Login(r.Context(), req.Username, req.Password, auth.ClientIP(r))
	if err != nil {
		return err
	}
	if p.Kind != auth.KindUser {
		return errf(http.StatusForbidden, codeDenied, "robot accounts do not log in to the API; use the robot's name and secret with docker, podman or skopeo")
	}
	info(r).user = p.Name
	s.Emit(r.Context(), events.Event{Kind: events.KindLogin, Actor: p.Name, Detail: map[string]string{"ip": auth.ClientIP(r), "via": "api"}})
	ttl := s.cfg.Auth.APITokenTTL
	if req.ExpiresIn > 0 && time.Duration(req.ExpiresIn)*time.Second < ttl {
		ttl = time.Duration(req.ExpiresIn) * time.Second
	}
	name := req.TokenName
	if name == "" {
		name = "seawall login"
	}
	if len(name) > 128 {
		return badRequest("tokenName is longer than 128 characters")
	}
	tok, rec, err := s.auth.IssueAPIToken(r.Context(), p.User, name, ttl)
	if err != nil {
		return err
	}
	s.log.Info("API token issued", "user", p.Name, "expires", rec.ExpiresAt)
	return writeJSON(w, http.StatusCreated, loginResponse{Token: tok, Username: p.Name, Admin: p.User.Admin, ExpiresAt: rec.ExpiresAt})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	if p.APIToken == nil {
		return badRequest("logout revokes the API token the request carries; this request used no API token")
	}
	if err := s.store.RevokeToken(r.Context(), p.APIToken.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type membership struct {
	Project string `json:"project"`
	Role    string `json:"role"`
}

type whoamiResponse struct {
	Username    string       `json:"username"`
	Kind        string       `json:"kind"` // user or robot
	Admin       bool         `json:"admin"`
	Via         string       `json:"via"` // password, token, secret, jwt
	Projects    []membership `json:"projects,omitempty"`
	Permissions []string     `json:"permissions,omitempty"` // a robot's
	ExpiresAt   *time.Time   `json:"expiresAt,omitempty"`   // the API token's or the robot's
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	resp := whoamiResponse{Username: p.Name, Via: p.Via}
	switch p.Kind {
	case auth.KindRobot:
		resp.Kind = "robot"
		resp.Permissions = p.Robot.Permissions
		if project, _, ok := strings.Cut(strings.TrimPrefix(p.Name, auth.RobotPrefix), "+"); ok {
			resp.Projects = []membership{{Project: project, Role: "robot"}}
		}
		if !p.Robot.ExpiresAt.IsZero() {
			resp.ExpiresAt = &p.Robot.ExpiresAt
		}
	default:
		resp.Kind, resp.Admin = "user", p.User.Admin
		if p.APIToken != nil && !p.APIToken.ExpiresAt.IsZero() {
			resp.ExpiresAt = &p.APIToken.ExpiresAt
		}
		projects, err := s.store.ListProjects(r.Context())
		if err != nil {
			return err
		}
		for _, proj := range projects {
			role, err := s.store.MemberRole(r.Context(), proj.ID, p.User.ID)
			if err == nil {
				resp.Projects = append(resp.Projects, membership{Project: proj.Name, Role: string(role)})
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// --- users (system admins)

type userJSON struct {
	Username  string    `json:"username"`
	Admin     bool      `json:"admin"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
}

func toUserJSON(u *store.User) userJSON {
	return userJSON{Username: u.Name, Admin: u.Admin, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.systemAdmin(r); err != nil {
		return err
	}
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(users))
	for i := range users {
		out = append(out, toUserJSON(&users[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

type createUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.systemAdmin(r)
	if err != nil {
		return err
	}
	var req createUserRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := checkUserName(req.Username); err != nil {
		return err
	}
	if err := checkPassword(req.Password); err != nil {
		return err
	}
	hash, err := s.auth.Hasher().Hash(r.Context(), req.Password)
	if err != nil {
		return err
	}
	u := &store.User{Name: req.Username, PasswordHash: hash, Admin: req.Admin}
	if err := s.store.CreateUser(r.Context(), u); err != nil {
		return notFoundOr(err, "user %q already exists", req.Username)
	}
	s.log.Info("user created", "user", u.Name, "admin", u.Admin, "by", p.Name)
	return writeJSON(w, http.StatusCreated, toUserJSON(u))
}

type updateUserRequest struct {
	Password        *string `json:"password,omitempty"`
	CurrentPassword string  `json:"currentPassword,omitempty"`
	Admin           *bool   `json:"admin,omitempty"`
	Disabled        *bool   `json:"disabled,omitempty"`
}

// updateUser lets a system admin change any user, and a user change their
// own password (given the current one).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	name := r.PathValue("user")
	self := p.Kind == auth.KindUser && p.Name == name
	if !p.SystemAdmin() && !self {
		return errf(http.StatusForbidden, codeDenied, "only a system admin may change another user")
	}
	var req updateUserRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	u, err := s.store.UserByName(r.Context(), name)
	if err != nil {
		return notFoundOr(err, "user %q does not exist", name)
	}
	if !p.SystemAdmin() {
		if req.Admin != nil || req.Disabled != nil {
			return errf(http.StatusForbidden, codeDenied, "only a system admin may change admin or disabled")
		}
		if _, err := s.auth.Login(r.Context(), name, req.CurrentPassword, auth.ClientIP(r)); err != nil {
			return errf(http.StatusForbidden, codeDenied, "currentPassword is wrong")
		}
	}
	if self && ((req.Admin != nil && !*req.Admin) || (req.Disabled != nil && *req.Disabled)) {
		return errf(http.StatusConflict, codeConflict, "you cannot remove your own admin rights or disable yourself; ask another system admin")
	}
	if req.Password != nil {
		if err := checkPassword(*req.Password); err != nil {
			return err
		}
		if u.PasswordHash, err = s.auth.Hasher().Hash(r.Context(), *req.Password); err != nil {
			return err
		}
	}
	wasAdmin, wasDisabled := u.Admin, u.Disabled
	if req.Admin != nil {
		u.Admin = *req.Admin
	}
	if req.Disabled != nil {
		u.Disabled = *req.Disabled
	}
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		return notFoundOr(err, "user %q does not exist", name)
	}
	if u.Admin != wasAdmin || u.Disabled != wasDisabled {
		s.Emit(r.Context(), events.Event{Kind: events.KindRoleChange, Actor: p.Name, Detail: map[string]string{
			"user": u.Name, "systemAdmin": strconv.FormatBool(u.Admin), "disabled": strconv.FormatBool(u.Disabled)}})
	}
	s.log.Info("user updated", "user", name, "by", p.Name, "password_changed", req.Password != nil, "admin", u.Admin, "disabled", u.Disabled)
	return writeJSON(w, http.StatusOK, toUserJSON(u))
}

// --- projects

type projectJSON struct {
	Name      string    `json:"name"`
	Public    bool      `json:"public"`
	CreatedAt time.Time `json:"createdAt"`
	Role      string    `json:"role,omitempty"` // the caller's role in it
}

func (s *Server) projectJSON(r *http.Request, p *auth.Principal, proj *store.Project) (projectJSON, error) {
	out := projectJSON{Name: proj.Name, Public: proj.Public, CreatedAt: proj.CreatedAt}
	if p.Kind == auth.KindUser {
		role, err := s.store.MemberRole(r.Context(), proj.ID, p.User.ID)
		if err == nil {
			out.Role = string(role)
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
	}
	return out, nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	projects, err := s.store.ListProjects(r.Context())
	if err != nil {
		return err
	}
	out := []projectJSON{}
	for i := range projects {
		proj := &projects[i]
		if ok, err := s.auth.Can(r.Context(), p, proj.Name, auth.ActionPull); err != nil {
			return err
		} else if !ok {
			continue
		}
		pj, err := s.projectJSON(r, p, proj)
		if err != nil {
			return err
		}
		out = append(out, pj)
	}
	return writeJSON(w, http.StatusOK, out)
}

type createProjectRequest struct {
	Name   string `json:"name"`
	Public bool   `json:"public"`
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	if p.Kind != auth.KindUser {
		return errf(http.StatusForbidden, codeDenied, "robot accounts cannot create projects")
	}
	if s.cfg.Auth.ProjectCreation == "admin" && !p.SystemAdmin() {
		return errf(http.StatusForbidden, codeDenied, "only system admins may create projects on this server (auth.project_creation: admin)")
	}
	var req createProjectRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Name) > maxProjectName || !projectNameRE.MatchString(req.Name) {
		return badRequest("project name %q: use lowercase letters and digits, separated by single '.', '_' or '-' (at most %d characters)", req.Name, maxProjectName)
	}
	proj := &store.Project{Name: req.Name, Public: req.Public}
	if err := s.store.CreateProject(r.Context(), proj); err != nil {
		return notFoundOr(err, "project %q already exists", req.Name)
	}
	// The creator administers the project, as in Harbor.
	if err := s.store.SetMember(r.Context(), proj.ID, p.User.ID, store.RoleAdmin); err != nil {
		return err
	}
	s.log.Info("project created", "project", proj.Name, "public", proj.Public, "by", p.Name)
	pj, err := s.projectJSON(r, p, proj)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, pj)
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionPull)
	if err != nil {
		return err
	}
	pj, err := s.projectJSON(r, p, proj)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pj)
}

type updateProjectRequest struct {
	Public *bool `json:"public,omitempty"`
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionProjectSettings)
	if err != nil {
		return err
	}
	var req updateProjectRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Public != nil {
		proj.Public = *req.Public
	}
	if err := s.store.UpdateProject(r.Context(), proj); err != nil {
		return notFoundOr(err, "project %q does not exist", proj.Name)
	}
	s.log.Info("project updated", "project", proj.Name, "public", proj.Public, "by", p.Name)
	if req.Public != nil {
		s.Emit(r.Context(), events.Event{Kind: events.KindPolicyChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"public": strconv.FormatBool(proj.Public)}})
	}
	pj, err := s.projectJSON(r, p, proj)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pj)
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionProjectSettings)
	if err != nil {
		return err
	}
	if err := s.store.DeleteProject(r.Context(), proj.ID); err != nil {
		return notFoundOr(err, "project %q still has repositories: delete them first", proj.Name)
	}
	s.log.Info("project deleted", "project", proj.Name, "by", p.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listRepositories(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := s.principalProject(r, auth.ActionListRepos)
	if err != nil {
		return err
	}
	n := 100
	if v := r.URL.Query().Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return badRequest("n must be a number from 1 to 1000")
		}
	}
	names, err := s.store.ListRepositories(r.Context(), proj.Name, r.URL.Query().Get("last"), n)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"repositories": names})
}

// --- members

type memberJSON struct {
	Username string `json:"username"`
	Role     string `json:"role"`
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := s.principalProject(r, auth.ActionViewMembers)
	if err != nil {
		return err
	}
	ms, err := s.store.ListMembers(r.Context(), proj.ID)
	if err != nil {
		return err
	}
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberJSON{Username: m.UserName, Role: string(m.Role)})
	}
	return writeJSON(w, http.StatusOK, out)
}

type setMemberRequest struct {
	Role string `json:"role"`
}

func (s *Server) setMember(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionManageMembers)
	if err != nil {
		return err
	}
	var req setMemberRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	role, err := store.ParseRole(req.Role)
	if err != nil {
		return badRequest("%v", err)
	}
	name := r.PathValue("user")
	u, err := s.store.UserByName(r.Context(), name)
	if err != nil {
		return notFoundOr(err, "user %q does not exist (a system admin creates users with `seawall user create`)", name)
	}
	if err := s.store.SetMember(r.Context(), proj.ID, u.ID, role); err != nil {
		return err
	}
	s.log.Info("member set", "project", proj.Name, "user", u.Name, "role", role, "by", p.Name)
	s.Emit(r.Context(), events.Event{Kind: events.KindRoleChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"user": u.Name, "role": string(role)}})
	return writeJSON(w, http.StatusOK, memberJSON{Username: u.Name, Role: string(role)})
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionManageMembers)
	if err != nil {
		return err
	}
	name := r.PathValue("user")
	u, err := s.store.UserByName(r.Context(), name)
	if err != nil {
		return notFoundOr(err, "user %q does not exist", name)
	}
	if err := s.store.RemoveMember(r.Context(), proj.ID, u.ID); err != nil {
		return notFoundOr(err, "user %q is not a member of project %q", name, proj.Name)
	}
	s.log.Info("member removed", "project", proj.Name, "user", u.Name, "by", p.Name)
	s.Emit(r.Context(), events.Event{Kind: events.KindRoleChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"user": u.Name, "role": ""}})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- robots

type robotJSON struct {
	Name        string     `json:"name"` // full name: robot$<project>+<name>
	Project     string     `json:"project"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	Revoked     bool       `json:"revoked"`
	Expired     bool       `json:"expired"`
	CreatedAt   time.Time  `json:"createdAt"`
	CreatedBy   string     `json:"createdBy"`
	// Secret is set only in the answer to the robot's creation.
	Secret string `json:"secret,omitempty"`
}

func (s *Server) toRobotJSON(project string, rb *store.Robot) robotJSON {
	out := robotJSON{Name: rb.Name, Project: project, Permissions: rb.Permissions, Revoked: rb.Revoked,
		CreatedAt: rb.CreatedAt, CreatedBy: rb.CreatedBy}
	if !rb.ExpiresAt.IsZero() {
		t := rb.ExpiresAt
		out.ExpiresAt = &t
		out.Expired = !s.now().Before(t)
	}
	if out.Permissions == nil {
		out.Permissions = []string{}
	}
	return out
}

func (s *Server) listRobots(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := s.principalProject(r, auth.ActionManageRobots)
	if err != nil {
		return err
	}
	robots, err := s.store.ListRobots(r.Context(), proj.ID)
	if err != nil {
		return err
	}
	out := make([]robotJSON, 0, len(robots))
	for i := range robots {
		out = append(out, s.toRobotJSON(proj.Name, &robots[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

type createRobotRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	// ExpiresIn is the robot's lifetime in seconds; 0 or absent: it never
	// expires.
	ExpiresIn int64 `json:"expiresIn,omitempty"`
}

func (s *Server) createRobot(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionManageRobots)
	if err != nil {
		return err
	}
	var req createRobotRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Name) > maxRobotName || !robotNameRE.MatchString(req.Name) {
		return badRequest("robot name %q: use lowercase letters and digits, separated by single '.', '_' or '-' (at most %d characters)", req.Name, maxRobotName)
	}
	perms, err := auth.ParseRobotPermissions(strings.Join(req.Permissions, ","))
	if err != nil {
		return badRequest("%v", err)
	}
	// A robot never gets more than its creator has in the project.
	got, err := s.auth.Allowed(r.Context(), p, proj.Name, perms)
	if err != nil {
		return err
	}
	if len(got) < len(perms) {
		return errf(http.StatusForbidden, codeDenied, "you cannot give a robot permissions you do not have in project %q", proj.Name)
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 10*365*24*3600 {
		return badRequest("expiresIn must be from 0 (never) to ten years, in seconds")
	}
	secret, err := auth.NewRobotSecret()
	if err != nil {
		return err
	}
	hash, err := s.auth.Hasher().Hash(r.Context(), secret)
	if err != nil {
		return err
	}
	rb := &store.Robot{ProjectID: proj.ID, Name: auth.RobotName(proj.Name, req.Name), SecretHash: hash, CreatedBy: p.Name}
	for _, a := range perms {
		rb.Permissions = append(rb.Permissions, string(a))
	}
	if req.ExpiresIn > 0 {
		rb.ExpiresAt = s.now().Add(time.Duration(req.ExpiresIn) * time.Second)
	}
	if err := s.store.CreateRobot(r.Context(), rb); err != nil {
		return notFoundOr(err, "robot %q already exists in project %q (names are never reused, even after revocation)", req.Name, proj.Name)
	}
	s.log.Info("robot created", "robot", rb.Name, "permissions", rb.Permissions, "expires", rb.ExpiresAt, "by", p.Name)
	s.Emit(r.Context(), events.Event{Kind: events.KindRoleChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"robot": rb.Name, "permissions": strings.Join(rb.Permissions, ",")}})
	out := s.toRobotJSON(proj.Name, rb)
	out.Secret = secret
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeRobot(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionManageRobots)
	if err != nil {
		return err
	}
	name := r.PathValue("robot")
	if !auth.IsRobotName(name) {
		name = auth.RobotName(proj.Name, name)
	}
	rb, err := s.store.RobotByName(r.Context(), name)
	if err == nil && rb.ProjectID != proj.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		return notFoundOr(err, "robot %q does not exist in project %q", r.PathValue("robot"), proj.Name)
	}
	if err := s.store.RevokeRobot(r.Context(), rb.ID); err != nil {
		return notFoundOr(err, "robot %q does not exist", name)
	}
	s.log.Info("robot revoked", "robot", rb.Name, "by", p.Name)
	s.Emit(r.Context(), events.Event{Kind: events.KindRoleChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"robot": rb.Name, "revoked": "true"}})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- garbage collection

type gcRequest struct {
	DryRun bool `json:"dryRun"`
}

type gcResponse struct {
	DryRun          bool     `json:"dryRun"`
	LiveBlobs       int      `json:"liveBlobs"`
	BlobsScanned    int      `json:"blobsScanned"`
	BlobsDeleted    int      `json:"blobsDeleted"`
	BytesFreed      int64    `json:"bytesFreed"`
	Deleted         []string `json:"deleted"`
	UploadsExpired  int      `json:"uploadsExpired"`
	OrphanUploads   int      `json:"orphanUploads"`
	DurationSeconds float64  `json:"durationSeconds"`
}

func (s *Server) gc(w http.ResponseWriter, r *http.Request) error {
	p, err := s.systemAdmin(r)
	if err != nil {
		return err
	}
	var req gcRequest
	if r.ContentLength != 0 {
		if err := readJSON(w, r, &req); err != nil {
			return err
		}
	}
	st, err := s.reg.GC(r.Context(), registry.GCOptions{DryRun: req.DryRun, Grace: s.cfg.Registry.GCGrace})
	if err != nil {
		return err
	}
	s.log.Info("garbage collection", "by", p.Name, "dry_run", st.DryRun, "blobs_deleted", st.BlobsDeleted, "bytes_freed", st.BytesFreed,
		"uploads_expired", st.UploadsExpired, "orphan_uploads", st.OrphanUploads, "duration", st.Duration)
	deleted := slices.Clone(st.Deleted)
	if deleted == nil {
		deleted = []string{}
	}
	return writeJSON(w, http.StatusOK, gcResponse{DryRun: st.DryRun, LiveBlobs: st.LiveBlobs, BlobsScanned: st.BlobsScanned,
		BlobsDeleted: st.BlobsDeleted, BytesFreed: st.BytesFreed, Deleted: deleted, UploadsExpired: st.UploadsExpired,
		OrphanUploads: st.OrphanUploads, DurationSeconds: st.Duration.Seconds()})
}
