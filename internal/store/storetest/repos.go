package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/store"
)

func testRepositories(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := project(t, s, "lib")
	r, err := s.EnsureRepository(ctx, "lib/alpine")
	must(t, "ensure", err)
	if r.ID == 0 || r.ProjectID != p.ID || r.Name != "lib/alpine" || r.CreatedAt.IsZero() {
		t.Fatalf("EnsureRepository = %+v", r)
	}
	again, err := s.EnsureRepository(ctx, "lib/alpine")
	must(t, "ensure again", err)
	if d := diff(r, again); d != "" {
		t.Errorf("EnsureRepository twice (-first +second):\n%s", d)
	}
	deep, err := s.EnsureRepository(ctx, "lib/tools/go/builder")
	must(t, "ensure nested", err)
	if deep.ProjectID != p.ID {
		t.Errorf("nested repository in project %d, want %d", deep.ProjectID, p.ID)
	}
	got, err := s.RepositoryByName(ctx, "lib/alpine")
	must(t, "by name", err)
	if d := diff(r, got); d != "" {
		t.Errorf("RepositoryByName (-want +got):\n%s", d)
	}
	_, err = s.RepositoryByName(ctx, "lib/nope")
	wantErr(t, "missing", err, store.ErrNotFound)

	for _, name := range []string{"nope/alpine", "alpine", "/alpine", "Lib/alpine"} {
		_, err := s.EnsureRepository(ctx, name)
		wantErr(t, "ensure "+name+" (no such project)", err, store.ErrNotFound)
	}
	names, err := s.ListRepositories(ctx, "", "", -1)
	must(t, "list", err)
	if d := diff([]string{"lib/alpine", "lib/tools/go/builder"}, names); d != "" {
		t.Errorf("failed ensures left repositories behind (-want +got):\n%s", d)
	}
}

// pageCase is one request to a paginated list.
type pageCase struct {
	name string
	last string
	n    int
	want []string
}

func testListRepositories(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Created out of order; the list is in byte order.
	for _, name := range []string{"b/z", "a/c", "b/a", "a/B", "a/a/b", "ab/x", "a/é", "a/a"} {
		repo(t, s, name)
	}
	all := []string{"a/B", "a/a", "a/a/b", "a/c", "a/é", "ab/x", "b/a", "b/z"}
	project(t, s, "empty")
	cases := []struct {
		project string
		pageCase
	}{
		{"", pageCase{"everything", "", -1, all}},
		{"", pageCase{"first page", "", 3, all[:3]}},
		{"", pageCase{"next page", "a/a/b", 3, all[3:6]}},
		{"", pageCase{"last page", "ab/x", 3, all[6:]}},
		{"", pageCase{"after the end", "b/z", 3, nil}},
		{"", pageCase{"n = 0", "", 0, nil}},
		{"", pageCase{"last not a name", "a/b", -1, all[3:]}},
		{"", pageCase{"last before all", "A", 2, all[:2]}},
		{"a", pageCase{"one project", "", -1, all[:5]}},
		{"a", pageCase{"one project paged", "a/a", 2, all[2:4]}},
		{"b", pageCase{"project b", "", -1, all[6:]}},
		{"ab", pageCase{"a project that prefixes no other", "", -1, all[5:6]}},
		{"empty", pageCase{"project without repositories", "", -1, nil}},
		{"missing", pageCase{"missing project", "", -1, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListRepositories(ctx, tc.project, tc.last, tc.n)
			must(t, "list", err)
			if got == nil {
				t.Error("ListRepositories returned a nil slice")
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListRepositories(%q, %q, %d) (-want +got):\n%s", tc.project, tc.last, tc.n, d)
			}
		})
	}
	// Walking page by page visits everything once.
	var walked []string
	for last := ""; ; {
		page, err := s.ListRepositories(ctx, "", last, 2)
		must(t, "page", err)
		if len(page) == 0 {
			break
		}
		walked = append(walked, page...)
		last = page[len(page)-1]
	}
	if d := diff(all, walked); d != "" {
		t.Errorf("paging through (-want +got):\n%s", d)
	}
}

