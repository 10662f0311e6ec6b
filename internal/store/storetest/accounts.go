package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	alice := &store.User{Name: "alice", PasswordHash: "$argon2id$alice", Admin: true}
	must(t, "create", s.CreateUser(ctx, alice))
	if alice.ID == 0 || alice.CreatedAt.IsZero() {
		t.Fatalf("CreateUser did not set ID and CreatedAt: %+v", alice)
	}
	bob := user(t, s, "bob")
	if bob.ID == alice.ID {
		t.Fatalf("two users share ID %d", bob.ID)
	}
	wantErr(t, "create duplicate", s.CreateUser(ctx, &store.User{Name: "alice", PasswordHash: "x"}), store.ErrExists)

	got, err := s.UserByName(ctx, "alice")
	must(t, "by name", err)
	if d := diff(alice, got); d != "" {
		t.Errorf("UserByName (-want +got):\n%s", d)
	}
	got, err = s.UserByID(ctx, bob.ID)
	must(t, "by id", err)
	if d := diff(bob, got); d != "" {
		t.Errorf("UserByID (-want +got):\n%s", d)
	}
	_, err = s.UserByName(ctx, "carol")
	wantErr(t, "missing by name", err, store.ErrNotFound)
	_, err = s.UserByID(ctx, bob.ID+1000)
	wantErr(t, "missing by id", err, store.ErrNotFound)
	_, err = s.UserByName(ctx, "ALICE")
	wantErr(t, "names are case-sensitive", err, store.ErrNotFound)

	bob.PasswordHash, bob.Admin, bob.Disabled = "$argon2id$new", true, true
	bob.Name = "renamed" // not updatable: ignored
	must(t, "update", s.UpdateUser(ctx, bob))
	bob.Name = "bob"
	got, err = s.UserByID(ctx, bob.ID)
	must(t, "by id after update", err)
	if d := diff(bob, got); d != "" {
		t.Errorf("after UpdateUser (-want +got):\n%s", d)
	}
	wantErr(t, "update missing", s.UpdateUser(ctx, &store.User{ID: bob.ID + 1000}), store.ErrNotFound)

	user(t, s, "aaron")
	users, err := s.ListUsers(ctx)
	must(t, "list", err)
	if d := diff([]string{"aaron", "alice", "bob"}, pluck(users, func(u store.User) string { return u.Name })); d != "" {
		t.Errorf("ListUsers names (-want +got):\n%s", d)
	}
}

func testProjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	settings := []byte(`{"scanOnPush": true,  "z": [1, 2], "a": null}`) // kept byte for byte
	lib := &store.Project{Name: "library", Public: true, Settings: settings}
	must(t, "create", s.CreateProject(ctx, lib))
	if lib.ID == 0 || lib.CreatedAt.IsZero() {
		t.Fatalf("CreateProject did not set ID and CreatedAt: %+v", lib)
	}
	wantErr(t, "create duplicate", s.CreateProject(ctx, &store.Project{Name: "library"}), store.ErrExists)
	got, err := s.ProjectByName(ctx, "library")
	must(t, "by name", err)
	if d := diff(lib, got); d != "" {
		t.Errorf("ProjectByName (-want +got):\n%s", d)
	}
	_, err = s.ProjectByName(ctx, "nope")
	wantErr(t, "missing", err, store.ErrNotFound)

	lib.Public, lib.Settings = false, []byte(`{"preventVulnerable":"high"}`)
	must(t, "update", s.UpdateProject(ctx, lib))
	got, err = s.ProjectByName(ctx, "library")
	must(t, "by name after update", err)
	if d := diff(lib, got); d != "" {
		t.Errorf("after UpdateProject (-want +got):\n%s", d)
	}
	wantErr(t, "update missing", s.UpdateProject(ctx, &store.Project{ID: lib.ID + 1000}), store.ErrNotFound)

	project(t, s, "apps")
	project(t, s, "Zeta")
	ps, err := s.ListProjects(ctx)
	must(t, "list", err)
	if d := diff([]string{"Zeta", "apps", "library"}, pluck(ps, func(p store.Project) string { return p.Name })); d != "" {
		t.Errorf("ListProjects names, byte order (-want +got):\n%s", d)
	}
}

