package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/seawall-dev/seawall/internal/store"
)

// Repositories.

const repoCols = `id, project_id, name, created_at`

func scanRepo(r row) (store.Repository, error) {
	var rp store.Repository
	err := r.Scan(&rp.ID, &rp.ProjectID, &rp.Name, timeScan{&rp.CreatedAt})
	return rp, err
}

func (db *DB) RepositoryByName(ctx context.Context, name string) (*store.Repository, error) {
	r, err := one(ctx, db, scanRepo, `SELECT `+repoCols+` FROM repositories WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", name, err)
	}
	return r, nil
}

func (db *DB) EnsureRepository(ctx context.Context, name string) (*store.Repository, error) {
	r, err := db.RepositoryByName(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	project, _, ok := strings.Cut(name, "/")
	if !ok || project == "" {
		return nil, fmt.Errorf("repository %q: the name has no project (want PROJECT/NAME): %w", name, store.ErrNotFound)
	}
	// One statement: a racing creator makes this a no-op, and a project
	// that does not exist inserts nothing.
	_, err = db.w.exec(ctx, `INSERT INTO repositories (project_id, name, created_at)
		SELECT id, ?, ? FROM projects WHERE name = ? ON CONFLICT (name) DO NOTHING`, name, db.t(db.stamp(db.now())), project)
	if err != nil {
		return nil, fmt.Errorf("create repository %q: %w", name, db.err(err))
	}
	r, err = db.RepositoryByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("repository %q: project %q: %w", name, project, store.ErrNotFound)
	}
	return r, err
}

func (db *DB) ListRepositories(ctx context.Context, project, last string, n int) ([]string, error) {
	var names []string
	var err error
	if project == "" {
		names, err = list(ctx, db, scanString, `SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?`, last, limit(n))
	} else {
		names, err = list(ctx, db, scanString, `SELECT r.name FROM repositories r JOIN projects p ON p.id = r.project_id
			WHERE p.name = ? AND r.name > ? ORDER BY r.name LIMIT ?`, project, last, limit(n))
	}
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	return names, nil
}

func scanString(r row) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// repoExists turns an empty answer about repo into ErrNotFound when the
// repository itself does not exist.
func (db *DB) repoExists(ctx context.Context, repo string) error {
	_, err := db.RepositoryByName(ctx, repo)
	return err
}

// Manifests and tags.

// refBatch is how many references one INSERT carries: well under both
// SQLite's and PostgreSQL's limits on parameters.
const refBatch = 200

func (db *DB) PutManifest(ctx context.Context, m *store.Manifest, refs []string, tag string) error {
	m.CreatedAt = db.stamp(m.CreatedAt)
	var annotations any
	if len(m.Annotations) > 0 {
		b, err := json.Marshal(m.Annotations)
		if err != nil {
			return err
		}
		annotations = string(b)
	}
	var subject any
	if m.Subject != "" {
		subject = m.Subject
	}
	// Sorted and unique, so that concurrent writers take row locks in
	// the same order.
	refs = slices.Clone(refs)
	slices.Sort(refs)
	refs = slices.Compact(refs)

	err := db.inTx(ctx, func(w runner) error {
		// On conflict, the no-op update locks the stored row, so that a
		// racing delete waits for this transaction instead of leaving its
		// tag and references pointing at nothing. The same digest is the
		// same content: what is stored stays.
		var id int64
		err := w.row(ctx, `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject, annotations, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (repository_id, digest) DO UPDATE SET repository_id = excluded.repository_id RETURNING id, created_at`,
			m.RepositoryID, m.Digest, m.MediaType, m.ArtifactType, m.Size, m.Content, subject, annotations, db.t(m.CreatedAt)).Scan(&id, timeScan{&m.CreatedAt})
		if err != nil {
			return db.fkNotFound(err, fmt.Sprintf("repository %d", m.RepositoryID))
		}
		for rest := refs; len(rest) > 0; {
			batch := rest[:min(len(rest), refBatch)]
			rest = rest[len(batch):]
			args := make([]any, 0, 2*len(batch))
			for _, d := range batch {
				args = append(args, id, d)
			}
			values := strings.Repeat("(?, ?), ", len(batch))
			query := `INSERT INTO manifest_refs (manifest_id, digest) VALUES ` + values[:len(values)-2] + ` ON CONFLICT DO NOTHING`
			if _, err := w.exec(ctx, query, args...); err != nil {
				return fmt.Errorf("references: %w", err)
			}
		}
		if tag == "" {
			return nil
		}
		_, err = w.exec(ctx, `INSERT INTO tags (repository_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
			m.RepositoryID, tag, id, db.t(db.now()))
		if err != nil {
			return fmt.Errorf("tag %q: %w", tag, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put manifest %s: %w", m.Digest, db.err(err))
	}
	return nil
}

func (db *DB) Manifest(ctx context.Context, repo, digest string) (*store.Manifest, error) {
	scan := func(r row) (store.Manifest, error) {
		var m store.Manifest
		var subject sql.NullString
		var annotations []byte
		err := r.Scan(&m.RepositoryID, &m.Digest, &m.MediaType, &m.ArtifactType, &m.Size, &m.Content, &subject, &annotations, timeScan{&m.CreatedAt})
		m.Subject = subject.String
		if err == nil {
			m.Annotations, err = decodeAnnotations(annotations)
		}
		return m, err
	}
	m, err := one(ctx, db, scan, `SELECT m.repository_id, m.digest, m.media_type, m.artifact_type, m.size, m.content, m.subject, m.annotations, m.created_at
		FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?`, repo, digest)
	if err != nil {
		return nil, fmt.Errorf("manifest %s@%s: %w", repo, digest, err)
	}
	return m, nil
}

func decodeAnnotations(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var a map[string]string
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("annotations: %w", err)
	}
	return a, nil
}

func (db *DB) ResolveTag(ctx context.Context, repo, tag string) (string, error) {
	var digest string
	err := db.r.row(ctx, `SELECT m.digest FROM tags t
		JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id
		WHERE r.name = ? AND t.name = ?`, repo, tag).Scan(&digest)
	if err != nil {
		return "", fmt.Errorf("tag %s:%s: %w", repo, tag, db.lookupErr(err))
	}
	return digest, nil
}

func (db *DB) ListTags(ctx context.Context, repo, last string, n int) ([]string, error) {
	tags, err := list(ctx, db, scanString, `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
		WHERE r.name = ? AND t.name > ? ORDER BY t.name LIMIT ?`, repo, last, limit(n))
	if err == nil && len(tags) == 0 {
		err = db.repoExists(ctx, repo)
	}
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}

func (db *DB) DeleteTag(ctx context.Context, repo, tag string) error {
	err := affected(db.w.exec(ctx, `DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?`, repo, tag))
	if err != nil {
		return fmt.Errorf("delete tag %s:%s: %w", repo, tag, db.lookupErr(err))
	}
	return nil
}

func (db *DB) DeleteManifest(ctx context.Context, repo, digest string) error {
	// Its tags and references go with it (ON DELETE CASCADE).
	err := affected(db.w.exec(ctx, `DELETE FROM manifests WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?`, repo, digest))
	if err != nil {
		return fmt.Errorf("delete manifest %s@%s: %w", repo, digest, db.lookupErr(err))
	}
	return nil
}

func (db *DB) Referrers(ctx context.Context, repo, subject string) ([]store.Descriptor, error) {
	scan := func(r row) (store.Descriptor, error) {
		var d store.Descriptor
		var annotations []byte
		err := r.Scan(&d.MediaType, &d.ArtifactType, &d.Digest, &d.Size, &annotations)
		if err == nil {
			d.Annotations, err = decodeAnnotations(annotations)
		}
		return d, err
	}
	ds, err := list(ctx, db, scan, `SELECT m.media_type, m.artifact_type, m.digest, m.size, m.annotations
		FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.subject = ? ORDER BY m.digest`, repo, subject)
	if err == nil && len(ds) == 0 {
		err = db.repoExists(ctx, repo)
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s@%s: %w", repo, subject, err)
	}
	return ds, nil
}