func testManifests(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "lib/app")
	m := manifest(r, "one")
	m.ArtifactType = "application/vnd.example.sbom"
	m.Annotations = map[string]string{"org.opencontainers.image.created": "2024-05-17T13:00:00Z", "x": ""}
	m.CreatedAt = ts(5)
	refs := []string{blobDigest("config"), blobDigest("layer1"), blobDigest("layer1")}
	must(t, "put", s.PutManifest(ctx, m, refs, "v1"))
	want := *m
	want.CreatedAt = kept(ts(5))
	got, err := s.Manifest(ctx, "lib/app", m.Digest)
	must(t, "get", err)
	if d := diff(&want, got); d != "" {
		t.Errorf("Manifest (-want +got):\n%s", d)
	}
	d, err := s.ResolveTag(ctx, "lib/app", "v1")
	must(t, "resolve", err)
	if d != m.Digest {
		t.Errorf("ResolveTag = %s, want %s", d, m.Digest)
	}

	// Putting it again, with a second tag, is not an error.
	again := manifest(r, "one")
	must(t, "put again", s.PutManifest(ctx, again, refs, "v1.0"))
	if d, err := s.ResolveTag(ctx, "lib/app", "v1.0"); err != nil || d != m.Digest {
		t.Errorf("second tag resolves to %s, %v", d, err)
	}
	if d, err := s.ResolveTag(ctx, "lib/app", "v1"); err != nil || d != m.Digest {
		t.Errorf("first tag resolves to %s, %v", d, err)
	}
	// And without a tag.
	must(t, "put untagged", s.PutManifest(ctx, manifest(r, "two"), nil, ""))
	if _, err := s.Manifest(ctx, "lib/app", manifest(r, "two").Digest); err != nil {
		t.Errorf("untagged manifest: %v", err)
	}

	_, err = s.Manifest(ctx, "lib/app", blobDigest("nothing"))
	wantErr(t, "missing manifest", err, store.ErrNotFound)
	_, err = s.Manifest(ctx, "lib/nope", m.Digest)
	wantErr(t, "missing repository", err, store.ErrNotFound)
	_, err = s.ResolveTag(ctx, "lib/app", "v2")
	wantErr(t, "missing tag", err, store.ErrNotFound)
	_, err = s.ResolveTag(ctx, "lib/nope", "v1")
	wantErr(t, "tag of missing repository", err, store.ErrNotFound)
	wantErr(t, "put into missing repository", s.PutManifest(ctx, manifest(&store.Repository{ID: r.ID + 1000}, "x"), nil, "t"), store.ErrNotFound)

	live := live(t, s, ts(0).AddDate(10, 0, 0))
	for _, d := range append(refs, m.Digest) {
		if !live[d] {
			t.Errorf("LiveBlobs misses %s, which a manifest references", d)
		}
	}
}

func testManifestsPerRepository(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := repo(t, s, "p/a"), repo(t, s, "p/b")
	m := manifest(a, "only in a")
	must(t, "put", s.PutManifest(ctx, m, nil, "latest"))
	_, err := s.Manifest(ctx, "p/b", m.Digest)
	wantErr(t, "manifest of a through b", err, store.ErrNotFound)
	_, err = s.ResolveTag(ctx, "p/b", "latest")
	wantErr(t, "tag of a through b", err, store.ErrNotFound)
	wantErr(t, "delete a's manifest through b", s.DeleteManifest(ctx, "p/b", m.Digest), store.ErrNotFound)
	wantErr(t, "delete a's tag through b", s.DeleteTag(ctx, "p/b", "latest"), store.ErrNotFound)

	// The same manifest in both repositories is two records.
	mb := manifest(b, "only in a")
	must(t, "put in b", s.PutManifest(ctx, mb, nil, "other"))
	must(t, "delete from a", s.DeleteManifest(ctx, "p/a", m.Digest))
	if _, err := s.Manifest(ctx, "p/b", m.Digest); err != nil {
		t.Errorf("deleting from a removed it from b: %v", err)
	}
}

