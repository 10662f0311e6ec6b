-- Seawall's registry metadata, PostgreSQL dialect. Names are COLLATE "C"
-- so that ORDER BY and > compare bytes, as the OCI spec's pagination and
-- the SQLite backend do. Keep in step with ../../sqlite/migrations.

CREATE TABLE users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT COLLATE "C" NOT NULL UNIQUE,
	password_hash TEXT        NOT NULL,
	admin         BOOLEAN     NOT NULL DEFAULT FALSE,
	disabled      BOOLEAN     NOT NULL DEFAULT FALSE,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE projects (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	public     BOOLEAN     NOT NULL DEFAULT FALSE,
	settings   BYTEA,      -- opaque to the store: kept byte for byte, so not JSONB
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
	project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT   NOT NULL CHECK (role IN ('admin', 'maintainer', 'developer', 'guest', 'limited-guest')),
	PRIMARY KEY (project_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE robots (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	project_id  BIGINT      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name        TEXT COLLATE "C" NOT NULL UNIQUE,
	secret_hash TEXT        NOT NULL,
	permissions JSONB       NOT NULL DEFAULT '[]',
	expires_at  TIMESTAMPTZ,            -- NULL: never
	revoked     BOOLEAN     NOT NULL DEFAULT FALSE,
	created_at  TIMESTAMPTZ NOT NULL,
	created_by  TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX robots_project ON robots (project_id, name);

CREATE TABLE tokens (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       TEXT        NOT NULL UNIQUE,
	name       TEXT        NOT NULL DEFAULT '',
	expires_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL,
	last_used  TIMESTAMPTZ
);
CREATE INDEX tokens_user ON tokens (user_id);

-- A project with repositories cannot be deleted (no ON DELETE action).
CREATE TABLE repositories (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	project_id BIGINT      NOT NULL REFERENCES projects (id),
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX repositories_project ON repositories (project_id, name);

CREATE TABLE manifests (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repository_id BIGINT      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest        TEXT COLLATE "C" NOT NULL,
	media_type    TEXT        NOT NULL,
	artifact_type TEXT        NOT NULL DEFAULT '',
	size          BIGINT      NOT NULL,
	content       BYTEA,
	subject       TEXT COLLATE "C",    -- digest of the manifest this one refers to
	-- JSON text, not JSONB: annotations come from pushed manifests, and
	-- JSONB refuses \u0000, which JSON allows.
	annotations   TEXT,
	created_at    TIMESTAMPTZ NOT NULL,
	UNIQUE (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests (repository_id, subject) WHERE subject IS NOT NULL;
CREATE INDEX manifests_digest ON manifests (digest);

-- The blobs and child manifests a manifest references: what garbage
-- collection keeps.
CREATE TABLE manifest_refs (
	manifest_id BIGINT NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	digest      TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (manifest_id, digest)
);
CREATE INDEX manifest_refs_digest ON manifest_refs (digest);

CREATE TABLE tags (
	repository_id BIGINT      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	name          TEXT COLLATE "C" NOT NULL,
	manifest_id   BIGINT      NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	updated_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (repository_id, name)
);
CREATE INDEX tags_manifest ON tags (manifest_id);

-- Which repositories hold which blobs; the bytes live in blob storage.
CREATE TABLE blob_links (
	repository_id BIGINT      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest        TEXT COLLATE "C" NOT NULL,
	size          BIGINT      NOT NULL,
	linked_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (repository_id, digest)
);
CREATE INDEX blob_links_digest ON blob_links (digest, linked_at);
CREATE INDEX blob_links_linked ON blob_links (linked_at);

-- Upload sessions name their repository as text: it may not exist yet.
CREATE TABLE uploads (
	id          TEXT COLLATE "C" PRIMARY KEY,
	repository  TEXT        NOT NULL,
	byte_offset BIGINT      NOT NULL DEFAULT 0,
	hash_state  BYTEA,
	started_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX uploads_updated ON uploads (updated_at);
