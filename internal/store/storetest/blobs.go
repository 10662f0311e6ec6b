package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

func testBlobLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	repo(t, s, "p/a")
	repo(t, s, "p/b")
	d := blobDigest("layer")
	must(t, "link", s.LinkBlob(ctx, "p/a", d, 42))
	size, err := s.BlobSize(ctx, "p/a", d)
	must(t, "size", err)
	if size != 42 {
		t.Errorf("BlobSize = %d, want 42", size)
	}
	_, err = s.BlobSize(ctx, "p/b", d)
	wantErr(t, "a's blob through b", err, store.ErrNotFound)
	_, err = s.BlobSize(ctx, "p/nope", d)
	wantErr(t, "blob in missing repository", err, store.ErrNotFound)
	wantErr(t, "link into missing repository", s.LinkBlob(ctx, "p/nope", d, 42), store.ErrNotFound)
	wantErr(t, "unlink a's blob through b", s.UnlinkBlob(ctx, "p/b", d), store.ErrNotFound)

	must(t, "link again", s.LinkBlob(ctx, "p/a", d, 42))
	must(t, "link into b", s.LinkBlob(ctx, "p/b", d, 42))
	must(t, "unlink from a", s.UnlinkBlob(ctx, "p/a", d))
	_, err = s.BlobSize(ctx, "p/a", d)
	wantErr(t, "unlinked", err, store.ErrNotFound)
	if size, err := s.BlobSize(ctx, "p/b", d); err != nil || size != 42 {
		t.Errorf("unlinking from a touched b: %d, %v", size, err)
	}
	wantErr(t, "unlink again", s.UnlinkBlob(ctx, "p/a", d), store.ErrNotFound)

	repo(t, s, "o/c")
	must(t, "link into c", s.LinkBlob(ctx, "o/c", d, 42))
	must(t, "link into a", s.LinkBlob(ctx, "p/a", d, 42))
	holders, err := s.BlobRepositories(ctx, d)
	must(t, "repositories holding the blob", err)
	if d := diff([]string{"o/c", "p/a", "p/b"}, holders); d != "" {
		t.Errorf("BlobRepositories (-want +got):\n%s", d)
	}
	holders, err = s.BlobRepositories(ctx, blobDigest("nowhere"))
	must(t, "repositories holding an unknown blob", err)
	if holders == nil || len(holders) != 0 {
		t.Errorf("BlobRepositories of an unknown blob = %#v, want []", holders)
	}
	wantErr(t, "unlink in missing repository", s.UnlinkBlob(ctx, "p/nope", d), store.ErrNotFound)

	// sha512 digests are as good as sha256 ones.
	long := "sha512:" + strings.Repeat("e", 128)
	must(t, "link sha512", s.LinkBlob(ctx, "p/a", long, 1<<40))
	if size, err := s.BlobSize(ctx, "p/a", long); err != nil || size != 1<<40 {
		t.Errorf("sha512 blob: %d, %v", size, err)
	}
}

// linkedBefore links old, waits so that the clock moves past the store's
// microseconds, and returns a time after the link.
func linkedBefore(t *testing.T, s store.Store, repo string, old ...string) time.Time {
	t.Helper()
	for _, d := range old {
		must(t, "link "+d, s.LinkBlob(context.Background(), repo, d, 1))
	}
	time.Sleep(2 * time.Millisecond)
	at := time.Now()
	time.Sleep(2 * time.Millisecond)
	return at
}

func testLiveBlobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "p/live")
	old, inFlight := blobDigest("old"), blobDigest("in flight")
	config, layer := blobDigest("config"), blobDigest("layer")
	notBefore := linkedBefore(t, s, "p/live", old, layer)
	must(t, "link in flight", s.LinkBlob(ctx, "p/live", inFlight, 1))
	m := manifest(r, "m")
	// config was never linked: a reference counts on its own.
	must(t, "put", s.PutManifest(ctx, m, []string{config, layer}, "v1"))

	got := live(t, s, notBefore)
	want := map[string]bool{inFlight: true, config: true, layer: true, m.Digest: true}
	if d := diff(want, got); d != "" {
		t.Errorf("LiveBlobs(notBefore) (-want +got):\n%s", d)
	}
	got = live(t, s, time.Time{})
	want[old] = true
	if d := diff(want, got); d != "" {
		t.Errorf("LiveBlobs(zero) (-want +got):\n%s", d)
	}

	// Linking again refreshes the link: old is in flight once more.
	must(t, "relink old", s.LinkBlob(ctx, "p/live", old, 1))
	if !live(t, s, notBefore)[old] {
		t.Error("a blob linked again after notBefore is not live")
	}

	stop := errors.New("stop")
	calls := 0
	err := s.LiveBlobs(ctx, notBefore, func(string) error { calls++; return stop })
	wantErr(t, "fn's error", err, stop)
	if calls != 1 {
		t.Errorf("LiveBlobs went on after fn failed: %d calls", calls)
	}
}

