package testsupport

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
)

// MemStore is an in-memory registry metadata store (repositories,
// manifests, tags, blob links and uploads) for tests that need no SQL.
type MemStore struct {
	// Projects that exist; a repository can only be created in one of them.
	// Nil allows every project.
	Projects map[string]bool
	// Now is the clock for link times; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	nextID    int64
	repos     map[string]*store.Repository
	manifests map[string]map[string]*memManifest // repo → digest
	tags      map[string]map[string]string       // repo → tag → digest
	links     map[string]map[string]memLink      // repo → digest
	uploads   map[string]store.Upload
}

type memManifest struct {
	m    store.Manifest
	refs []string
}

type memLink struct {
	size int64
	at   time.Time
}

// NewMemStore returns an empty store whose projects are the given names
// (every project, when none are given).
func NewMemStore(projects ...string) *MemStore {
	s := &MemStore{
		repos:     map[string]*store.Repository{},
		manifests: map[string]map[string]*memManifest{},
		tags:      map[string]map[string]string{},
		links:     map[string]map[string]memLink{},
		uploads:   map[string]store.Upload{},
	}
	if len(projects) > 0 {
		s.Projects = map[string]bool{}
		for _, p := range projects {
			s.Projects[p] = true
		}
	}
	return s
}

func (s *MemStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func memNotFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }

// EnsureRepository implements store.RepositoryStore.
func (s *MemStore) EnsureRepository(ctx context.Context, name string) (*store.Repository, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.repos[name]; ok {
		c := *r
		return &c, nil
	}
	project, _, _ := strings.Cut(name, "/")
	if s.Projects != nil && !s.Projects[project] {
		return nil, memNotFound("project " + project)
	}
	s.nextID++
	r := &store.Repository{ID: s.nextID, Name: name, CreatedAt: s.now()}
	s.repos[name] = r
	s.manifests[name] = map[string]*memManifest{}
	s.tags[name] = map[string]string{}
	s.links[name] = map[string]memLink{}
	c := *r
	return &c, nil
}

// RepositoryByName implements store.RepositoryStore.
func (s *MemStore) RepositoryByName(ctx context.Context, name string) (*store.Repository, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[name]
	if !ok {
		return nil, memNotFound("repository " + name)
	}
	c := *r
	return &c, nil
}

