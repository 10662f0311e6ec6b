package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/seawall-dev/seawall/internal/store"
)

// The audit log. audit_head's single row is updated first in every append:
// its row lock (PostgreSQL) or the write lock (SQLite) serialises appends,
// so two appends can never chain to the same previous entry.

const auditCols = `seq, time, kind, actor, project, repo, digest, tag, detail, prev_hash, hash`

func (db *DB) AppendAudit(ctx context.Context, es []*store.AuditEntry, seal func(*store.AuditEntry) (string, error)) error {
	if len(es) == 0 {
		return nil
	}
	for _, e := range es {
		if len(e.Detail) == 0 {
			e.Detail = []byte("{}")
		}
		e.Time = db.stamp(e.Time)
	}
	err := db.inTx(ctx, func(w runner) error {
		var last int64
		var prev string
		if err := w.row(ctx, `UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash`, len(es)).Scan(&last, &prev); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		seq := last - int64(len(es))
		for _, e := range es {
			seq++
			e.Seq, e.PrevHash = seq, prev
			h, err := seal(e)
			if err != nil {
				return err
			}
			e.Hash, prev = h, h
			_, err = w.exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.Seq, db.t(e.Time), e.Kind, e.Actor, e.Project, e.Repo, e.Digest, e.Tag, e.Detail, e.PrevHash, e.Hash)
			if err != nil {
				return err
			}
		}
		if _, err := w.exec(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, prev); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d audit entries: %w", len(es), db.err(err))
	}
	return nil
}

// scanAudit reads one entry. A time column that no longer parses marks
// the entry Damaged instead of failing the walk, so that verification can
// name it.
func scanAudit(r row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var t any
	err := r.Scan(&e.Seq, &t, &e.Kind, &e.Actor, &e.Project, &e.Repo, &e.Digest, &e.Tag, &e.Detail, &e.PrevHash, &e.Hash)
	if err != nil {
		return e, err
	}
	if err := (timeScan{&e.Time}).Scan(t); err != nil {
		e.Damaged = fmt.Sprintf("time %q does not parse", fmt.Sprint(t))
	}
	return e, nil
}

func (db *DB) AuditEntries(ctx context.Context, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	var where []string
	var args []any
	if f.AfterSeq > 0 {
		where = append(where, `seq > ?`)
		args = append(args, f.AfterSeq)
	}
	if !f.Since.IsZero() {
		where = append(where, `time >= ?`)
		args = append(args, db.t(f.Since))
	}
	if f.Project != "" {
		where = append(where, `project = ?`)
		args = append(args, f.Project)
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	// Not through the statement cache: the query varies with the filter.
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return fmt.Errorf("audit log: %w", db.lookupErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := db.r.row(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("audit head: %w", db.err(err))
	}
	return seq, hash, nil
}
