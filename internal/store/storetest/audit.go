package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// testSeal stands in for package audit's hash: any function of the
// entry and its predecessor's hash will do for the store.
func testSeal(e *store.AuditEntry) (string, error) {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%s|%s|%s", e.Seq, e.Time.Format(time.RFC3339Nano), e.Kind, e.Actor, e.Detail, e.PrevHash))
	return hex.EncodeToString(sum[:]), nil
}

func auditEntries(t *testing.T, s store.Store, f store.AuditFilter) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	must(t, "audit entries", s.AuditEntries(context.Background(), f, func(e store.AuditEntry) error {
		out = append(out, e)
		return nil
	}))
	return out
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	seq, hash, err := s.AuditHead(ctx)
	if err != nil || seq != 0 || hash != "" {
		t.Fatalf("empty log's head = %d, %q, %v; want 0, \"\"", seq, hash, err)
	}
	in := []store.AuditEntry{
		{Time: ts(1), Kind: "login", Actor: "alice"},
		{Time: ts(2), Kind: "push", Actor: "alice", Project: "team", Repo: "team/app", Digest: blobDigest("m1"), Tag: "v1", Detail: []byte(`{"size":"12"}`)},
		{Time: ts(3), Kind: "pull", Actor: "bob", Project: "other", Repo: "other/x", Digest: blobDigest("m2")},
		{Time: ts(4), Kind: "delete", Actor: "alice", Project: "team", Repo: "team/app", Digest: blobDigest("m1")},
	}
	var want []store.AuditEntry
	prev := ""
	for i := range in {
		e := in[i]
		must(t, "append", s.AppendAudit(ctx, []*store.AuditEntry{&e}, testSeal))
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash == "" {
			t.Fatalf("entry %d: seq %d, prev %q, hash %q; want seq %d, prev %q", i, e.Seq, e.PrevHash, e.Hash, i+1, prev)
		}
		if !e.Time.Equal(kept(in[i].Time)) || e.Time.Location() != time.UTC {
			t.Errorf("entry %d: time %v, want %v in UTC", i, e.Time, kept(in[i].Time))
		}
		prev = e.Hash
		want = append(want, e)
	}
	if want[0].Detail == nil || string(want[0].Detail) != "{}" {
		t.Errorf("empty detail stored as %q, want {}", want[0].Detail)
	}
	if d := diff(want, auditEntries(t, s, store.AuditFilter{})); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	seq, hash, err = s.AuditHead(ctx)
	if err != nil || seq != 4 || hash != want[3].Hash {
		t.Errorf("head = %d, %q, %v; want 4, %q", seq, hash, err, want[3].Hash)
	}
	for _, tt := range []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"since", store.AuditFilter{Since: ts(2)}, []int64{2, 3, 4}},
		{"since between", store.AuditFilter{Since: ts(2).Add(time.Second)}, []int64{3, 4}},
		{"project", store.AuditFilter{Project: "team"}, []int64{2, 4}},
		{"project and since", store.AuditFilter{Project: "team", Since: ts(3)}, []int64{4}},
		{"after", store.AuditFilter{AfterSeq: 2}, []int64{3, 4}},
		{"limit", store.AuditFilter{Limit: 2}, []int64{1, 2}},
		{"no such project", store.AuditFilter{Project: "nope"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, e := range auditEntries(t, s, tt.f) {
				got = append(got, e.Seq)
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("seqs (-want +got):\n%s", d)
			}
		})
	}

	// fn's error stops the walk and comes back as it is.
	stop := errors.New("stop")
	n := 0
	err = s.AuditEntries(ctx, store.AuditFilter{}, func(store.AuditEntry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("walk stopped after %d with %v; want 1, stop", n, err)
	}

	// A failed seal stores nothing of its batch and leaves the chain's
	// end alone.
	good, bad := store.AuditEntry{Kind: "pull"}, store.AuditEntry{Kind: "push"}
	err = s.AppendAudit(ctx, []*store.AuditEntry{&good, &bad}, func(e *store.AuditEntry) (string, error) {
		if e.Kind == "push" {
			return "", stop
		}
		return testSeal(e)
	})
	if !errors.Is(err, stop) {
		t.Errorf("append with a failing seal: %v, want stop", err)
	}
	seq, hash, _ = s.AuditHead(ctx)
	if seq != 4 || hash != want[3].Hash || len(auditEntries(t, s, store.AuditFilter{})) != 4 {
		t.Errorf("after a failed append the head is %d %q: want it unchanged", seq, hash)
	}
	next := store.AuditEntry{Kind: "login"}
	must(t, "append after failure", s.AppendAudit(ctx, []*store.AuditEntry{&next}, testSeal))
	if next.Seq != 5 || next.PrevHash != want[3].Hash || next.Time.IsZero() {
		t.Errorf("append after a failure: seq %d prev %q time %v; want 5, the 4th hash, now", next.Seq, next.PrevHash, next.Time)
	}

	// A batch chains within itself, in order, in one transaction.
	batch := []*store.AuditEntry{{Kind: "push", Actor: "a"}, {Kind: "pull", Actor: "b"}, {Kind: "delete", Actor: "c"}}
	must(t, "append a batch", s.AppendAudit(ctx, batch, testSeal))
	prev = next.Hash
	for i, e := range batch {
		if e.Seq != int64(6+i) || e.PrevHash != prev {
			t.Errorf("batch entry %d: seq %d prev %.8s; want %d, %.8s", i, e.Seq, e.PrevHash, 6+i, prev)
		}
		prev = e.Hash
	}
	seq, hash, _ = s.AuditHead(ctx)
	if seq != 8 || hash != batch[2].Hash {
		t.Errorf("head after the batch: %d %.8s", seq, hash)
	}
	must(t, "append nothing", s.AppendAudit(ctx, nil, testSeal))
}

// testAuditConcurrent appends from many goroutines at once: the chain
// stays one line, with no gap, no fork and no repeated sequence number.
func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers, each = 12, 10
	errs := parallel(workers, func(w int) error {
		for i := range each {
			e := store.AuditEntry{Kind: "pull", Actor: fmt.Sprintf("w%d", w), Detail: fmt.Appendf(nil, `{"i":"%d"}`, i)}
			if err := s.AppendAudit(ctx, []*store.AuditEntry{&e}, testSeal); err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		must(t, "concurrent append", err)
	}
	es := auditEntries(t, s, store.AuditFilter{})
	if len(es) != workers*each {
		t.Fatalf("%d entries, want %d", len(es), workers*each)
	}
	prev := ""
	for i, e := range es {
		if e.Seq != int64(i+1) || e.PrevHash != prev {
			t.Fatalf("entry %d: seq %d prev %.8s; want seq %d prev %.8s: the chain forked", i, e.Seq, e.PrevHash, i+1, prev)
		}
		if h, _ := testSeal(&e); h != e.Hash {
			t.Fatalf("entry %d: stored hash is not the seal of the stored entry", e.Seq)
		}
		prev = e.Hash
	}
	seq, hash, err := s.AuditHead(ctx)
	if err != nil || seq != workers*each || hash != prev {
		t.Errorf("head %d %.8s %v; want %d %.8s", seq, hash, err, workers*each, prev)
	}
}