// ListRepositories implements store.RepositoryStore.
func (s *MemStore) ListRepositories(ctx context.Context, project, last string, n int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.repos {
		if project != "" && !strings.HasPrefix(name, project+"/") && name != project {
			continue
		}
		if name > last {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if n >= 0 && len(names) > n {
		names = names[:n]
	}
	return names, nil
}

// PutManifest implements store.RepositoryStore.
func (s *MemStore) PutManifest(ctx context.Context, m *store.Manifest, refs []string, tag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var repo string
	for name, r := range s.repos {
		if r.ID == m.RepositoryID {
			repo = name
		}
	}
	if repo == "" {
		return memNotFound("repository")
	}
	c := *m
	c.Content = slices.Clone(m.Content)
	c.Annotations = maps.Clone(m.Annotations)
	if old, ok := s.manifests[repo][m.Digest]; ok {
		c.CreatedAt = old.m.CreatedAt
	}
	s.manifests[repo][m.Digest] = &memManifest{m: c, refs: slices.Clone(refs)}
	if tag != "" {
		s.tags[repo][tag] = m.Digest
	}
	return nil
}

// Manifest implements store.RepositoryStore.
func (s *MemStore) Manifest(ctx context.Context, repo, digest string) (*store.Manifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm, ok := s.manifests[repo][digest]
	if !ok {
		return nil, memNotFound("manifest " + digest)
	}
	c := mm.m
	c.Content = slices.Clone(mm.m.Content)
	c.Annotations = maps.Clone(mm.m.Annotations)
	return &c, nil
}

// ResolveTag implements store.RepositoryStore.
func (s *MemStore) ResolveTag(ctx context.Context, repo, tag string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.tags[repo][tag]
	if !ok {
		return "", memNotFound("tag " + tag)
	}
	return d, nil
}

// ListTags implements store.RepositoryStore.
func (s *MemStore) ListTags(ctx context.Context, repo, last string, n int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, ok := s.tags[repo]
	if !ok {
		return nil, memNotFound("repository " + repo)
	}
	var out []string
	for t := range tags {
		if t > last {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// DeleteTag implements store.RepositoryStore.
func (s *MemStore) DeleteTag(ctx context.Context, repo, tag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tags[repo][tag]; !ok {
		return memNotFound("tag " + tag)
	}
	delete(s.tags[repo], tag)
	return nil
}

// DeleteManifest implements store.RepositoryStore.
func (s *MemStore) DeleteManifest(ctx context.Context, repo, digest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.manifests[repo][digest]; !ok {
		return memNotFound("manifest " + digest)
	}
	delete(s.manifests[repo], digest)
	for t, d := range s.tags[repo] {
		if d == digest {
			delete(s.tags[repo], t)
		}
	}
	return nil
}

// Referrers implements store.RepositoryStore.
func (s *MemStore) Referrers(ctx context.Context, repo, subject string) ([]store.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Descriptor
	for _, mm := range s.manifests[repo] {
		if mm.m.Subject != subject {
			continue
		}
		out = append(out, store.Descriptor{
			MediaType:    mm.m.MediaType,
			ArtifactType: mm.m.ArtifactType,
			Digest:       mm.m.Digest,
			Size:         mm.m.Size,
			Annotations:  maps.Clone(mm.m.Annotations),
		})
	}
	slices.SortFunc(out, func(a, b store.Descriptor) int { return strings.Compare(a.Digest, b.Digest) })
	return out, nil
}

// LinkBlob implements store.BlobIndex.
func (s *MemStore) LinkBlob(ctx context.Context, repo, digest string, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	links, ok := s.links[repo]
	if !ok {
		return memNotFound("repository " + repo)
	}
	links[digest] = memLink{size: size, at: s.now()}
	return nil
}

// BlobSize implements store.BlobIndex.
func (s *MemStore) BlobSize(ctx context.Context, repo, digest string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[repo][digest]
	if !ok {
		return 0, memNotFound("blob " + digest)
	}
	return l.size, nil
}

// UnlinkBlob implements store.BlobIndex.
func (s *MemStore) UnlinkBlob(ctx context.Context, repo, digest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[repo][digest]; !ok {
		return memNotFound("blob " + digest)
	}
	delete(s.links[repo], digest)
	return nil
}

// LiveBlobs implements store.BlobIndex.
func (s *MemStore) LiveBlobs(ctx context.Context, notBefore time.Time, fn func(digest string) error) error {
	s.mu.Lock()
	live := map[string]bool{}
	for _, ms := range s.manifests {
		for d, mm := range ms {
			live[d] = true
			for _, r := range mm.refs {
				live[r] = true
			}
		}
	}
	for _, links := range s.links {
		for d, l := range links {
			if !l.at.Before(notBefore) {
				live[d] = true
			}
		}
	}
	s.mu.Unlock()
	for d := range live {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// SweepBlob implements store.BlobIndex.
func (s *MemStore) SweepBlob(ctx context.Context, digest string, notBefore time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ms := range s.manifests {
		if _, ok := ms[digest]; ok {
			return false, nil
		}
		for _, mm := range ms {
			if slices.Contains(mm.refs, digest) {
				return false, nil
			}
		}
	}
	for _, links := range s.links {
		if l, ok := links[digest]; ok && !l.at.Before(notBefore) {
			return false, nil
		}
	}
	for _, links := range s.links {
		delete(links, digest)
	}
	return true, nil
}

// BlobRepositories implements store.BlobIndex.
func (s *MemStore) BlobRepositories(ctx context.Context, digest string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for repo, links := range s.links {
		if _, ok := links[digest]; ok {
			out = append(out, repo)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CreateUpload implements store.UploadStore.
func (s *MemStore) CreateUpload(ctx context.Context, u *store.Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.uploads[u.ID]; ok {
		return fmt.Errorf("upload %s: %w", u.ID, store.ErrExists)
	}
	c := *u
	c.HashState = slices.Clone(u.HashState)
	s.uploads[u.ID] = c
	return nil
}

// Upload implements store.UploadStore.
func (s *MemStore) Upload(ctx context.Context, id string) (*store.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok {
		return nil, memNotFound("upload " + id)
	}
	u.HashState = slices.Clone(u.HashState)
	return &u, nil
}

// UpdateUpload implements store.UploadStore.
func (s *MemStore) UpdateUpload(ctx context.Context, u *store.Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.uploads[u.ID]
	if !ok {
		return memNotFound("upload " + u.ID)
	}
	if u.Offset < old.Offset {
		return fmt.Errorf("upload %s offset went from %d to %d: %w", u.ID, old.Offset, u.Offset, store.ErrConflict)
	}
	old.Offset, old.HashState, old.UpdatedAt = u.Offset, slices.Clone(u.HashState), u.UpdatedAt
	s.uploads[u.ID] = old
	return nil
}

// DeleteUpload implements store.UploadStore.
func (s *MemStore) DeleteUpload(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.uploads[id]; !ok {
		return memNotFound("upload " + id)
	}
	delete(s.uploads, id)
	return nil
}

// ExpiredUploads implements store.UploadStore.
func (s *MemStore) ExpiredUploads(ctx context.Context, before time.Time) ([]store.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Upload
	for _, u := range s.uploads {
		if u.UpdatedAt.Before(before) {
			out = append(out, u)
		}
	}
	return out, nil
}

var _ registry.Store = (*MemStore)(nil)
