package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// ErrGCRunning is returned by GC while another collection runs.
var ErrGCRunning = errors.New("garbage collection is already running")

// GCOptions tune one garbage collection.
type GCOptions struct {
	// DryRun reports what would be deleted and deletes nothing.
	DryRun bool
	// Grace keeps blobs linked or written this recently, even when no
	// manifest references them yet: pushes in flight upload blobs before
	// their manifest. Zero means DefaultGCGrace.
	Grace time.Duration
}

// GCStats says what a garbage collection found and removed (or, in a dry
// run, would remove).
type GCStats struct {
	DryRun         bool
	LiveBlobs      int      // blobs referenced or recently linked
	BlobsScanned   int      // blob files looked at
	BlobsDeleted   int      // unreferenced blob files removed
	BytesFreed     int64    // their total size
	Deleted        []string // their digests (at most maxReportedDigests)
	UploadsExpired int      // idle upload sessions removed with their bytes
	OrphanUploads  int      // partial upload files with no session, removed
	Duration       time.Duration
}

const maxReportedDigests = 1000

// gcGuard keeps garbage collection from deleting a blob that a request is
// about to make live (link it, or reference it from a manifest) after the
// collection took its snapshot of live blobs.
//
// A request protects the digests for as long as it works with them. A
// collection records every digest protected while it runs (and those
// already protected when it starts), and never deletes those.
type gcGuard struct {
	run     sync.Mutex // one collection at a time
	mu      sync.Mutex
	running bool
	active  map[blob.Digest]int      // protected now
	touched map[blob.Digest]struct{} // protected since the collection started
}

func (g *gcGuard) protect(ds ...blob.Digest) (release func()) {
	g.mu.Lock()
	if g.active == nil {
		g.active = map[blob.Digest]int{}
	}
	for _, d := range ds {
		g.active[d]++
		if g.running {
			g.touched[d] = struct{}{}
		}
	}
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		for _, d := range ds {
			if g.active[d]--; g.active[d] <= 0 {
				delete(g.active, d)
			}
		}
		g.mu.Unlock()
	}
}

func (g *gcGuard) start() {
	g.mu.Lock()
	g.running = true
	g.touched = map[blob.Digest]struct{}{}
	for d := range g.active {
		g.touched[d] = struct{}{}
	}
	g.mu.Unlock()
}

func (g *gcGuard) stop() {
	g.mu.Lock()
	g.running = false
	g.touched = nil
	g.mu.Unlock()
}

// deleteUnlessTouched runs del (which reports whether it deleted) unless d
// was protected since the collection started. It holds the guard while deleting, so no request can protect d
// between the check and the deletion.
func (g *gcGuard) deleteUnlessTouched(d blob.Digest, del func() (bool, error)) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.touched[d]; ok {
		return false, nil
	}
	if g.active[d] > 0 {
		return false, nil
	}
	return del()
}

// GC marks the blobs that manifests reference (or that were linked within
// the grace period) and sweeps every other blob file, then removes upload
// sessions idle for longer than the upload TTL and partial uploads with no
// session. It is safe while pushes run: see gcGuard. Run it in the serving
// process so the guard sees those pushes; a separate process is protected
// only by the grace period.
func (reg *Registry) GC(ctx context.Context, opts GCOptions) (GCStats, error) {
	if !reg.gc.run.TryLock() {
		return GCStats{}, ErrGCRunning
	}
	defer reg.gc.run.Unlock()
	began := reg.now()
	stats := GCStats{DryRun: opts.DryRun}
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGCGrace
	}
	cutoff := began.Add(-grace)

	reg.gc.start()
	defer reg.gc.stop()

	// Mark.
	live := map[blob.Digest]struct{}{}
	err := reg.store.LiveBlobs(ctx, cutoff, func(digest string) error {
		live[blob.Digest(digest)] = struct{}{}
		return nil
	})
	if err != nil {
		return stats, fmt.Errorf("gc mark: %w", err)
	}
	stats.LiveBlobs = len(live)

	// Sweep blobs.
	err = reg.blobs.Walk(ctx, func(info blob.Info) error {
		stats.BlobsScanned++
		if _, ok := live[info.Digest]; ok || info.ModTime.After(cutoff) {
			return nil
		}
		if opts.DryRun {
			stats.record(info)
			return nil
		}
		deleted, err := reg.gc.deleteUnlessTouched(info.Digest, func() (bool, error) {
			// The store re-checks liveness and unlinks the blob everywhere
			// in one transaction; only then do the bytes go.
			swept, err := reg.store.SweepBlob(ctx, string(info.Digest), cutoff)
			if err != nil || !swept {
				return false, err
			}
			return true, reg.blobs.Delete(ctx, info.Digest)
		})
		switch {
		case errors.Is(err, blob.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("gc delete %s: %w", info.Digest, err)
		case deleted:
			stats.record(info)
			reg.log.InfoContext(ctx, "gc deleted blob", "digest", info.Digest, "size", info.Size)
		}
		return nil
	})
	if err != nil {
		return stats, fmt.Errorf("gc sweep: %w", err)
	}

	// Sweep uploads.
	if err := reg.sweepUploads(ctx, &stats); err != nil {
		return stats, err
	}
	stats.Duration = reg.now().Sub(began)
	reg.log.InfoContext(ctx, "gc finished", "dryRun", stats.DryRun, "live", stats.LiveBlobs, "scanned", stats.BlobsScanned,
		"deleted", stats.BlobsDeleted, "bytes", stats.BytesFreed, "uploadsExpired", stats.UploadsExpired, "orphanUploads", stats.OrphanUploads)
	return stats, nil
}

func (s *GCStats) record(info blob.Info) {
	s.BlobsDeleted++
	s.BytesFreed += info.Size
	if len(s.Deleted) < maxReportedDigests {
		s.Deleted = append(s.Deleted, string(info.Digest))
	}
}

func (reg *Registry) sweepUploads(ctx context.Context, stats *GCStats) error {
	before := reg.now().Add(-reg.uploadTTL)
	expired, err := reg.store.ExpiredUploads(ctx, before)
	if err != nil {
		return fmt.Errorf("gc uploads: %w", err)
	}
	for _, u := range expired {
		if err := ctx.Err(); err != nil {
			return err
		}
		if stats.DryRun {
			stats.UploadsExpired++
			continue
		}
		dropped, err := reg.dropIfIdle(ctx, u.ID, before)
		if err != nil {
			return fmt.Errorf("gc upload %s: %w", u.ID, err)
		}
		if dropped {
			stats.UploadsExpired++
		}
	}
	// Partial upload files with no session: single-request uploads cut
	// short by a crash, or sessions whose record is gone.
	return reg.uploads.WalkUploads(ctx, func(id string, size int64, modTime time.Time) error {
		if !modTime.Before(before) {
			return nil
		}
		_, err := reg.store.Upload(ctx, id)
		switch {
		case err == nil:
			return nil // a session owns it; it expires with the session
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("gc uploads: %w", err)
		}
		stats.OrphanUploads++
		if stats.DryRun {
			return nil
		}
		return reg.uploads.Remove(ctx, id)
	})
}

// dropIfIdle removes upload id if it is still idle since before, holding
// the session's lock so no request is writing to it.
func (reg *Registry) dropIfIdle(ctx context.Context, id string, before time.Time) (bool, error) {
	defer reg.locks.lock(id)()
	u, err := reg.store.Upload(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !u.UpdatedAt.Before(before) {
		return false, nil
	}
	return true, reg.dropSession(ctx, id)
}
