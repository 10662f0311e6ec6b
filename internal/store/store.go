// Package store defines Seawall's metadata storage as small role
// interfaces (users, projects, robots, repositories, manifests, uploads …)
// composed into one Store. Backends live in store/sqlite (the embedded
// default) and store/postgres (for replicas at scale); store/storetest is
// the conformance suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns, wrapped, so callers can use errors.Is.
//
// Times are kept to the microsecond and come back in UTC; a zero time is
// stored as "none" (NULL). Create methods set CreatedAt (and an upload's
// StartedAt and UpdatedAt) to now when the caller left it zero.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict is returned when a write lost a race or breaks a rule
	// (a tag pointing at a missing manifest, a project that still has
	// repositories).
	ErrConflict = errors.New("conflict")
	// ErrInvalid is returned for a value the backend cannot hold, such as
	// a NUL byte or invalid UTF-8 in text stored in PostgreSQL. Callers
	// that validate names, tags and media types first never see it.
	ErrInvalid = errors.New("invalid value")
)

// Roles a user can hold in a project, with Harbor's meanings.
type Role string

const (
	RoleAdmin        Role = "admin"         // everything in the project, including members
	RoleMaintainer   Role = "maintainer"    // push, pull, delete, manage robots and tags
	RoleDeveloper    Role = "developer"     // push and pull
	RoleGuest        Role = "guest"         // pull
	RoleLimitedGuest Role = "limited-guest" // pull, but not list the project's repositories
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleMaintainer, RoleDeveloper, RoleGuest, RoleLimitedGuest}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", errors.New("unknown role " + s + ": use admin, maintainer, developer, guest or limited-guest")
}

// User is a person or service that logs in with a password.
type User struct {
	ID           int64
	Name         string
	PasswordHash string // argon2id, PHC string format
	Admin        bool   // system admin: everything, everywhere
	Disabled     bool
	CreatedAt    time.Time
}

// Project is the first path segment of every repository; permissions,
// robots and (later) policies hang off it.
type Project struct {
	ID        int64
	Name      string
	Public    bool // anonymous pull
	CreatedAt time.Time
	// Settings holds the project's policy settings as JSON (scan on push,
	// pull prevention, trusted keys …). The store keeps it opaque.
	Settings []byte
}

// Member is a user's role in a project.
type Member struct {
	ProjectID int64
	UserID    int64
	UserName  string // filled on reads
	Role      Role
}

// Robot is a project-scoped machine account.
type Robot struct {
	ID          int64
	ProjectID   int64
	Name        string // full name, "robot$<project>+<name>"
	SecretHash  string // argon2id of the secret, shown once at creation
	Permissions []string
	ExpiresAt   time.Time // zero: never
	Revoked     bool
	CreatedAt   time.Time
	CreatedBy   string
}

// Token is an API token issued to a user by `seawall login`.
type Token struct {
	ID        int64
	UserID    int64
	Hash      string // SHA-256 of the token, hex; the token itself is never stored
	Name      string
	ExpiresAt time.Time
	CreatedAt time.Time
	LastUsed  time.Time
}

// Repository is a named collection of manifests and tags: "project/path".
type Repository struct {
	ID        int64
	ProjectID int64
	Name      string
	CreatedAt time.Time
}

// Manifest is an image manifest or index stored in a repository.
type Manifest struct {
	RepositoryID int64
	Digest       string // "sha256:…" or "sha512:…"
	MediaType    string
	ArtifactType string // the manifest's artifactType, or its config's media type for artifacts
	Size         int64
	Content      []byte
	Subject      string            // digest of the manifest this one refers to (referrers API), or ""
	Annotations  map[string]string // kept for the referrers API
	CreatedAt    time.Time
}

// Descriptor is a manifest as the referrers API lists it.
type Descriptor struct {
	MediaType    string
	ArtifactType string
	Digest       string
	Size         int64
	Annotations  map[string]string
}

// Upload is an open blob upload session.
type Upload struct {
	ID         string // random, unguessable
	Repository string
	Offset     int64  // bytes received so far
	HashState  []byte // marshalled sha256/sha512 state at Offset
	StartedAt  time.Time
	UpdatedAt  time.Time
}

// UserStore keeps users.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // sets ID and CreatedAt
	UserByName(ctx context.Context, name string) (*User, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	ListUsers(ctx context.Context) ([]User, error)
	UpdateUser(ctx context.Context, u *User) error // password hash, admin, disabled
}

