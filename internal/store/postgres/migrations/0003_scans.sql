-- The scan queue and scan results, PostgreSQL dialect. Keep in step with
-- ../../sqlite/migrations/0003_scans.sql.

-- One job per manifest, waiting (owner '') or leased to a worker until
-- lease_until. A worker that dies leaves its lease to run out, and the job
-- is claimed again: nothing queued is lost across a crash.
CREATE TABLE scan_jobs (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	manifest_id BIGINT      NOT NULL UNIQUE REFERENCES manifests (id) ON DELETE CASCADE,
	priority    INTEGER     NOT NULL,
	reason      TEXT        NOT NULL DEFAULT '',
	attempts    INTEGER     NOT NULL DEFAULT 0,
	enqueued_at TIMESTAMPTZ NOT NULL,
	not_before  TIMESTAMPTZ,             -- NULL: ready
	owner       TEXT        NOT NULL DEFAULT '',
	lease_until TIMESTAMPTZ,
	last_error  TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX scan_jobs_order ON scan_jobs (priority DESC, id);

-- The last result of each manifest: its SBOM, its findings and the
-- verdict as evaluated when stored (JSON documents written by scanq).
CREATE TABLE scan_results (
	manifest_id BIGINT PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE,
	job_id      BIGINT      NOT NULL DEFAULT 0,
	scanned_at  TIMESTAMPTZ,
	matched_at  TIMESTAMPTZ,
	db_built_at TIMESTAMPTZ,
	sbom        BYTEA,
	findings    BYTEA,
	verdict     BYTEA,
	error       TEXT        NOT NULL DEFAULT ''
);
