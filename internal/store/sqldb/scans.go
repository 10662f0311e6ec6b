package sqldb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/seawall-dev/seawall/internal/store"
)

// The scan queue and scan results.

const jobCols = `j.id, r.name, m.digest, j.priority, j.reason, j.attempts, j.enqueued_at, j.not_before, j.owner, j.lease_until, j.last_error`

const jobFrom = ` FROM scan_jobs j JOIN manifests m ON m.id = j.manifest_id JOIN repositories r ON r.id = m.repository_id`

func scanJob(r row) (store.ScanJob, error) {
	var j store.ScanJob
	err := r.Scan(&j.ID, &j.Repository, &j.Digest, &j.Priority, &j.Reason, &j.Attempts,
		timeScan{&j.EnqueuedAt}, timeScan{&j.NotBefore}, &j.Owner, timeScan{&j.LeaseUntil}, &j.LastError)
	return j, err
}

// manifestID finds the row of repo@digest inside a transaction.
func manifestID(ctx context.Context, w runner, repo, digest string) (int64, error) {
	var id int64
	err := w.row(ctx, `SELECT m.id FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE r.name = ? AND m.digest = ?`, repo, digest).Scan(&id)
	return id, err
}

func (db *DB) EnqueueScan(ctx context.Context, j *store.ScanJob) error {
	j.EnqueuedAt = db.stamp(j.EnqueuedAt)
	err := db.inTx(ctx, func(w runner) error {
		mid, err := manifestID(ctx, w, j.Repository, j.Digest)
		if err != nil {
			return err
		}
		// One job per manifest: a second request raises the priority of
		// the job already there and otherwise leaves it as it is.
		_, err = w.exec(ctx, `INSERT INTO scan_jobs (manifest_id, priority, reason, enqueued_at, not_before)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (manifest_id) DO UPDATE SET priority = excluded.priority, reason = excluded.reason
			WHERE scan_jobs.priority < excluded.priority`,
			mid, j.Priority, j.Reason, db.t(j.EnqueuedAt), db.t(j.NotBefore))
		if err != nil {
			return err
		}
		got, err := scanJob(w.row(ctx, `SELECT `+jobCols+jobFrom+` WHERE j.manifest_id = ?`, mid))
		if err != nil {
			return err
		}
		*j = got
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue scan of %s@%s: %w", j.Repository, j.Digest, db.lookupErr(err))
	}
	return nil
}

// ready is the condition on a job that may be claimed at ? (given twice).
const ready = `((j.owner = '' AND (j.not_before IS NULL OR j.not_before <= ?)) OR (j.owner <> '' AND j.lease_until <= ?))`

func (db *DB) ClaimScan(ctx context.Context, owner string, now time.Time, lease time.Duration) (*store.ScanJob, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim scan: the owner must not be empty: %w", store.ErrInvalid)
	}
	nowV, untilV := db.t(now), db.t(now.Add(lease))
	var job store.ScanJob
	err := db.inTx(ctx, func(w runner) error {
		// A racing claimer (another replica on PostgreSQL) can take the
		// job between the SELECT and the UPDATE; the UPDATE checks again
		// and the loop picks the next one.
		for range 8 {
			var id int64
			err := w.row(ctx, `SELECT j.id FROM scan_jobs j WHERE `+ready+` ORDER BY j.priority DESC, j.id LIMIT 1`, nowV, nowV).Scan(&id)
			if err != nil {
				return err
			}
			res, err := w.exec(ctx, `UPDATE scan_jobs SET owner = ?, lease_until = ?, attempts = attempts + 1, not_before = NULL
				WHERE id = ? AND `+readyPlain, owner, untilV, id, nowV, nowV)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			job, err = scanJob(w.row(ctx, `SELECT `+jobCols+jobFrom+` WHERE j.id = ?`, id))
			return err
		}
		return store.ErrNotFound
	})
	if err != nil {
		return nil, fmt.Errorf("claim scan: %w", db.err(err))
	}
	return &job, nil
}

// readyPlain is ready without the table alias, for UPDATE.
const readyPlain = `((owner = '' AND (not_before IS NULL OR not_before <= ?)) OR (owner <> '' AND lease_until <= ?))`

