-- The audit log and webhooks, PostgreSQL dialect. Keep in step with
-- ../../sqlite/migrations/0002_audit_webhooks.sql.

-- audit_log is append-only and hash-chained (package audit): each entry's
-- hash covers its fields and the previous entry's hash. seq comes from
-- audit_head, which every append updates first: the row lock serialises
-- appends across replicas, and the row records the chain's end, so that
-- cutting entries off the end shows.
CREATE TABLE audit_log (
	seq       BIGINT      PRIMARY KEY,
	time      TIMESTAMPTZ NOT NULL,
	kind      TEXT        NOT NULL,
	actor     TEXT        NOT NULL DEFAULT '',
	project   TEXT COLLATE "C" NOT NULL DEFAULT '',
	repo      TEXT        NOT NULL DEFAULT '',
	digest    TEXT        NOT NULL DEFAULT '',
	tag       TEXT        NOT NULL DEFAULT '',
	detail    BYTEA       NOT NULL,       -- canonical JSON object
	prev_hash TEXT        NOT NULL,
	hash      TEXT        NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_project ON audit_log (project, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT  NOT NULL,
	hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Webhooks: a NULL project_id is a server-wide hook (every project).
CREATE TABLE webhooks (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE,
	url        TEXT        NOT NULL,
	secret     TEXT        NOT NULL,
	events     TEXT        NOT NULL DEFAULT '[]', -- JSON array of event kinds
	disabled   BOOLEAN     NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX webhooks_project ON webhooks (project_id);

-- The persistent delivery queue and log.
CREATE TABLE webhook_deliveries (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	webhook_id   BIGINT      NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event        TEXT        NOT NULL,
	payload      BYTEA       NOT NULL,
	state        TEXT        NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts     INTEGER     NOT NULL DEFAULT 0,
	next_attempt TIMESTAMPTZ,
	last_status  INTEGER     NOT NULL DEFAULT 0,
	last_error   TEXT        NOT NULL DEFAULT '',
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
