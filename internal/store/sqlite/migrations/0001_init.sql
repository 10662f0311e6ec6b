-- Seawall's registry metadata, SQLite dialect. Times are UTC text,
-- "2006-01-02T15:04:05.000000Z" (fixed width, so text order is time order);
-- booleans are 0 or 1. Keep in step with ../../postgres/migrations.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	admin         INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE projects (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL UNIQUE,
	public     INTEGER NOT NULL DEFAULT 0,
	settings   BLOB,
	created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE members (
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT    NOT NULL CHECK (role IN ('admin', 'maintainer', 'developer', 'guest', 'limited-guest')),
	PRIMARY KEY (project_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE robots (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name        TEXT    NOT NULL UNIQUE,
	secret_hash TEXT    NOT NULL,
	permissions TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	expires_at  TEXT,                         -- NULL: never
	revoked     INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT    NOT NULL,
	created_by  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX robots_project ON robots (project_id, name);

CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       TEXT    NOT NULL UNIQUE,
	name       TEXT    NOT NULL DEFAULT '',
	expires_at TEXT,
	created_at TEXT    NOT NULL,
	last_used  TEXT
) STRICT;
CREATE INDEX tokens_user ON tokens (user_id);

-- A project with repositories cannot be deleted (no ON DELETE action).
CREATE TABLE repositories (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	name       TEXT    NOT NULL UNIQUE,
	created_at TEXT    NOT NULL
) STRICT;
CREATE INDEX repositories_project ON repositories (project_id, name);

CREATE TABLE manifests (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest        TEXT    NOT NULL,
	media_type    TEXT    NOT NULL,
	artifact_type TEXT    NOT NULL DEFAULT '',
	size          INTEGER NOT NULL,
	content       BLOB,
	subject       TEXT,    -- digest of the manifest this one refers to
	annotations   TEXT,    -- JSON object, for the referrers API
	created_at    TEXT    NOT NULL,
	UNIQUE (repository_id, digest)
) STRICT;
CREATE INDEX manifests_subject ON manifests (repository_id, subject) WHERE subject IS NOT NULL;
CREATE INDEX manifests_digest ON manifests (digest);

-- The blobs and child manifests a manifest references: what garbage
-- collection keeps.
CREATE TABLE manifest_refs (
	manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	digest      TEXT    NOT NULL,
	PRIMARY KEY (manifest_id, digest)
) STRICT, WITHOUT ROWID;
CREATE INDEX manifest_refs_digest ON manifest_refs (digest);

CREATE TABLE tags (
	repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	manifest_id   INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	updated_at    TEXT    NOT NULL,
	PRIMARY KEY (repository_id, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX tags_manifest ON tags (manifest_id);

-- Which repositories hold which blobs; the bytes live in blob storage.
CREATE TABLE blob_links (
	repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest        TEXT    NOT NULL,
	size          INTEGER NOT NULL,
	linked_at     TEXT    NOT NULL,
	PRIMARY KEY (repository_id, digest)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_links_digest ON blob_links (digest, linked_at);
CREATE INDEX blob_links_linked ON blob_links (linked_at);

-- Upload sessions name their repository as text: it may not exist yet.
CREATE TABLE uploads (
	id          TEXT    PRIMARY KEY,
	repository  TEXT    NOT NULL,
	byte_offset INTEGER NOT NULL DEFAULT 0,
	hash_state  BLOB,
	started_at  TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX uploads_updated ON uploads (updated_at);
