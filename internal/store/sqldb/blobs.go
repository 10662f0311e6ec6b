package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Blob links.

func (db *DB) LinkBlob(ctx context.Context, repo, digest string, size int64) error {
	// Linking again refreshes linked_at: the blob was pushed just now,
	// so garbage collection must keep it as a push in flight.
	err := affected(db.w.exec(ctx, `INSERT INTO blob_links (repository_id, digest, size, linked_at)
		SELECT id, ?, ?, ? FROM repositories WHERE name = ?
		ON CONFLICT (repository_id, digest) DO UPDATE SET size = excluded.size, linked_at = excluded.linked_at`,
		digest, size, db.t(db.now()), repo))
	if err != nil {
		return fmt.Errorf("link blob %s into %s: %w", digest, repo, db.err(err))
	}
	return nil
}

func (db *DB) BlobSize(ctx context.Context, repo, digest string) (int64, error) {
	var size int64
	err := db.r.row(ctx, `SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repository_id
		WHERE r.name = ? AND b.digest = ?`, repo, digest).Scan(&size)
	if err != nil {
		return 0, fmt.Errorf("blob %s in %s: %w", digest, repo, db.lookupErr(err))
	}
	return size, nil
}

func (db *DB) UnlinkBlob(ctx context.Context, repo, digest string) error {
	err := affected(db.w.exec(ctx, `DELETE FROM blob_links WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?`, repo, digest))
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", digest, repo, db.lookupErr(err))
	}
	return nil
}

func (db *DB) BlobRepositories(ctx context.Context, digest string) ([]string, error) {
	names, err := list(ctx, db, scanString, `SELECT r.name FROM blob_links b JOIN repositories r ON r.id = b.repository_id
		WHERE b.digest = ? ORDER BY r.name`, digest)
	if err != nil {
		return nil, fmt.Errorf("repositories holding %s: %w", digest, err)
	}
	return names, nil
}

// liveSince is the SQL that finds the live digests, with the time that
// links must be no older than as its one parameter.
const liveSince = `SELECT digest FROM manifest_refs
	UNION SELECT digest FROM manifests
	UNION SELECT digest FROM blob_links WHERE linked_at >= ?`

// epoch stands for a zero notBefore: every link is at or after it.
var epoch = time.Unix(0, 0)

func (db *DB) LiveBlobs(ctx context.Context, notBefore time.Time, fn func(digest string) error) error {
	if notBefore.IsZero() {
		notBefore = epoch
	}
	rows, err := db.r.rows(ctx, liveSince, db.t(notBefore))
	if err != nil {
		return fmt.Errorf("live blobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return fmt.Errorf("live blobs: %w", err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("live blobs: %w", err)
	}
	return nil
}

func (db *DB) SweepBlob(ctx context.Context, digest string, notBefore time.Time) (bool, error) {
	if notBefore.IsZero() {
		notBefore = epoch
	}
	swept := false
	err := db.inTx(ctx, func(w runner) error {
		var live bool
		err := w.row(ctx, `SELECT EXISTS (SELECT 1 FROM manifest_refs WHERE digest = ?)
			OR EXISTS (SELECT 1 FROM manifests WHERE digest = ?)
			OR EXISTS (SELECT 1 FROM blob_links WHERE digest = ? AND linked_at >= ?)`,
			digest, digest, digest, db.t(notBefore)).Scan(&live)
		if err != nil || live {
			return err
		}
		_, err = w.exec(ctx, `DELETE FROM blob_links WHERE digest = ?`, digest)
		swept = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sweep blob %s: %w", digest, db.err(err))
	}
	return swept, nil
}

// Uploads.

const uploadCols = `id, repository, byte_offset, hash_state, started_at, updated_at`

func scanUpload(r row) (store.Upload, error) {
	var u store.Upload
	err := r.Scan(&u.ID, &u.Repository, &u.Offset, &u.HashState, timeScan{&u.StartedAt}, timeScan{&u.UpdatedAt})
	return u, err
}

func (db *DB) CreateUpload(ctx context.Context, u *store.Upload) error {
	u.StartedAt = db.stamp(u.StartedAt)
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.StartedAt
	}
	u.UpdatedAt = norm(u.UpdatedAt)
	_, err := db.w.exec(ctx, `INSERT INTO uploads (`+uploadCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Repository, u.Offset, u.HashState, db.t(u.StartedAt), db.t(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create upload: %w", db.err(err))
	}
	return nil
}

func (db *DB) Upload(ctx context.Context, id string) (*store.Upload, error) {
	u, err := one(ctx, db, scanUpload, `SELECT `+uploadCols+` FROM uploads WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	return u, nil
}

func (db *DB) UpdateUpload(ctx context.Context, u *store.Upload) error {
	u.UpdatedAt = db.stamp(u.UpdatedAt)
	// The offset check and the write are one statement, so two requests
	// racing on one session cannot both move it.
	err := affected(db.w.exec(ctx, `UPDATE uploads SET byte_offset = ?, hash_state = ?, updated_at = ? WHERE id = ? AND byte_offset <= ?`,
		u.Offset, u.HashState, db.t(u.UpdatedAt), u.ID, u.Offset))
	if err == store.ErrNotFound {
		if _, err := db.Upload(ctx, u.ID); err != nil {
			return fmt.Errorf("update upload: %w", err)
		}
		return fmt.Errorf("update upload: offset %d is behind the session's: %w", u.Offset, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update upload: %w", db.err(err))
	}
	return nil
}

func (db *DB) DeleteUpload(ctx context.Context, id string) error {
	err := affected(db.w.exec(ctx, `DELETE FROM uploads WHERE id = ?`, id))
	if err != nil {
		return fmt.Errorf("delete upload: %w", db.lookupErr(err))
	}
	return nil
}

func (db *DB) ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error) {
	us, err := list(ctx, db, scanUpload, `SELECT `+uploadCols+` FROM uploads WHERE updated_at < ? ORDER BY updated_at, id`, db.t(before))
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	return us, nil
}