func testDeleteProject(t *testing.T, s store.Store) {
	ctx := context.Background()
	repo(t, s, "full/app")
	p, err := s.ProjectByName(ctx, "full")
	must(t, "by name", err)
	wantErr(t, "delete with repositories", s.DeleteProject(ctx, p.ID), store.ErrConflict)
	if _, err := s.ProjectByName(ctx, "full"); err != nil {
		t.Fatalf("a refused delete removed the project: %v", err)
	}

	empty := project(t, s, "empty")
	u := user(t, s, "dev")
	must(t, "set member", s.SetMember(ctx, empty.ID, u.ID, store.RoleDeveloper))
	must(t, "create robot", s.CreateRobot(ctx, &store.Robot{ProjectID: empty.ID, Name: "robot$empty+ci", SecretHash: "h"}))
	must(t, "delete", s.DeleteProject(ctx, empty.ID))
	_, err = s.ProjectByName(ctx, "empty")
	wantErr(t, "deleted project", err, store.ErrNotFound)
	_, err = s.RobotByName(ctx, "robot$empty+ci")
	wantErr(t, "its robots go with it", err, store.ErrNotFound)
	_, err = s.MemberRole(ctx, empty.ID, u.ID)
	wantErr(t, "its members go with it", err, store.ErrNotFound)
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Errorf("deleting a project removed a member's user: %v", err)
	}
	wantErr(t, "delete again", s.DeleteProject(ctx, empty.ID), store.ErrNotFound)
	// The name is free again.
	project(t, s, "empty")
}

func testMembers(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := project(t, s, "team")
	other := project(t, s, "other")
	zed, amy := user(t, s, "zed"), user(t, s, "amy")

	_, err := s.MemberRole(ctx, p.ID, zed.ID)
	wantErr(t, "role of a non-member", err, store.ErrNotFound)
	must(t, "add", s.SetMember(ctx, p.ID, zed.ID, store.RoleGuest))
	must(t, "add", s.SetMember(ctx, p.ID, amy.ID, store.RoleLimitedGuest))
	must(t, "change", s.SetMember(ctx, p.ID, zed.ID, store.RoleMaintainer))
	must(t, "other project", s.SetMember(ctx, other.ID, zed.ID, store.RoleAdmin))
	role, err := s.MemberRole(ctx, p.ID, zed.ID)
	must(t, "role", err)
	if role != store.RoleMaintainer {
		t.Errorf("role = %q, want maintainer", role)
	}
	ms, err := s.ListMembers(ctx, p.ID)
	must(t, "list", err)
	want := []store.Member{
		{ProjectID: p.ID, UserID: amy.ID, UserName: "amy", Role: store.RoleLimitedGuest},
		{ProjectID: p.ID, UserID: zed.ID, UserName: "zed", Role: store.RoleMaintainer},
	}
	if d := diff(want, ms); d != "" {
		t.Errorf("ListMembers (-want +got):\n%s", d)
	}

	wantErr(t, "unknown user", s.SetMember(ctx, p.ID, zed.ID+1000, store.RoleGuest), store.ErrNotFound)
	wantErr(t, "unknown project", s.SetMember(ctx, p.ID+1000, zed.ID, store.RoleGuest), store.ErrNotFound)
	if err := s.SetMember(ctx, p.ID, zed.ID, store.Role("owner")); err == nil {
		t.Error("SetMember took an unknown role")
	}

	must(t, "remove", s.RemoveMember(ctx, p.ID, zed.ID))
	wantErr(t, "remove again", s.RemoveMember(ctx, p.ID, zed.ID), store.ErrNotFound)
	_, err = s.MemberRole(ctx, p.ID, zed.ID)
	wantErr(t, "removed member", err, store.ErrNotFound)
	if role, err := s.MemberRole(ctx, other.ID, zed.ID); err != nil || role != store.RoleAdmin {
		t.Errorf("membership in another project: %q, %v", role, err)
	}
	ms, err = s.ListMembers(ctx, p.ID+1000)
	must(t, "list unknown project", err)
	if len(ms) != 0 {
		t.Errorf("members of a missing project: %v", ms)
	}
}

