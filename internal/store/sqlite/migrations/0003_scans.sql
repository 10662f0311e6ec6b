-- The scan queue and scan results, SQLite dialect. Keep in step with
-- ../../postgres/migrations/0003_scans.sql.

-- One job per manifest, waiting (owner '') or leased to a worker until
-- lease_until. A worker that dies leaves its lease to run out, and the job
-- is claimed again: nothing queued is lost across a crash.
CREATE TABLE scan_jobs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	manifest_id INTEGER NOT NULL UNIQUE REFERENCES manifests (id) ON DELETE CASCADE,
	priority    INTEGER NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	attempts    INTEGER NOT NULL DEFAULT 0,
	enqueued_at TEXT    NOT NULL,
	not_before  TEXT,                    -- NULL: ready
	owner       TEXT    NOT NULL DEFAULT '',
	lease_until TEXT,
	last_error  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX scan_jobs_order ON scan_jobs (priority DESC, id);

-- The last result of each manifest: its SBOM, its findings and the
-- verdict as evaluated when stored (JSON documents written by scanq).
CREATE TABLE scan_results (
	manifest_id INTEGER PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE,
	job_id      INTEGER NOT NULL DEFAULT 0,
	scanned_at  TEXT,
	matched_at  TEXT,
	db_built_at TEXT,
	sbom        BLOB,
	findings    BLOB,
	verdict     BLOB,
	error       TEXT    NOT NULL DEFAULT ''
) STRICT;