func testTags(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "lib/tags")
	m1, m2 := manifest(r, "1"), manifest(r, "2")
	must(t, "put 1", s.PutManifest(ctx, m1, nil, "latest"))
	must(t, "put 2", s.PutManifest(ctx, m2, nil, "latest"))
	if d, _ := s.ResolveTag(ctx, "lib/tags", "latest"); d != m2.Digest {
		t.Errorf("moved tag resolves to %s, want %s", d, m2.Digest)
	}
	// Tagging an existing manifest again moves the tag back.
	must(t, "retag 1", s.PutManifest(ctx, manifest(r, "1"), nil, "latest"))
	if d, _ := s.ResolveTag(ctx, "lib/tags", "latest"); d != m1.Digest {
		t.Errorf("retagged resolves to %s, want %s", d, m1.Digest)
	}
	if _, err := s.Manifest(ctx, "lib/tags", m2.Digest); err != nil {
		t.Errorf("moving a tag away removed the manifest: %v", err)
	}
	// Tags are case-sensitive.
	must(t, "put Latest", s.PutManifest(ctx, manifest(r, "2"), nil, "Latest"))
	if d, _ := s.ResolveTag(ctx, "lib/tags", "Latest"); d != m2.Digest {
		t.Errorf("Latest resolves to %s, want %s", d, m2.Digest)
	}

	must(t, "delete tag", s.DeleteTag(ctx, "lib/tags", "latest"))
	_, err := s.ResolveTag(ctx, "lib/tags", "latest")
	wantErr(t, "deleted tag", err, store.ErrNotFound)
	if _, err := s.Manifest(ctx, "lib/tags", m1.Digest); err != nil {
		t.Errorf("deleting a tag removed its manifest: %v", err)
	}
	wantErr(t, "delete tag again", s.DeleteTag(ctx, "lib/tags", "latest"), store.ErrNotFound)
	wantErr(t, "delete tag of missing repository", s.DeleteTag(ctx, "lib/nope", "Latest"), store.ErrNotFound)
}

func testListTags(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "lib/list")
	m := manifest(r, "m")
	all := []string{"1.0", "1.10", "1.2", "V2", "latest", "v1", "v1-rc", "v1.0", "Ünïcode"}
	order := slices.Clone(all)
	slices.Reverse(order)
	for _, tag := range order {
		must(t, "tag "+tag, s.PutManifest(ctx, m, nil, tag))
	}
	other := repo(t, s, "lib/other")
	must(t, "tag in other repository", s.PutManifest(ctx, manifest(other, "o"), nil, "0-other"))
	repo(t, s, "lib/untagged")

	cases := []pageCase{
		{"everything", "", -1, all},
		{"first page", "", 4, all[:4]},
		{"next page", "V2", 4, all[4:8]},
		{"last page", "v1.0", 4, all[8:]},
		{"after the end", "Ünïcode", 4, nil},
		{"n = 0", "", 0, nil},
		{"last not a tag", "1.1", -1, all[1:]},
		{"n larger than the rest", "v1", 100, all[6:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListTags(ctx, "lib/list", tc.last, tc.n)
			must(t, "list", err)
			if got == nil {
				t.Error("ListTags returned a nil slice")
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListTags(%q, %d) (-want +got):\n%s", tc.last, tc.n, d)
			}
		})
	}
	got, err := s.ListTags(ctx, "lib/untagged", "", -1)
	must(t, "list untagged", err)
	if got == nil || len(got) != 0 {
		t.Errorf("ListTags of an untagged repository = %#v, want []", got)
	}
	_, err = s.ListTags(ctx, "lib/nope", "", -1)
	wantErr(t, "list missing repository", err, store.ErrNotFound)
}

func testDeleteManifest(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "lib/del")
	keep, gone := manifest(r, "keep"), manifest(r, "gone")
	must(t, "put keep", s.PutManifest(ctx, keep, []string{blobDigest("shared"), blobDigest("keep")}, "keep"))
	must(t, "put gone", s.PutManifest(ctx, gone, []string{blobDigest("shared"), blobDigest("gone")}, "a"))
	must(t, "tag gone again", s.PutManifest(ctx, manifest(r, "gone"), nil, "b"))

	must(t, "delete", s.DeleteManifest(ctx, "lib/del", gone.Digest))
	_, err := s.Manifest(ctx, "lib/del", gone.Digest)
	wantErr(t, "deleted manifest", err, store.ErrNotFound)
	for _, tag := range []string{"a", "b"} {
		_, err := s.ResolveTag(ctx, "lib/del", tag)
		wantErr(t, "tag "+tag+" of deleted manifest", err, store.ErrNotFound)
	}
	tags, err := s.ListTags(ctx, "lib/del", "", -1)
	must(t, "list tags", err)
	if d := diff([]string{"keep"}, tags); d != "" {
		t.Errorf("tags after delete (-want +got):\n%s", d)
	}
	wantErr(t, "delete again", s.DeleteManifest(ctx, "lib/del", gone.Digest), store.ErrNotFound)
	wantErr(t, "delete in missing repository", s.DeleteManifest(ctx, "lib/nope", keep.Digest), store.ErrNotFound)

	// Its references are no longer live; the other manifest's still are.
	live := live(t, s, ts(0).AddDate(100, 0, 0))
	if live[blobDigest("gone")] || live[gone.Digest] {
		t.Error("a deleted manifest's blobs are still live")
	}
	if !live[blobDigest("shared")] || !live[blobDigest("keep")] {
		t.Error("deleting one manifest made another's blobs not live")
	}
	// Pushing it again works.
	must(t, "put again", s.PutManifest(ctx, manifest(r, "gone"), nil, "a"))
}

