package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Users.

const userCols = `id, name, password_hash, admin, disabled, created_at`

func scanUser(r row) (store.User, error) {
	var u store.User
	err := r.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.Admin, &u.Disabled, timeScan{&u.CreatedAt})
	return u, err
}

func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	u.CreatedAt = db.stamp(u.CreatedAt)
	err := db.w.row(ctx, `INSERT INTO users (name, password_hash, admin, disabled, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		u.Name, u.PasswordHash, u.Admin, u.Disabled, db.t(u.CreatedAt)).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, db.err(err))
	}
	return nil
}

func (db *DB) UserByName(ctx context.Context, name string) (*store.User, error) {
	u, err := one(ctx, db, scanUser, `SELECT `+userCols+` FROM users WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

func (db *DB) UserByID(ctx context.Context, id int64) (*store.User, error) {
	u, err := one(ctx, db, scanUser, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

func (db *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	us, err := list(ctx, db, scanUser, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

func (db *DB) UpdateUser(ctx context.Context, u *store.User) error {
	err := affected(db.w.exec(ctx, `UPDATE users SET password_hash = ?, admin = ?, disabled = ? WHERE id = ?`,
		u.PasswordHash, u.Admin, u.Disabled, u.ID))
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, db.err(err))
	}
	return nil
}

// Projects and members.

const projectCols = `id, name, public, settings, created_at`

func scanProject(r row) (store.Project, error) {
	var p store.Project
	err := r.Scan(&p.ID, &p.Name, &p.Public, &p.Settings, timeScan{&p.CreatedAt})
	return p, err
}

func (db *DB) CreateProject(ctx context.Context, p *store.Project) error {
	p.CreatedAt = db.stamp(p.CreatedAt)
	err := db.w.row(ctx, `INSERT INTO projects (name, public, settings, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		p.Name, p.Public, p.Settings, db.t(p.CreatedAt)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("create project %q: %w", p.Name, db.err(err))
	}
	return nil
}

func (db *DB) ProjectByName(ctx context.Context, name string) (*store.Project, error) {
	p, err := one(ctx, db, scanProject, `SELECT `+projectCols+` FROM projects WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("project %q: %w", name, err)
	}
	return p, nil
}

func (db *DB) ListProjects(ctx context.Context) ([]store.Project, error) {
	ps, err := list(ctx, db, scanProject, `SELECT `+projectCols+` FROM projects ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}

func (db *DB) UpdateProject(ctx context.Context, p *store.Project) error {
	err := affected(db.w.exec(ctx, `UPDATE projects SET public = ?, settings = ? WHERE id = ?`, p.Public, p.Settings, p.ID))
	if err != nil {
		return fmt.Errorf("update project %d: %w", p.ID, db.err(err))
	}
	return nil
}

func (db *DB) DeleteProject(ctx context.Context, id int64) error {
	err := db.inTx(ctx, func(w runner) error {
		var repos int
		if err := w.row(ctx, `SELECT COUNT(*) FROM repositories WHERE project_id = ?`, id).Scan(&repos); err != nil {
			return err
		}
		if repos > 0 {
			return fmt.Errorf("%w: it still has %d repositories: delete them first", store.ErrConflict, repos)
		}
		// Members and robots go with the project (ON DELETE CASCADE); a
		// repository created meanwhile fails the foreign key: ErrConflict.
		return affected(w.exec(ctx, `DELETE FROM projects WHERE id = ?`, id))
	})
	if err != nil {
		return fmt.Errorf("delete project %d: %w", id, db.err(err))
	}
	return nil
}

func (db *DB) SetMember(ctx context.Context, projectID, userID int64, role store.Role) error {
	if _, err := store.ParseRole(string(role)); err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	_, err := db.w.exec(ctx, `INSERT INTO members (project_id, user_id, role) VALUES (?, ?, ?)
		ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role`, projectID, userID, string(role))
	if err != nil {
		return fmt.Errorf("set member %d in project %d: %w", userID, projectID, db.fkNotFound(err, "no such project or user"))
	}
	return nil
}

func (db *DB) RemoveMember(ctx context.Context, projectID, userID int64) error {
	err := affected(db.w.exec(ctx, `DELETE FROM members WHERE project_id = ? AND user_id = ?`, projectID, userID))
	if err != nil {
		return fmt.Errorf("remove member %d from project %d: %w", userID, projectID, db.err(err))
	}
	return nil
}

func (db *DB) MemberRole(ctx context.Context, projectID, userID int64) (store.Role, error) {
	var role string
	err := db.r.row(ctx, `SELECT role FROM members WHERE project_id = ? AND user_id = ?`, projectID, userID).Scan(&role)
	if err != nil {
		return "", fmt.Errorf("member %d of project %d: %w", userID, projectID, db.lookupErr(err))
	}
	return store.Role(role), nil
}

func (db *DB) ListMembers(ctx context.Context, projectID int64) ([]store.Member, error) {
	scan := func(r row) (store.Member, error) {
		var m store.Member
		var role string
		err := r.Scan(&m.ProjectID, &m.UserID, &m.UserName, &role)
		m.Role = store.Role(role)
		return m, err
	}
	ms, err := list(ctx, db, scan, `SELECT m.project_id, m.user_id, u.name, m.role FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.project_id = ? ORDER BY u.name`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list members of project %d: %w", projectID, err)
	}
	return ms, nil
}

// Robots and tokens.

const robotCols = `id, project_id, name, secret_hash, permissions, expires_at, revoked, created_at, created_by`

func scanRobot(r row) (store.Robot, error) {
	var rb store.Robot
	var perms []byte
	err := r.Scan(&rb.ID, &rb.ProjectID, &rb.Name, &rb.SecretHash, &perms, timeScan{&rb.ExpiresAt}, &rb.Revoked, timeScan{&rb.CreatedAt}, &rb.CreatedBy)
	if err == nil && len(perms) > 0 {
		if err = json.Unmarshal(perms, &rb.Permissions); err != nil {
			err = fmt.Errorf("robot %q permissions: %w", rb.Name, err)
		}
	}
	return rb, err
}

func (db *DB) CreateRobot(ctx context.Context, r *store.Robot) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	if r.Permissions == nil {
		perms = []byte("[]")
	}
	r.CreatedAt = db.stamp(r.CreatedAt)
	r.ExpiresAt = norm(r.ExpiresAt)
	err = db.w.row(ctx, `INSERT INTO robots (project_id, name, secret_hash, permissions, expires_at, revoked, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.ProjectID, r.Name, r.SecretHash, string(perms), db.t(r.ExpiresAt), r.Revoked, db.t(r.CreatedAt), r.CreatedBy).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("create robot %q: %w", r.Name, db.fkNotFound(err, "no such project"))
	}
	return nil
}

func (db *DB) RobotByName(ctx context.Context, name string) (*store.Robot, error) {
	r, err := one(ctx, db, scanRobot, `SELECT `+robotCols+` FROM robots WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("robot %q: %w", name, err)
	}
	return r, nil
}

func (db *DB) ListRobots(ctx context.Context, projectID int64) ([]store.Robot, error) {
	rs, err := list(ctx, db, scanRobot, `SELECT `+robotCols+` FROM robots WHERE project_id = ? ORDER BY name`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list robots of project %d: %w", projectID, err)
	}
	return rs, nil
}

func (db *DB) RevokeRobot(ctx context.Context, id int64) error {
	err := affected(db.w.exec(ctx, `UPDATE robots SET revoked = ? WHERE id = ?`, true, id))
	if err != nil {
		return fmt.Errorf("revoke robot %d: %w", id, db.err(err))
	}
	return nil
}

const tokenCols = `id, user_id, hash, name, expires_at, created_at, last_used`

func scanToken(r row) (store.Token, error) {
	var t store.Token
	err := r.Scan(&t.ID, &t.UserID, &t.Hash, &t.Name, timeScan{&t.ExpiresAt}, timeScan{&t.CreatedAt}, timeScan{&t.LastUsed})
	return t, err
}

func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	t.CreatedAt = db.stamp(t.CreatedAt)
	t.ExpiresAt, t.LastUsed = norm(t.ExpiresAt), norm(t.LastUsed)
	err := db.w.row(ctx, `INSERT INTO tokens (user_id, hash, name, expires_at, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Hash, t.Name, db.t(t.ExpiresAt), db.t(t.CreatedAt), db.t(t.LastUsed)).Scan(&t.ID)
	if err != nil {
		// The hash is a secret's digest: keep it out of the message.
		return fmt.Errorf("create token %q: %w", t.Name, db.fkNotFound(err, "no such user"))
	}
	return nil
}

func (db *DB) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	t, err := one(ctx, db, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	err := affected(db.w.exec(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, db.t(at), id))
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, db.err(err))
	}
	return nil
}

func (db *DB) RevokeToken(ctx context.Context, id int64) error {
	err := affected(db.w.exec(ctx, `DELETE FROM tokens WHERE id = ?`, id))
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, db.err(err))
	}
	return nil
}