func (db *DB) RenewScan(ctx context.Context, id int64, owner string, until time.Time) error {
	err := affected(db.w.exec(ctx, `UPDATE scan_jobs SET lease_until = ? WHERE id = ? AND owner = ?`, db.t(until), id, owner))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("renew scan job %d: %s no longer holds it: %w", id, owner, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("renew scan job %d: %w", id, db.err(err))
	}
	return nil
}

func (db *DB) FinishScan(ctx context.Context, id int64, owner string, res *store.ScanResult) error {
	err := db.inTx(ctx, func(w runner) error {
		var mid int64
		err := w.row(ctx, `SELECT manifest_id FROM scan_jobs WHERE id = ? AND owner = ?`, id, owner).Scan(&mid)
		if err != nil {
			if errors.Is(db.err(err), store.ErrNotFound) {
				return fmt.Errorf("%s no longer holds it: %w", owner, store.ErrConflict)
			}
			return err
		}
		if _, err := w.exec(ctx, `DELETE FROM scan_jobs WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = w.exec(ctx, `INSERT INTO scan_results (manifest_id, job_id, scanned_at, matched_at, db_built_at, sbom, findings, verdict, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (manifest_id) DO UPDATE SET job_id = excluded.job_id, scanned_at = excluded.scanned_at,
				matched_at = excluded.matched_at, db_built_at = excluded.db_built_at, sbom = excluded.sbom,
				findings = excluded.findings, verdict = excluded.verdict, error = excluded.error`,
			mid, id, db.t(res.ScannedAt), db.t(res.MatchedAt), db.t(res.DBBuiltAt), pack(res.SBOM), pack(res.Findings), res.Verdict, res.Error)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish scan job %d: %w", id, db.err(err))
	}
	res.JobID = id
	return nil
}

func (db *DB) RetryScan(ctx context.Context, id int64, owner, msg string, notBefore time.Time) error {
	err := affected(db.w.exec(ctx, `UPDATE scan_jobs SET owner = '', lease_until = NULL, not_before = ?, last_error = ?
		WHERE id = ? AND owner = ?`, db.t(notBefore), msg, id, owner))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("retry scan job %d: %s no longer holds it: %w", id, owner, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("retry scan job %d: %w", id, db.err(err))
	}
	return nil
}

func (db *DB) ScanQueue(ctx context.Context, now time.Time) (store.ScanQueueStats, error) {
	st := store.ScanQueueStats{Waiting: map[int]int{}}
	nowV := db.t(now)
	type count struct{ priority, running, n int }
	counts, err := list(ctx, db, func(r row) (count, error) {
		var c count
		err := r.Scan(&c.priority, &c.running, &c.n)
		return c, err
	}, `SELECT priority, CASE WHEN owner <> '' AND lease_until > ? THEN 1 ELSE 0 END AS running, COUNT(*)
		FROM scan_jobs GROUP BY priority, running`, nowV)
	if err != nil {
		return st, fmt.Errorf("scan queue: %w", err)
	}
	for _, c := range counts {
		if c.running == 1 {
			st.Running += c.n
		} else {
			st.Waiting[c.priority] += c.n
		}
	}
	return st, nil
}

func (db *DB) ScanJobs(ctx context.Context, repo, digest string) ([]store.ScanJob, error) {
	var (
		jobs []store.ScanJob
		err  error
	)
	if digest == "" {
		jobs, err = list(ctx, db, scanJob, `SELECT `+jobCols+jobFrom+` WHERE r.name = ? ORDER BY j.id`, repo)
	} else {
		jobs, err = list(ctx, db, scanJob, `SELECT `+jobCols+jobFrom+` WHERE r.name = ? AND m.digest = ? ORDER BY j.id`, repo, digest)
	}
	if err != nil {
		return nil, fmt.Errorf("scan jobs of %s: %w", repo, err)
	}
	return jobs, nil
}

func resultCols(withSBOM bool) string {
	sbom := `NULL`
	if withSBOM {
		sbom = `s.sbom`
	}
	return `r.name, m.digest, s.job_id, s.scanned_at, s.matched_at, s.db_built_at, ` + sbom + `, s.findings, s.verdict, s.error`
}

const resultFrom = ` FROM scan_results s JOIN manifests m ON m.id = s.manifest_id JOIN repositories r ON r.id = m.repository_id`

func scanResult(r row) (store.ScanResult, error) {
	var s store.ScanResult
	err := r.Scan(&s.Repository, &s.Digest, &s.JobID, timeScan{&s.ScannedAt}, timeScan{&s.MatchedAt}, timeScan{&s.DBBuiltAt},
		&s.SBOM, &s.Findings, &s.Verdict, &s.Error)
	if err == nil {
		s.SBOM, err = unpack(s.SBOM)
	}
	if err == nil {
		s.Findings, err = unpack(s.Findings)
	}
	return s, err
}

func (db *DB) ScanResult(ctx context.Context, repo, digest string) (*store.ScanResult, error) {
	res, err := one(ctx, db, scanResult, `SELECT `+resultCols(true)+resultFrom+` WHERE r.name = ? AND m.digest = ?`, repo, digest)
	if err != nil {
		return nil, fmt.Errorf("scan result of %s@%s: %w", repo, digest, err)
	}
	return res, nil
}

// resultPage is how many results ScanResults reads at a time, so that a
// slow fn never holds a read transaction open for long.
const resultPage = 256

func (db *DB) ScanResults(ctx context.Context, project string, withSBOM bool, fn func(*store.ScanResult) error) error {
	// Pages follow the results' keys, so that no page sorts (and copies)
	// SBOMs.
	type keyed struct {
		id int64
		r  store.ScanResult
	}
	scan := func(r row) (keyed, error) {
		var k keyed
		s := &k.r
		err := r.Scan(&k.id, &s.Repository, &s.Digest, &s.JobID, timeScan{&s.ScannedAt}, timeScan{&s.MatchedAt}, timeScan{&s.DBBuiltAt},
			&s.SBOM, &s.Findings, &s.Verdict, &s.Error)
		if err == nil {
			s.SBOM, err = unpack(s.SBOM)
		}
		if err == nil {
			s.Findings, err = unpack(s.Findings)
		}
		return k, err
	}
	var last int64
	for {
		var (
			page []keyed
			err  error
		)
		cols := `SELECT s.manifest_id, ` + resultCols(withSBOM) + resultFrom
		if project == "" {
			page, err = list(ctx, db, scan, cols+` WHERE s.manifest_id > ? ORDER BY s.manifest_id LIMIT ?`, last, resultPage)
		} else {
			page, err = list(ctx, db, scan, cols+` JOIN projects p ON p.id = r.project_id
				WHERE p.name = ? AND s.manifest_id > ? ORDER BY s.manifest_id LIMIT ?`, project, last, resultPage)
		}
		if err != nil {
			return fmt.Errorf("scan results: %w", err)
		}
		for i := range page {
			if err := fn(&page[i].r); err != nil {
				return err
			}
		}
		if len(page) < resultPage {
			return nil
		}
		last = page[len(page)-1].id
	}
}

func (db *DB) UpdateScanFindings(ctx context.Context, rs []store.ScanResult) error {
	if len(rs) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(w runner) error {
		for i := range rs {
			r := &rs[i]
			if err := ctx.Err(); err != nil {
				return err
			}
			_, err := w.exec(ctx, `UPDATE scan_results SET findings = ?, matched_at = ?, db_built_at = ?, verdict = ?
				WHERE manifest_id = (SELECT m.id FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?)`,
				pack(r.Findings), db.t(r.MatchedAt), db.t(r.DBBuiltAt), r.Verdict, r.Repository, r.Digest)
			if err != nil {
				return fmt.Errorf("%s@%s: %w", r.Repository, r.Digest, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update scan findings: %w", db.err(err))
	}
	return nil
}

var _ store.ScanStore = (*DB)(nil)

// SBOMs and findings are JSON of tens to hundreds of kilobytes: stored
// zstd-compressed they take a tenth of the space, and a rematch of every
// stored SBOM reads a tenth of the bytes. Callers see the JSON.

// zstdMagic starts every zstd frame; JSON never starts with it.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// codec is the store's zstd encoder and decoder, made on first use (both
// are safe for concurrent EncodeAll and DecodeAll).
var codec = sync.OnceValues(func() (*zstd.Encoder, *zstd.Decoder) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // only for invalid options
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic(err)
	}
	return enc, dec
})

// pack compresses a document for storage; nil stays nil (NULL).
func pack(b []byte) []byte {
	if len(b) < 512 {
		return b
	}
	enc, _ := codec()
	return enc.EncodeAll(b, make([]byte, 0, len(b)/8))
}

// unpack undoes pack.
func unpack(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, zstdMagic) {
		return b, nil
	}
	_, dec := codec()
	out, err := dec.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("stored scan document: %w", err)
	}
	return out, nil
}
