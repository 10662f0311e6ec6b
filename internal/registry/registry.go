// Package registry serves the OCI Distribution Spec v1.1 API at /v2/: pull
// and push (monolithic, chunked, streamed, resumable and cross-repository
// mount), tag listing, the catalog, the referrers API, deletes, and
// mark-and-sweep garbage collection of blobs and stale uploads. Metadata
// lives in a store.Store and bytes in a blob.Store; authorization is asked
// of an Authorizer on every request.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// Store is the part of the metadata store the registry uses.
type Store interface {
	store.RepositoryStore
	store.BlobIndex
	store.UploadStore
}

// Defaults for Config's limits.
const (
	DefaultMaxManifestSize = 4 << 20
	DefaultUploadTTL       = 24 * time.Hour
	DefaultGCGrace         = time.Hour
)

// Config is everything New needs. Store, Blobs, Uploads and Auth are
// required.
type Config struct {
	Store   Store
	Blobs   blob.Store
	Uploads blob.Uploads
	Auth    Authorizer
	Logger  *slog.Logger // nil: discard
	// MaxManifestSize caps a manifest PUT; larger manifests get 413.
	MaxManifestSize int64
	// UploadTTL is how long an upload session may sit idle before garbage
	// collection removes it.
	UploadTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hooks add pull policy, tag immutability and notifications.
	Hooks Hooks
}

// Registry is the /v2/ handler. Create it with New.
type Registry struct {
	store   Store
	blobs   blob.Store
	uploads blob.Uploads
	auth    Authorizer
	log     *slog.Logger
	now     func() time.Time
	hooks   Hooks

	maxManifest int64
	uploadTTL   time.Duration

	locks keyedMutex // serializes requests on one upload session
	gc    gcGuard

	stats struct {
		bytesPushed   atomic.Int64
		bytesPulled   atomic.Int64
		activeUploads atomic.Int64
	}
}

// New checks cfg and returns the registry.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil || cfg.Blobs == nil || cfg.Uploads == nil {
		return nil, errors.New("registry: Store, Blobs and Uploads are required")
	}
	if cfg.Auth == nil {
		return nil, errors.New("registry: an Authorizer is required (use an allow-all one for an open registry)")
	}
	r := &Registry{
		store:       cfg.Store,
		blobs:       cfg.Blobs,
		uploads:     cfg.Uploads,
		auth:        cfg.Auth,
		log:         cfg.Logger,
		now:         cfg.Now,
		hooks:       cfg.Hooks,
		maxManifest: cfg.MaxManifestSize,
		uploadTTL:   cfg.UploadTTL,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "registry")
	if r.now == nil {
		r.now = time.Now
	}
	if r.maxManifest <= 0 {
		r.maxManifest = DefaultMaxManifestSize
	}
	if r.uploadTTL <= 0 {
		r.uploadTTL = DefaultUploadTTL
	}
	return r, nil
}

// Stats are counters for metrics.
type Stats struct {
	BytesPushed int64 // blob and manifest bytes received
	BytesPulled int64 // blob and manifest bytes sent (full responses and ranges)
	// ActiveUploads is the number of blob upload requests (POST, PATCH,
	// PUT) currently receiving data.
	ActiveUploads int64
}

// Stats returns the counters since New.
func (reg *Registry) Stats() Stats {
	return Stats{
		BytesPushed:   reg.stats.bytesPushed.Load(),
		BytesPulled:   reg.stats.bytesPulled.Load(),
		ActiveUploads: reg.stats.activeUploads.Load(),
	}
}

// ServeHTTP serves /v2/. Mount it as mux.Handle("/v2/", reg).
func (reg *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if err := reg.serve(w, r); err != nil {
		reg.renderError(w, r, err)
	}
}

// request is what serve passes to a handler: the parsed path.
type request struct {
	target
}

func (reg *Registry) serve(w http.ResponseWriter, r *http.Request) error {
	t, err := parsePath(r.URL.Path)
	if err != nil {
		return err
	}
	rt, allowed := lookupRoute(t.Endpoint, r.Method)
	if rt == nil {
		w.Header().Set("Allow", allowed)
		return errorf(http.StatusMethodNotAllowed, CodeUnsupported, "%s is not supported here; use %s", r.Method, allowed)
	}
	// Authorization comes before anything that could reveal whether a
	// repository, manifest or blob exists.
	if err := reg.auth.Authorize(r, t.Name, rt.actions...); err != nil {
		return err
	}
	return rt.handle(reg, w, r, &request{target: t})
}

// keyedMutex is a set of mutexes by key, created on demand and dropped when
// unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*refMutex{}
	}
	m := k.locks[key]
	if m == nil {
		m = &refMutex{}
		k.locks[key] = m
	}
	m.refs++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// storeErr maps a store error to a client error when it says something the
// client can act on; anything else stays a server error.
func storeErr(err error, notFound *Error) error {
	if errors.Is(err, store.ErrNotFound) && notFound != nil {
		return notFound.with(err)
	}
	return fmt.Errorf("store: %w", err)
}
