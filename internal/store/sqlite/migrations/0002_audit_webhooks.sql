-- The audit log and webhooks, SQLite dialect. Keep in step with
-- ../../postgres/migrations/0002_audit_webhooks.sql.

-- audit_log is append-only and hash-chained (package audit): each entry's
-- hash covers its fields and the previous entry's hash. seq comes from
-- audit_head, which every append updates first: that serialises appends
-- and records the chain's end, so that cutting entries off the end shows.
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	time      TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	actor     TEXT    NOT NULL DEFAULT '',
	project   TEXT    NOT NULL DEFAULT '',
	repo      TEXT    NOT NULL DEFAULT '',
	digest    TEXT    NOT NULL DEFAULT '',
	tag       TEXT    NOT NULL DEFAULT '',
	detail    BLOB    NOT NULL,           -- canonical JSON object
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_project ON audit_log (project, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT    NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Webhooks: a NULL project_id is a server-wide hook (every project).
CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
	url        TEXT    NOT NULL,
	secret     TEXT    NOT NULL,
	events     TEXT    NOT NULL DEFAULT '[]', -- JSON array of event kinds
	disabled   INTEGER NOT NULL DEFAULT 0,
	created_at TEXT    NOT NULL,
	created_by TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX webhooks_project ON webhooks (project_id);

-- The persistent delivery queue and log.
CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id   INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event        TEXT    NOT NULL,
	payload      BLOB    NOT NULL,
	state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TEXT,
	last_status  INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	created_at   TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
