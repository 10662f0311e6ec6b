package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// parallel runs fn(i) for i in [0, n) at once and returns each call's
// error.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// testConcurrentPushes has many clients push into one repository at once,
// as `docker push` of many images would: no push is lost and none fails.
func testConcurrentPushes(t *testing.T, s store.Store) {
	ctx := context.Background()
	project(t, s, "busy")
	const workers, pushes = 16, 8
	type pushed struct{ tag, digest string }
	results := make([][]pushed, workers)
	errs := parallel(workers, func(w int) error {
		r, err := s.EnsureRepository(ctx, "busy/app")
		if err != nil {
			return err
		}
		for i := range pushes {
			seed := fmt.Sprintf("%d-%d", w, i)
			shared, own := blobDigest("base layer"), blobDigest("layer "+seed)
			for _, d := range []string{shared, own} {
				if err := s.LinkBlob(ctx, "busy/app", d, 10); err != nil {
					return err
				}
			}
			m := manifest(r, seed)
			tag := "t-" + seed
			if err := s.PutManifest(ctx, m, []string{shared, own}, tag); err != nil {
				return err
			}
			if err := s.PutManifest(ctx, m, nil, "latest"); err != nil {
				return err
			}
			results[w] = append(results[w], pushed{tag, m.Digest})
		}
		return nil
	})
	for w, err := range errs {
		must(t, fmt.Sprint("worker ", w), err)
	}

	tags, err := s.ListTags(ctx, "busy/app", "", -1)
	must(t, "list tags", err)
	if len(tags) != workers*pushes+1 {
		t.Errorf("%d tags, want %d", len(tags), workers*pushes+1)
	}
	digests := map[string]bool{}
	lv := live(t, s, time.Time{})
	for _, rs := range results {
		for _, p := range rs {
			digests[p.digest] = true
			if d, err := s.ResolveTag(ctx, "busy/app", p.tag); err != nil || d != p.digest {
				t.Errorf("tag %s = %s, %v; want %s", p.tag, d, err, p.digest)
			}
			if !lv[p.digest] || !lv[blobDigest("layer "+p.tag[2:])] {
				t.Errorf("push %s lost its references", p.tag)
			}
		}
	}
	latest, err := s.ResolveTag(ctx, "busy/app", "latest")
	must(t, "resolve latest", err)
	if !digests[latest] {
		t.Errorf("latest = %s, which no client pushed", latest)
	}
	names, err := s.ListRepositories(ctx, "busy", "", -1)
	must(t, "list repositories", err)
	if d := diff([]string{"busy/app"}, names); d != "" {
		t.Errorf("racing EnsureRepository (-want +got):\n%s", d)
	}
}

// testPushDeleteRace races pushes of one manifest against its deletion:
// each call succeeds or reports the race (ErrConflict, ErrNotFound), and
// no tag is left pointing at nothing.
func testPushDeleteRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := repo(t, s, "race/app")
	m := manifest(r, "contested")
	const workers, rounds = 8, 10
	errs := parallel(workers, func(w int) error {
		for i := range rounds {
			if w%2 == 0 {
				if err := s.DeleteManifest(ctx, "race/app", m.Digest); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				continue
			}
			err := s.PutManifest(ctx, manifest(r, "contested"), []string{blobDigest("layer")}, fmt.Sprint("t", w, "-", i))
			if err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return nil
	})
	for w, err := range errs {
		must(t, fmt.Sprint("worker ", w), err)
	}
	tags, err := s.ListTags(ctx, "race/app", "", -1)
	must(t, "list tags", err)
	for _, tag := range tags {
		if d, err := s.ResolveTag(ctx, "race/app", tag); err != nil || d != m.Digest {
			t.Errorf("tag %s = %s, %v", tag, d, err)
		}
	}
	if _, err := s.Manifest(ctx, "race/app", m.Digest); errors.Is(err, store.ErrNotFound) && len(tags) > 0 {
		t.Errorf("tags %v outlived their manifest", tags)
	}
}

// testConcurrentCreates races creators of one name: exactly one wins and
// the others get ErrExists.
func testConcurrentCreates(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t, s, "owner")
	p := project(t, s, "racing")
	const n = 12
	for _, tc := range []struct {
		name   string
		create func(i int) error
	}{
		{"user", func(int) error { return s.CreateUser(ctx, &store.User{Name: "same", PasswordHash: "h"}) }},
		{"project", func(int) error { return s.CreateProject(ctx, &store.Project{Name: "same"}) }},
		{"robot", func(int) error {
			return s.CreateRobot(ctx, &store.Robot{ProjectID: p.ID, Name: "robot$racing+same", SecretHash: "h"})
		}},
		{"token", func(int) error { return s.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: "same"}) }},
		{"upload", func(int) error { return s.CreateUpload(ctx, &store.Upload{ID: "same", Repository: "racing/x"}) }},
	} {
		won := 0
		for i, err := range parallel(n, tc.create) {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrExists):
				t.Errorf("%s %d: %v, want nil or ErrExists", tc.name, i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d racing creates of one %s succeeded, want 1", won, tc.name)
		}
	}
}