func testSweepBlob(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := repo(t, s, "p/sweep-a")
	repo(t, s, "p/sweep-b")
	orphan, referenced, fresh := blobDigest("orphan"), blobDigest("referenced"), blobDigest("fresh")
	must(t, "link orphan into b", s.LinkBlob(ctx, "p/sweep-b", orphan, 1))
	notBefore := linkedBefore(t, s, "p/sweep-a", orphan, referenced)
	must(t, "link fresh", s.LinkBlob(ctx, "p/sweep-a", fresh, 1))
	m := manifest(a, "m")
	must(t, "put", s.PutManifest(ctx, m, []string{referenced}, ""))

	for _, tc := range []struct {
		name   string
		digest string
		swept  bool
	}{
		{"referenced by a manifest", referenced, false},
		{"linked after notBefore", fresh, false},
		{"a manifest's own digest", m.Digest, false},
		{"orphan in two repositories", orphan, true},
		{"unknown digest", blobDigest("unknown"), true},
	} {
		swept, err := s.SweepBlob(ctx, tc.digest, notBefore)
		must(t, "sweep "+tc.name, err)
		if swept != tc.swept {
			t.Errorf("SweepBlob(%s) = %v, want %v", tc.name, swept, tc.swept)
		}
	}
	for _, r := range []string{"p/sweep-a", "p/sweep-b"} {
		_, err := s.BlobSize(ctx, r, orphan)
		wantErr(t, "swept blob in "+r, err, store.ErrNotFound)
	}
	for _, d := range []string{referenced, fresh} {
		if _, err := s.BlobSize(ctx, "p/sweep-a", d); err != nil {
			t.Errorf("a live blob lost its link: %v", err)
		}
	}
}

func testUploads(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := &store.Upload{ID: "8c1b7d62-upload", Repository: "lib/not-yet-created", HashState: []byte{0, 1, 2, 255}}
	must(t, "create", s.CreateUpload(ctx, u))
	if u.StartedAt.IsZero() || u.UpdatedAt.IsZero() {
		t.Fatalf("CreateUpload did not set the times: %+v", u)
	}
	wantErr(t, "duplicate", s.CreateUpload(ctx, &store.Upload{ID: u.ID, Repository: "x/y"}), store.ErrExists)
	got, err := s.Upload(ctx, u.ID)
	must(t, "get", err)
	if d := diff(u, got); d != "" {
		t.Errorf("Upload (-want +got):\n%s", d)
	}
	_, err = s.Upload(ctx, "missing")
	wantErr(t, "missing", err, store.ErrNotFound)

	u.Offset, u.HashState, u.UpdatedAt = 1<<20, []byte("state at 1 MiB"), ts(20)
	must(t, "update forward", s.UpdateUpload(ctx, u))
	must(t, "update at the same offset", s.UpdateUpload(ctx, u))
	back := *u
	back.Offset, back.HashState = 100, []byte("stale")
	wantErr(t, "update backwards", s.UpdateUpload(ctx, &back), store.ErrConflict)
	got, err = s.Upload(ctx, u.ID)
	must(t, "get after updates", err)
	want := *u
	want.UpdatedAt = kept(ts(20))
	if d := diff(&want, got); d != "" {
		t.Errorf("after updates (-want +got):\n%s", d)
	}
	wantErr(t, "update missing", s.UpdateUpload(ctx, &store.Upload{ID: "missing", Offset: 1}), store.ErrNotFound)

	must(t, "delete", s.DeleteUpload(ctx, u.ID))
	_, err = s.Upload(ctx, u.ID)
	wantErr(t, "deleted", err, store.ErrNotFound)
	wantErr(t, "delete again", s.DeleteUpload(ctx, u.ID), store.ErrNotFound)
}

func testExpiredUploads(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, u := range []*store.Upload{
		{ID: "old", Repository: "p/r", StartedAt: ts(1), UpdatedAt: ts(2)},
		{ID: "older", Repository: "p/r", StartedAt: ts(1), UpdatedAt: ts(1)},
		{ID: "recent", Repository: "p/r", StartedAt: ts(1), UpdatedAt: ts(50)},
	} {
		must(t, "create "+u.ID, s.CreateUpload(ctx, u))
	}
	ids := func(before time.Time) []string {
		us, err := s.ExpiredUploads(ctx, before)
		must(t, "expired", err)
		return pluck(us, func(u store.Upload) string { return u.ID })
	}
	if d := diff([]string{"older", "old"}, ids(ts(30))); d != "" {
		t.Errorf("ExpiredUploads, oldest first (-want +got):\n%s", d)
	}
	if d := diff([]string{"older"}, ids(ts(2))); d != "" {
		t.Errorf("ExpiredUploads is strictly before (-want +got):\n%s", d)
	}
	// Progress keeps a session alive.
	must(t, "update old", s.UpdateUpload(ctx, &store.Upload{ID: "old", Offset: 10, UpdatedAt: ts(40)}))
	if d := diff([]string{"older"}, ids(ts(30))); d != "" {
		t.Errorf("ExpiredUploads after progress (-want +got):\n%s", d)
	}
}