// testPutManifestAtomic checks that a manifest, its references and its tag
// appear together: a reader that sees the tag sees the rest.
func testPutManifestAtomic(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := repo(t, s, "lib/atomic")
	const pushes = 40
	done := make(chan error, 1)
	go func() {
		for i := range pushes {
			m := manifest(r, fmt.Sprint(i))
			refs := []string{blobDigest(fmt.Sprint("config", i)), blobDigest(fmt.Sprint("layer", i))}
			if err := s.PutManifest(ctx, m, refs, "latest"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for seen := 0; ; seen++ {
		select {
		case err := <-done:
			must(t, "push", err)
			if seen == 0 {
				t.Log("the reader saw no push in flight")
			}
			return
		default:
		}
		d, err := s.ResolveTag(ctx, "lib/atomic", "latest")
		if err != nil {
			continue
		}
		m, err := s.Manifest(ctx, "lib/atomic", d)
		if err != nil {
			t.Fatalf("tag points at %s, which is not there: %v", d, err)
		}
		var seed struct{ Seed string }
		if err := json.Unmarshal(m.Content, &seed); err != nil {
			t.Fatalf("manifest %s: %v", d, err)
		}
		lv := live(t, s, ts(0).AddDate(100, 0, 0))
		for _, ref := range []string{blobDigest("config" + seed.Seed), blobDigest("layer" + seed.Seed)} {
			if !lv[ref] {
				t.Fatalf("tag points at %s, whose reference %s is not recorded", d, ref)
			}
		}
	}
}

func testReferrers(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := repo(t, s, "lib/ref-a"), repo(t, s, "lib/ref-b")
	subject := manifest(a, "image")
	must(t, "put subject", s.PutManifest(ctx, subject, nil, "v1"))

	sig := manifest(a, "signature")
	sig.ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"
	sig.Subject = subject.Digest
	sig.Annotations = map[string]string{"dev.sigstore.cosign/signature": "MEUCIQ"}
	sbom := manifest(a, "sbom")
	sbom.ArtifactType = "application/spdx+json"
	sbom.Subject = subject.Digest
	unrelated := manifest(a, "unrelated")
	unrelated.Subject = blobDigest("another subject")
	inB := manifest(b, "sbom in b")
	inB.Subject = subject.Digest
	for _, m := range []*store.Manifest{sig, sbom, unrelated, inB} {
		must(t, "put referrer", s.PutManifest(ctx, m, []string{m.Subject}, ""))
	}

	got, err := s.Referrers(ctx, "lib/ref-a", subject.Digest)
	must(t, "referrers", err)
	want := []store.Descriptor{
		{MediaType: sig.MediaType, ArtifactType: sig.ArtifactType, Digest: sig.Digest, Size: sig.Size, Annotations: sig.Annotations},
		{MediaType: sbom.MediaType, ArtifactType: sbom.ArtifactType, Digest: sbom.Digest, Size: sbom.Size},
	}
	slices.SortFunc(want, func(x, y store.Descriptor) int { return strings.Compare(x.Digest, y.Digest) })
	if d := diff(want, got); d != "" {
		t.Errorf("Referrers (-want +got):\n%s", d)
	}
	got, err = s.Referrers(ctx, "lib/ref-a", blobDigest("nobody refers to this"))
	must(t, "referrers of an unreferred digest", err)
	if got == nil || len(got) != 0 {
		t.Errorf("Referrers with no match = %#v, want []", got)
	}
	_, err = s.Referrers(ctx, "lib/nope", subject.Digest)
	wantErr(t, "referrers in missing repository", err, store.ErrNotFound)

	// A referrer disappears with its manifest; the subject's deletion
	// leaves referrers alone (the spec allows dangling subjects).
	must(t, "delete sbom", s.DeleteManifest(ctx, "lib/ref-a", sbom.Digest))
	must(t, "delete subject", s.DeleteManifest(ctx, "lib/ref-a", subject.Digest))
	got, err = s.Referrers(ctx, "lib/ref-a", subject.Digest)
	must(t, "referrers after deletes", err)
	if len(got) != 1 || got[0].Digest != sig.Digest {
		t.Errorf("Referrers after deletes = %+v, want the signature", got)
	}
}