// testConcurrentUploadUpdates races PATCHes on one upload session: the
// offset only moves forward, and a write that would move it back gets
// ErrConflict.
func testConcurrentUploadUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateUpload(ctx, &store.Upload{ID: "patch", Repository: "p/r"}))
	const n = 16
	errs := parallel(n, func(i int) error {
		off := int64((i*7)%n + 1)
		return s.UpdateUpload(ctx, &store.Upload{ID: "patch", Offset: off * 100, HashState: fmt.Appendf(nil, "at %d", off*100)})
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("update %d: %v, want nil or ErrConflict", i, err)
		}
	}
	u, err := s.Upload(ctx, "patch")
	must(t, "get", err)
	if u.Offset != n*100 || string(u.HashState) != fmt.Sprintf("at %d", n*100) {
		t.Errorf("after racing updates: offset %d, state %q; want %d and its state", u.Offset, u.HashState, n*100)
	}
}

// testOddNames stores names a registry's validation might let through,
// and some it should not, and reads them back byte for byte.
func testOddNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	proj := "проект-ü"
	names := []string{
		proj + "/образ",
		proj + "/quote'double\"back\\slash",
		proj + "/like%wild_card",
		proj + "/space and 🚀 emoji",
		proj + "/a/b/c/../d",
	}
	for _, n := range names {
		repo(t, s, n)
		r, err := s.RepositoryByName(ctx, n)
		must(t, "by name", err)
		if r.Name != n {
			t.Errorf("repository name %q came back as %q", n, r.Name)
		}
	}
	// LIKE's wildcards in a project's name match nothing else.
	repo(t, s, "a_b/x")
	repo(t, s, "axb/y")
	repo(t, s, "a%b/z")
	for p, want := range map[string][]string{"a_b": {"a_b/x"}, "a%b": {"a%b/z"}, "axb": {"axb/y"}} {
		got, err := s.ListRepositories(ctx, p, "", -1)
		must(t, "list "+p, err)
		if d := diff(want, got); d != "" {
			t.Errorf("ListRepositories(%q) (-want +got):\n%s", p, d)
		}
	}
	got, err := s.ListRepositories(ctx, proj, "", -1)
	must(t, "list", err)
	if len(got) != len(names) {
		t.Errorf("ListRepositories(%q) = %q", proj, got)
	}

	r, err := s.RepositoryByName(ctx, names[3])
	must(t, "by name", err)
	tag := "t 🚀%_'\"\\"
	m := manifest(r, tag)
	m.Annotations = map[string]string{"key with 'quotes'": "value\nwith\tcontrol \u0001 chars and \u0000 NUL"}
	m.ArtifactType = "application/vnd.ü+json"
	must(t, "put", s.PutManifest(ctx, m, nil, tag))
	if d, err := s.ResolveTag(ctx, names[3], tag); err != nil || d != m.Digest {
		t.Errorf("odd tag resolves to %s, %v", d, err)
	}
	gotM, err := s.Manifest(ctx, names[3], m.Digest)
	must(t, "get", err)
	if d := diff(m.Annotations, gotM.Annotations); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}
	if gotM.ArtifactType != m.ArtifactType {
		t.Errorf("artifact type %q came back as %q", m.ArtifactType, gotM.ArtifactType)
	}

	for _, name := range []string{"José O'Brien 🚀", "robot$" + proj + "+ci bot", "x\\y"} {
		u := user(t, s, name)
		got, err := s.UserByName(ctx, name)
		must(t, "user by name", err)
		if got.ID != u.ID || got.Name != name {
			t.Errorf("user %q came back as %q", name, got.Name)
		}
	}
	p, err := s.ProjectByName(ctx, proj)
	must(t, "project", err)
	rb := &store.Robot{ProjectID: p.ID, Name: "robot$" + proj + "+ci bot", SecretHash: "h", Permissions: []string{"pull", "ü"}}
	must(t, "robot", s.CreateRobot(ctx, rb))
	if got, err := s.RobotByName(ctx, rb.Name); err != nil || got.ID != rb.ID {
		t.Errorf("odd robot name: %+v, %v", got, err)
	}

	// Text no valid registry name holds: a backend stores it faithfully
	// or refuses it with ErrInvalid, never anything else.
	for _, name := range []string{"nul\x00byte", "bad utf-8 \xff\xfe"} {
		err := s.CreateUser(ctx, &store.User{Name: name, PasswordHash: "h"})
		if err != nil {
			t.Logf("%q refused: %v", name, err)
			wantErr(t, fmt.Sprintf("create user %q", name), err, store.ErrInvalid)
			continue
		}
		got, err := s.UserByName(ctx, name)
		must(t, fmt.Sprintf("user %q", name), err)
		if got.Name != name {
			t.Errorf("user %q came back as %q", name, got.Name)
		}
	}
	// Looking such text up finds nothing, whichever way the backend
	// treats it.
	for _, name := range []string{"p/missing\x00", "p/missing\xff"} {
		_, err := s.RepositoryByName(ctx, name)
		wantErr(t, fmt.Sprintf("repository %q", name), err, store.ErrNotFound)
		_, err = s.ResolveTag(ctx, names[3], name)
		wantErr(t, fmt.Sprintf("tag %q", name), err, store.ErrNotFound)
		_, err = s.ListTags(ctx, name, "", -1)
		wantErr(t, fmt.Sprintf("tags of %q", name), err, store.ErrNotFound)
		_, err = s.BlobSize(ctx, name, blobDigest("x"))
		wantErr(t, fmt.Sprintf("blob in %q", name), err, store.ErrNotFound)
		wantErr(t, fmt.Sprintf("delete tag %q", name), s.DeleteTag(ctx, names[3], name), store.ErrNotFound)
		_, err = s.Upload(ctx, name)
		wantErr(t, fmt.Sprintf("upload %q", name), err, store.ErrNotFound)
	}
}