// ProjectStore keeps projects and their members.
type ProjectStore interface {
	CreateProject(ctx context.Context, p *Project) error
	ProjectByName(ctx context.Context, name string) (*Project, error)
	ListProjects(ctx context.Context) ([]Project, error)
	UpdateProject(ctx context.Context, p *Project) error // Public, Settings
	DeleteProject(ctx context.Context, id int64) error   // ErrConflict while it has repositories

	SetMember(ctx context.Context, projectID, userID int64, role Role) error // adds or changes
	RemoveMember(ctx context.Context, projectID, userID int64) error
	MemberRole(ctx context.Context, projectID, userID int64) (Role, error) // ErrNotFound when not a member
	ListMembers(ctx context.Context, projectID int64) ([]Member, error)
}

// CredentialStore keeps robot accounts and API tokens.
type CredentialStore interface {
	CreateRobot(ctx context.Context, r *Robot) error
	RobotByName(ctx context.Context, name string) (*Robot, error)
	ListRobots(ctx context.Context, projectID int64) ([]Robot, error)
	RevokeRobot(ctx context.Context, id int64) error

	CreateToken(ctx context.Context, t *Token) error
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
	RevokeToken(ctx context.Context, id int64) error
}

// RepositoryStore keeps repositories, manifests and tags.
type RepositoryStore interface {
	// EnsureRepository returns the repository, creating it in its
	// project (the first path segment, which must exist) on first push.
	EnsureRepository(ctx context.Context, name string) (*Repository, error)
	RepositoryByName(ctx context.Context, name string) (*Repository, error)
	// ListRepositories returns up to n names after last, in lexical order;
	// an empty project lists every project.
	//
	// Both list methods page as the OCI spec's n and last do: names sort
	// by their bytes (Go's string order), the page starts strictly after
	// last, n < 0 means no limit and n == 0 an empty page. They never
	// return a nil slice.
	ListRepositories(ctx context.Context, project, last string, n int) ([]string, error)

	// PutManifest stores m and, in the same transaction, records the
	// blobs and child manifests it references and points tag at it (when
	// tag is not empty). Storing a manifest that exists is not an error.
	PutManifest(ctx context.Context, m *Manifest, refs []string, tag string) error
	Manifest(ctx context.Context, repo, digest string) (*Manifest, error)
	ResolveTag(ctx context.Context, repo, tag string) (digest string, err error)
	ListTags(ctx context.Context, repo, last string, n int) ([]string, error)
	DeleteTag(ctx context.Context, repo, tag string) error
	// DeleteManifest removes the manifest and the tags that point at it.
	DeleteManifest(ctx context.Context, repo, digest string) error
	Referrers(ctx context.Context, repo, subject string) ([]Descriptor, error)
}

// BlobIndex keeps which repositories hold which blobs: a blob is only
// readable through a repository that holds it. The bytes live in the blob
// storage (package blob), not here.
type BlobIndex interface {
	LinkBlob(ctx context.Context, repo, digest string, size int64) error
	BlobSize(ctx context.Context, repo, digest string) (int64, error) // ErrNotFound when repo does not hold it
	UnlinkBlob(ctx context.Context, repo, digest string) error
	// BlobRepositories lists the repositories that hold digest, in
	// lexical order (empty, not ErrNotFound, when none does), so that a
	// mount without a source repository can find one the caller may read.
	BlobRepositories(ctx context.Context, digest string) ([]string, error)
	// LiveBlobs calls fn for every blob some manifest references,
	// and every blob linked since notBefore (pushed but not yet referenced
	// by a manifest: a push in flight). Garbage collection keeps these.
	// Every manifest's own digest is live too, so a registry that also
	// keeps manifest bytes in blob storage never loses them. A zero
	// notBefore makes every linked blob live. fn's error stops the walk
	// and is returned as it is.
	LiveBlobs(ctx context.Context, notBefore time.Time, fn func(digest string) error) error
	// SweepBlob forgets digest in every repository, unless it is still
	// live (a manifest references it, or some repository linked it at or
	// after notBefore). It reports whether the blob is now unlinked
	// everywhere, so garbage collection may delete its bytes. The check
	// and the unlinking happen in one transaction.
	SweepBlob(ctx context.Context, digest string, notBefore time.Time) (swept bool, err error)
}

