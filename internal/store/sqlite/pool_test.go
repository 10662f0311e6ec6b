package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/storetest"
)

// BenchmarkPools compares the default (one write connection, a pool of
// read-only ones) with one shared pool and with a single connection, and
// synchronous FULL with NORMAL, on the registry's hot paths and on pulls
// while pushes run.
func BenchmarkPools(b *testing.B) {
	n := max(4, runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		name string
		o    options
	}{
		{"split", defaults},
		{"shared", options{writeConns: n, synchronous: "FULL"}},
		{"single", options{writeConns: 1, synchronous: "FULL"}},
		{"split-normal", options{readConns: n, writeConns: 1, synchronous: "NORMAL"}},
	} {
		newStore := func(b *testing.B) store.Store {
			s, err := open(context.Background(), filepath.Join(b.TempDir(), "seawall.db"), nil, c.o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
		b.Run(c.name, func(b *testing.B) {
			storetest.Bench(b, newStore)
			b.Run("PullWhilePushing", func(b *testing.B) { pullWhilePushing(b, newStore(b)) })
		})
	}
}

// pullWhilePushing times pulls from parallel clients while one client
// pushes without pause.
func pullWhilePushing(b *testing.B, s store.Store) {
	ctx := context.Background()
	if err := s.CreateProject(ctx, &store.Project{Name: "p"}); err != nil {
		b.Fatal(err)
	}
	r, err := s.EnsureRepository(ctx, "p/r")
	if err != nil {
		b.Fatal(err)
	}
	m := &store.Manifest{RepositoryID: r.ID, Digest: "sha256:pulled", MediaType: "m", Content: []byte("{}")}
	if err := s.PutManifest(ctx, m, nil, "latest"); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pm := &store.Manifest{RepositoryID: r.ID, Digest: fmt.Sprint("sha256:pushed", i), MediaType: "m", Content: []byte("{}")}
			if err := s.PutManifest(ctx, pm, []string{"sha256:a", "sha256:b"}, fmt.Sprint("t", i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := s.ResolveTag(ctx, "p/r", "latest")
			if err == nil {
				_, err = s.Manifest(ctx, "p/r", d)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	close(stop)
	wg.Wait()
}