// testTimes checks that every time comes back in UTC, to the microsecond,
// and that a zero time stays zero.
func testTimes(t *testing.T, s store.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	check := func(what string, want, got time.Time) {
		t.Helper()
		if !got.Equal(kept(want)) || got.Location() != time.UTC {
			t.Errorf("%s = %v (%v), want %v in UTC", what, got, got.Location(), kept(want))
		}
	}

	u := &store.User{Name: "timely", PasswordHash: "h", CreatedAt: ts(1)}
	must(t, "user", s.CreateUser(ctx, u))
	gu, err := s.UserByName(ctx, "timely")
	must(t, "user", err)
	check("user created", ts(1), gu.CreatedAt)

	now := &store.User{Name: "now", PasswordHash: "h"}
	must(t, "user now", s.CreateUser(ctx, now))
	gn, err := s.UserByName(ctx, "now")
	must(t, "user now", err)
	if gn.CreatedAt.Before(before) || gn.CreatedAt.After(time.Now().Add(time.Second)) || gn.CreatedAt.Location() != time.UTC {
		t.Errorf("a zero CreatedAt became %v, want about now in UTC", gn.CreatedAt)
	}

	p := &store.Project{Name: "timely", CreatedAt: ts(2)}
	must(t, "project", s.CreateProject(ctx, p))
	gp, err := s.ProjectByName(ctx, "timely")
	must(t, "project", err)
	check("project created", ts(2), gp.CreatedAt)

	must(t, "robot", s.CreateRobot(ctx, &store.Robot{ProjectID: p.ID, Name: "robot$timely+r", SecretHash: "h", CreatedAt: ts(3), ExpiresAt: ts(4).AddDate(1, 0, 0)}))
	gr, err := s.RobotByName(ctx, "robot$timely+r")
	must(t, "robot", err)
	check("robot created", ts(3), gr.CreatedAt)
	check("robot expires", ts(4).AddDate(1, 0, 0), gr.ExpiresAt)

	must(t, "token", s.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: "timely", CreatedAt: ts(5), ExpiresAt: ts(6), LastUsed: ts(7)}))
	gt, err := s.TokenByHash(ctx, "timely")
	must(t, "token", err)
	check("token created", ts(5), gt.CreatedAt)
	check("token expires", ts(6), gt.ExpiresAt)
	check("token last used", ts(7), gt.LastUsed)
	must(t, "touch", s.TouchToken(ctx, gt.ID, ts(8)))
	gt, err = s.TokenByHash(ctx, "timely")
	must(t, "token", err)
	check("token touched", ts(8), gt.LastUsed)

	r := repo(t, s, "timely/r")
	if r.CreatedAt.Location() != time.UTC {
		t.Errorf("repository created in %v", r.CreatedAt.Location())
	}
	m := manifest(r, "timely")
	m.CreatedAt = ts(9)
	must(t, "manifest", s.PutManifest(ctx, m, nil, ""))
	gm, err := s.Manifest(ctx, "timely/r", m.Digest)
	must(t, "manifest", err)
	check("manifest created", ts(9), gm.CreatedAt)

	must(t, "upload", s.CreateUpload(ctx, &store.Upload{ID: "timely", Repository: "timely/r", StartedAt: ts(10), UpdatedAt: ts(11)}))
	gup, err := s.Upload(ctx, "timely")
	must(t, "upload", err)
	check("upload started", ts(10), gup.StartedAt)
	check("upload updated", ts(11), gup.UpdatedAt)

	// Far from now, both ways.
	for i, at := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("", -7*3600)),
	} {
		tok := &store.Token{UserID: u.ID, Hash: fmt.Sprint("far ", i), ExpiresAt: at}
		must(t, "token far", s.CreateToken(ctx, tok))
		got, err := s.TokenByHash(ctx, tok.Hash)
		must(t, "token far", err)
		check("far expiry", at, got.ExpiresAt)
	}
}
