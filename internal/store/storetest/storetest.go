// Package storetest is the conformance suite that every store.Store
// backend passes: Run(t, newStore) from the backend's own test.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seawall-dev/seawall/internal/store"
)

// Run runs every conformance test. newStore returns a new, empty store
// and arranges, with t.Cleanup, to close and remove it. The tests run in
// parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Projects", testProjects},
		{"DeleteProject", testDeleteProject},
		{"Members", testMembers},
		{"Robots", testRobots},
		{"Tokens", testTokens},
		{"Repositories", testRepositories},
		{"ListRepositories", testListRepositories},
		{"Manifests", testManifests},
		{"ManifestsPerRepository", testManifestsPerRepository},
		{"Tags", testTags},
		{"ListTags", testListTags},
		{"DeleteManifest", testDeleteManifest},
		{"PutManifestAtomic", testPutManifestAtomic},
		{"Referrers", testReferrers},
		{"BlobLinks", testBlobLinks},
		{"LiveBlobs", testLiveBlobs},
		{"SweepBlob", testSweepBlob},
		{"Uploads", testUploads},
		{"ExpiredUploads", testExpiredUploads},
		{"ConcurrentPushes", testConcurrentPushes},
		{"PushDeleteRace", testPushDeleteRace},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentUploadUpdates", testConcurrentUploadUpdates},
		{"OddNames", testOddNames},
		{"Times", testTimes},
		{"ScanQueuePriority", testScanQueuePriority},
		{"ScanLease", testScanLease},
		{"ScanResults", testScanResults},
		{"ScanClaimRace", testScanClaimRace},
		{"Ping", testPing},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"Webhooks", testWebhooks},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"WebhookClaimRace", testWebhookClaimRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// equal compares values as the store returns them: nil and empty slices
// and maps are the same.
var equal = cmpopts.EquateEmpty()

func diff(want, got any) string { return cmp.Diff(want, got, equal) }

// wantErr fails unless err is target (nil: no error).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, nil)
}

// ts is a fixed time with more precision than the store keeps, in a zone
// other than UTC.
func ts(minute int) time.Time {
	return time.Date(2024, 5, 17, 13, minute, 7, 123456789, time.FixedZone("CEST", 2*3600))
}

// kept is t as the store returns it.
func kept(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func user(t *testing.T, s store.Store, name string) *store.User {
	t.Helper()
	u := &store.User{Name: name, PasswordHash: "$argon2id$v=19$" + name}
	must(t, "create user "+name, s.CreateUser(context.Background(), u))
	return u
}

func project(t *testing.T, s store.Store, name string) *store.Project {
	t.Helper()
	p := &store.Project{Name: name}
	must(t, "create project "+name, s.CreateProject(context.Background(), p))
	return p
}

// repo creates the repository and, when missing, its project.
func repo(t *testing.T, s store.Store, name string) *store.Repository {
	t.Helper()
	ctx := context.Background()
	proj, _, _ := strings.Cut(name, "/")
	if _, err := s.ProjectByName(ctx, proj); errors.Is(err, store.ErrNotFound) {
		project(t, s, proj)
	}
	r, err := s.EnsureRepository(ctx, name)
	must(t, "ensure repository "+name, err)
	return r
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// blobDigest is a digest that names a blob in tests.
func blobDigest(name string) string { return digestOf([]byte("blob " + name)) }

// manifest is an image manifest for repository r with content unique to
// seed.
func manifest(r *store.Repository, seed string) *store.Manifest {
	content := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","seed":%q}`, seed))
	return &store.Manifest{
		RepositoryID: r.ID,
		Digest:       digestOf(content),
		MediaType:    "application/vnd.oci.image.manifest.v1+json",
		Size:         int64(len(content)),
		Content:      content,
	}
}

// pluck returns f of each x.
func pluck[T any](xs []T, f func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// live returns every digest LiveBlobs yields.
func live(t *testing.T, s store.Store, notBefore time.Time) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	err := s.LiveBlobs(context.Background(), notBefore, func(d string) error {
		if got[d] {
			return fmt.Errorf("LiveBlobs yielded %s twice", d)
		}
		got[d] = true
		return nil
	})
	must(t, "live blobs", err)
	return got
}

func testPing(t *testing.T, s store.Store) {
	must(t, "ping", s.Ping(context.Background()))
}