func testRobots(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := project(t, s, "ci")
	q := project(t, s, "qa")
	push := &store.Robot{
		ProjectID:   p.ID,
		Name:        "robot$ci+push",
		SecretHash:  "$argon2id$secret",
		Permissions: []string{"pull", "push"},
		ExpiresAt:   ts(30),
		CreatedBy:   "admin",
	}
	must(t, "create", s.CreateRobot(ctx, push))
	if push.ID == 0 || push.CreatedAt.IsZero() {
		t.Fatalf("CreateRobot did not set ID and CreatedAt: %+v", push)
	}
	forever := &store.Robot{ProjectID: p.ID, Name: "robot$ci+forever", SecretHash: "h", Permissions: []string{"pull"}}
	must(t, "create without expiry", s.CreateRobot(ctx, forever))
	must(t, "create in other project", s.CreateRobot(ctx, &store.Robot{ProjectID: q.ID, Name: "robot$qa+x", SecretHash: "h"}))
	wantErr(t, "duplicate name", s.CreateRobot(ctx, &store.Robot{ProjectID: q.ID, Name: "robot$ci+push", SecretHash: "h"}), store.ErrExists)
	wantErr(t, "unknown project", s.CreateRobot(ctx, &store.Robot{ProjectID: p.ID + 1000, Name: "robot$nope+x", SecretHash: "h"}), store.ErrNotFound)

	got, err := s.RobotByName(ctx, "robot$ci+push")
	must(t, "by name", err)
	want := *push
	want.ExpiresAt = kept(push.ExpiresAt)
	if d := diff(&want, got); d != "" {
		t.Errorf("RobotByName (-want +got):\n%s", d)
	}
	got, err = s.RobotByName(ctx, "robot$ci+forever")
	must(t, "by name", err)
	if !got.ExpiresAt.IsZero() {
		t.Errorf("a robot without expiry expires at %v", got.ExpiresAt)
	}
	_, err = s.RobotByName(ctx, "robot$ci+nope")
	wantErr(t, "missing", err, store.ErrNotFound)

	rs, err := s.ListRobots(ctx, p.ID)
	must(t, "list", err)
	if len(rs) != 2 || rs[0].Name != "robot$ci+forever" || rs[1].Name != "robot$ci+push" {
		t.Errorf("ListRobots = %+v, want forever then push", rs)
	}

	must(t, "revoke", s.RevokeRobot(ctx, push.ID))
	got, err = s.RobotByName(ctx, "robot$ci+push")
	must(t, "by name after revoke", err)
	if !got.Revoked {
		t.Error("revoked robot is not Revoked")
	}
	wantErr(t, "revoke missing", s.RevokeRobot(ctx, push.ID+1000), store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t, s, "tok")
	tok := &store.Token{UserID: u.ID, Hash: "9f86d081884c7d659a2feaa0c55ad015", Name: "laptop", ExpiresAt: ts(40)}
	must(t, "create", s.CreateToken(ctx, tok))
	if tok.ID == 0 || tok.CreatedAt.IsZero() {
		t.Fatalf("CreateToken did not set ID and CreatedAt: %+v", tok)
	}
	wantErr(t, "duplicate hash", s.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: tok.Hash}), store.ErrExists)
	wantErr(t, "unknown user", s.CreateToken(ctx, &store.Token{UserID: u.ID + 1000, Hash: "other"}), store.ErrNotFound)

	got, err := s.TokenByHash(ctx, tok.Hash)
	must(t, "by hash", err)
	want := *tok
	want.ExpiresAt = kept(tok.ExpiresAt)
	if d := diff(&want, got); d != "" {
		t.Errorf("TokenByHash (-want +got):\n%s", d)
	}
	if !got.LastUsed.IsZero() {
		t.Errorf("unused token LastUsed = %v", got.LastUsed)
	}
	_, err = s.TokenByHash(ctx, "0000")
	wantErr(t, "missing", err, store.ErrNotFound)

	used := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	must(t, "touch", s.TouchToken(ctx, tok.ID, used))
	got, err = s.TokenByHash(ctx, tok.Hash)
	must(t, "by hash after touch", err)
	if !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	wantErr(t, "touch missing", s.TouchToken(ctx, tok.ID+1000, used), store.ErrNotFound)

	must(t, "revoke", s.RevokeToken(ctx, tok.ID))
	_, err = s.TokenByHash(ctx, tok.Hash)
	wantErr(t, "revoked", err, store.ErrNotFound)
	wantErr(t, "revoke again", s.RevokeToken(ctx, tok.ID), store.ErrNotFound)
}
