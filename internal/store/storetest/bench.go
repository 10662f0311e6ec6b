package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/seawall-dev/seawall/internal/store"
)

// Bench measures the registry's hot paths on stores from newStore: a
// push's manifest write, a pull's tag and manifest reads, and the blob
// HEAD's size lookup, each alone and from parallel clients.
func Bench(b *testing.B, newStore func(b *testing.B) store.Store) {
	ctx := context.Background()
	setup := func(b *testing.B) (store.Store, *store.Repository) {
		s := newStore(b)
		if err := s.CreateProject(ctx, &store.Project{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		r, err := s.EnsureRepository(ctx, "bench/app")
		if err != nil {
			b.Fatal(err)
		}
		return s, r
	}
	// push stores a manifest with a config and four layers, tagged.
	push := func(s store.Store, r *store.Repository, seed string) error {
		m := manifest(r, seed)
		refs := []string{blobDigest("config " + seed), blobDigest("base"), blobDigest("deps"), blobDigest("app " + seed), blobDigest("data " + seed)}
		return s.PutManifest(ctx, m, refs, "t"+seed)
	}
	const tags, blobs = 200, 2000
	// pullable is a store with tags t0 … t199.
	pullable := func(b *testing.B) store.Store {
		s, r := setup(b)
		for i := range tags {
			if err := push(s, r, fmt.Sprint(i)); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	pull := func(s store.Store, i int) error {
		d, err := s.ResolveTag(ctx, "bench/app", fmt.Sprint("t", i%tags))
		if err == nil {
			_, err = s.Manifest(ctx, "bench/app", d)
		}
		return err
	}
	linked := func(b *testing.B) store.Store {
		s, _ := setup(b)
		for i := range blobs {
			if err := s.LinkBlob(ctx, "bench/app", blobDigest(fmt.Sprint(i)), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	head := func(s store.Store, i int) error {
		_, err := s.BlobSize(ctx, "bench/app", blobDigest(fmt.Sprint(i%blobs)))
		return err
	}

	b.Run("PutManifest", func(b *testing.B) {
		s, r := setup(b)
		serialLoop(b, func(i int) error { return push(s, r, fmt.Sprint(i)) })
	})
	b.Run("PutManifestParallel", func(b *testing.B) {
		s, r := setup(b)
		parallelLoop(b, func(g, i int) error { return push(s, r, fmt.Sprintf("%d-%d", g, i)) })
	})
	b.Run("Pull", func(b *testing.B) {
		s := pullable(b)
		serialLoop(b, func(i int) error { return pull(s, i) })
	})
	b.Run("PullParallel", func(b *testing.B) {
		s := pullable(b)
		parallelLoop(b, func(g, i int) error { return pull(s, g+i) })
	})
	b.Run("BlobSize", func(b *testing.B) {
		s := linked(b)
		serialLoop(b, func(i int) error { return head(s, i) })
	})
	b.Run("BlobSizeParallel", func(b *testing.B) {
		s := linked(b)
		parallelLoop(b, func(g, i int) error { return head(s, g+i) })
	})
}

// serialLoop calls fn(0), fn(1) … for the benchmark's iterations.
func serialLoop(b *testing.B, fn func(i int) error) {
	for i := 0; b.Loop(); i++ {
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
	}
}

// parallelLoop runs fn from b.RunParallel's goroutines, numbering each
// goroutine g and its calls i.
func parallelLoop(b *testing.B, fn func(g, i int) error) {
	var goroutines atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(goroutines.Add(1)) * 1_000_000
		for i := 0; pb.Next(); i++ {
			if err := fn(g, i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