// UploadStore keeps open upload sessions.
type UploadStore interface {
	CreateUpload(ctx context.Context, u *Upload) error
	Upload(ctx context.Context, id string) (*Upload, error)
	UpdateUpload(ctx context.Context, u *Upload) error // Offset, HashState, UpdatedAt; ErrConflict if Offset went backwards
	DeleteUpload(ctx context.Context, id string) error
	ExpiredUploads(ctx context.Context, before time.Time) ([]Upload, error)
}

// AuditEntry is one record of the append-only audit log. Package audit
// computes Hash; the store keeps entries as written.
type AuditEntry struct {
	Seq     int64 // 1, 2, 3 … with no gaps
	Time    time.Time
	Kind    string
	Actor   string
	Project string
	Repo    string
	Digest  string
	Tag     string
	Detail  []byte // a canonical JSON object, hashed as stored
	// PrevHash is the previous entry's Hash ("" for the first entry).
	PrevHash string
	Hash     string
	// Damaged is set on reads when a column no longer holds what the
	// store writes (a time that does not parse): the row was changed
	// behind the store's back. Audit verification reports it.
	Damaged string
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	Since    time.Time // zero: from the start
	Project  string    // "": every project
	AfterSeq int64
	Limit    int // <= 0: no limit
}

// AuditStore keeps the audit log. Entries are never updated or deleted.
type AuditStore interface {
	// AppendAudit appends es in order: for each it sets Seq and PrevHash
	// from the end of the chain, normalises Time (now when zero) and calls
	// seal for Hash; all in one transaction (one durable commit for the
	// batch). Appends are serialised, across processes too.
	AppendAudit(ctx context.Context, es []*AuditEntry, seal func(*AuditEntry) (string, error)) error
	// AuditEntries calls fn for each entry f selects, in Seq order. fn's
	// error stops the walk and is returned as it is.
	AuditEntries(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error
	// AuditHead is the last entry's Seq and Hash as recorded by the last
	// append (0, "" before the first).
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// Webhook is an HTTP endpoint that receives events.
type Webhook struct {
	ID        int64
	ProjectID int64  // 0: server-wide (every project)
	Project   string // the project's name, filled on reads
	URL       string
	Secret    string   // the HMAC key
	Events    []string // event kinds it receives
	Disabled  bool
	CreatedAt time.Time
	CreatedBy string
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after the last retry
)

// WebhookDelivery is one event queued for, or sent to, one webhook.
type WebhookDelivery struct {
	ID          int64
	WebhookID   int64
	Event       string // the event kind
	Payload     []byte // the body, exactly as sent and signed
	State       string
	Attempts    int
	NextAttempt time.Time // when a pending delivery is next tried
	LastStatus  int       // HTTP status of the last attempt (0: no answer)
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WebhookStore keeps webhooks and their persistent delivery queue.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, h *Webhook) error
	Webhook(ctx context.Context, id int64) (*Webhook, error)
	// ListWebhooks lists a project's webhooks (projectID 0: the
	// server-wide ones; below 0: all), oldest first.
	ListWebhooks(ctx context.Context, projectID int64) ([]Webhook, error)
	DeleteWebhook(ctx context.Context, id int64) error
	// EnqueueDeliveries stores ds as pending deliveries (setting each ID,
	// State, CreatedAt and UpdatedAt), in one transaction.
	EnqueueDeliveries(ctx context.Context, ds []WebhookDelivery) error
	// ClaimDeliveries returns up to n pending deliveries due at now, in
	// order, and moves their NextAttempt to now+lease so that no other
	// worker takes them meanwhile.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, n int) ([]WebhookDelivery, error)
	// UpdateDelivery records an attempt: State, Attempts, NextAttempt,
	// LastStatus, LastError and UpdatedAt.
	UpdateDelivery(ctx context.Context, d *WebhookDelivery) error
	// ListDeliveries returns a webhook's last n deliveries, newest first.
	ListDeliveries(ctx context.Context, webhookID int64, n int) ([]WebhookDelivery, error)
	// PruneDeliveries deletes delivered and failed deliveries last
	// updated before before, and says how many it deleted. Pending ones
	// stay.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Store is every role together, as one backend provides them.
type Store interface {
	UserStore
	ProjectStore
	CredentialStore
	RepositoryStore
	BlobIndex
	UploadStore
	ScanStore
	AuditStore
	WebhookStore
	// Ping checks that the backend is reachable, for /readyz.
	Ping(ctx context.Context) error
	Close() error
}
