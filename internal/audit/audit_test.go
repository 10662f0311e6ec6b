package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/audit"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// fill appends n events and returns them as stored.
func fill(t *testing.T, l *audit.Log, n int) []store.AuditEntry {
	t.Helper()
	kinds := []events.Kind{events.KindLogin, events.KindPush, events.KindPull, events.KindRoleChange, events.KindDelete}
	var out []store.AuditEntry
	for i := range n {
		e := events.Event{
			Kind: kinds[i%len(kinds)], Time: t0.Add(time.Duration(i) * time.Minute),
			Actor: fmt.Sprintf("user%02d", i), Project: "team", Repo: "team/app", Tag: "v1",
			Digest: "sha256:" + strings.Repeat(fmt.Sprintf("%x", i%16), 64),
			Detail: map[string]string{"z": "last", "a": fmt.Sprint(i)},
		}
		en, err := l.Append(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, en)
	}
	return out
}

func TestAppendAndVerify(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seawall.db"))
	l := audit.New(s, nil)
	es := fill(t, l, 5)
	if got := string(es[0].Detail); got != `{"a":"0","z":"last"}` {
		t.Errorf("detail %s: want canonical JSON with sorted keys", got)
	}
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := audit.Report{OK: true, Entries: 5, HeadSeq: 5, HeadHash: es[4].Hash}
	if d := cmp.Diff(want, rep); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	// The first hash is reproducible from the documented recipe.
	h, err := audit.Seal(&es[0])
	if err != nil || h != es[0].Hash {
		t.Errorf("Seal = %s, %v; stored %s", h, err, es[0].Hash)
	}
}

func TestEmptyLogVerifies(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seawall.db"))
	rep, err := audit.Verify(context.Background(), s)
	if err != nil || !rep.OK || rep.Entries != 0 {
		t.Errorf("empty log: %+v, %v; want OK with 0 entries", rep, err)
	}
}

// rawDB opens the SQLite file behind the store's back, as someone with
// access to the file could, with the append-only triggers dropped.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestAppendOnlyTriggers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seawall.db")
	s := open(t, path)
	fill(t, audit.New(s, nil), 2)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE audit_log SET actor = 'x' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err %v, want the append-only refusal", q, err)
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string // SQL run on the raw file
		badSeq  int64
		inError string
	}{
		{"changed actor", []string{`UPDATE audit_log SET actor = 'user9' WHERE seq = 3`}, 3, "altered"},
		{"changed detail", []string{`UPDATE audit_log SET detail = CAST('{"a":"2","z":"lasT"}' AS BLOB) WHERE seq = 3`}, 3, "altered"},
		{"changed time", []string{`UPDATE audit_log SET time = '2026-11-29T10:02:00.000001Z' WHERE seq = 3`}, 3, "altered"},
		{"unparseable time", []string{`UPDATE audit_log SET time = '2026-11-29X10:02:00.000000Z' WHERE seq = 3`}, 3, "does not parse"},
		{"deleted entry", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, "missing"},
		{"cut off the end", []string{`DELETE FROM audit_log WHERE seq >= 5`}, 5, "missing"},
		{"cut off the end and head rewound", []string{`DELETE FROM audit_log WHERE seq >= 5`, `UPDATE audit_head SET seq = 4`}, 4, "recorded at append time"},
		// Rehashing the changed entry moves the break to the next one.
		{"rehashed entry", []string{`UPDATE audit_log SET actor = 'user9', hash = 'ffff' WHERE seq = 3`}, 3, "altered"},
		{"changed prev hash", []string{`UPDATE audit_log SET prev_hash = 'abcd' WHERE seq = 2`}, 2, "prev_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seawall.db")
			s := open(t, path)
			fill(t, audit.New(s, nil), 6)
			db := rawDB(t, path)
			for _, q := range tt.tamper {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := audit.Verify(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.FirstBad == nil {
				t.Fatalf("verify passed a tampered log: %+v", rep)
			}
			if rep.FirstBad.Seq != tt.badSeq || !strings.Contains(rep.FirstBad.Reason, tt.inError) {
				t.Errorf("first bad = %d (%s); want %d, mentioning %q", rep.FirstBad.Seq, rep.FirstBad.Reason, tt.badSeq, tt.inError)
			}
		})
	}
}

// TestVerifyFindsTamperingWhenRehashed: an attacker who changes entry 3
// and recomputes its hash with the published recipe breaks entry 4's link.
func TestVerifyFindsRehashedTampering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seawall.db")
	s := open(t, path)
	es := fill(t, audit.New(s, nil), 6)
	e := es[2]
	e.Actor = "someone-else"
	h, err := audit.Seal(&e)
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 3`, e.Actor, h); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.FirstBad.Seq != 4 || !strings.Contains(rep.FirstBad.Reason, "prev_hash") {
		t.Errorf("report %+v; want entry 4 named, its prev_hash no longer matching", rep.FirstBad)
	}
}

// TestVerifyFindsFlippedByte changes one byte of one entry in the SQLite
// file itself, with no SQL and no trigger in the way.
func TestVerifyFindsFlippedByte(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seawall.db")
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(s, nil)
	fill(t, l, 3)
	marker := "mallory-f6b1c2d9e0"
	target, err := l.Append(ctx, events.Event{Kind: events.KindPush, Actor: marker, Project: "team", Repo: "team/app"})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 2)
	// Closing checkpoints the WAL into the main file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(marker)); n != 1 {
		t.Fatalf("marker found %d times in the file, want once", n)
	}
	i := bytes.Index(b, []byte(marker))
	b[i] ^= 0x01 // 'm' -> 'l'
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	rep, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != target.Seq {
		t.Fatalf("report %+v; want entry %d named", rep, target.Seq)
	}
	if rep.FirstBad.Entry == nil || rep.FirstBad.Entry.Actor != "lallory-f6b1c2d9e0" {
		t.Errorf("bad entry as stored: %+v", rep.FirstBad.Entry)
	}
}

func TestExport(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seawall.db"))
	l := audit.New(s, nil)
	fill(t, l, 3)
	if _, err := l.Append(context.Background(), events.Event{Kind: events.KindLogin, Actor: "x", Time: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := audit.Export(context.Background(), s, store.AuditFilter{Since: t0.Add(time.Minute), Project: "team"}, &buf)
	if err != nil || n != 2 {
		t.Fatalf("exported %d, %v; want 2", n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var got []audit.Entry
	for _, ln := range lines {
		var e audit.Entry
		if err := json.Unmarshal([]byte(ln), &e); err != nil {
			t.Fatalf("line %q: %v", ln, err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 || string(got[0].Detail) != `{"a":"1","z":"last"}` || got[0].Kind != "push" {
		t.Errorf("exported %+v", got)
	}
}

// BenchmarkAppend measures one durable append (SQLite, synchronous=FULL):
// what an audited push or pull adds to its request.
func BenchmarkAppend(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "seawall.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := audit.New(s, nil)
	e := events.Event{Kind: events.KindPull, Actor: "ci", Project: "team", Repo: "team/app", Digest: "sha256:" + strings.Repeat("a", 64), Tag: "v1"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrentAppends: group commit keeps one unbroken chain, and each
// caller gets back its own entry.
func TestConcurrentAppends(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seawall.db"))
	l := audit.New(s, nil)
	const n = 64
	got := make([]store.AuditEntry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = l.Append(context.Background(), events.Event{Kind: events.KindPull, Actor: fmt.Sprintf("u%d", i)})
		})
	}
	wg.Wait()
	seqs := map[int64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i].Actor != fmt.Sprintf("u%d", i) || got[i].Seq < 1 || got[i].Seq > n || seqs[got[i].Seq] {
			t.Fatalf("caller %d got entry %+v", i, got[i])
		}
		seqs[got[i].Seq] = true
	}
	rep, err := audit.Verify(context.Background(), s)
	if err != nil || !rep.OK || rep.Entries != n {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// TestExportPages: an export longer than a page, with and without a
// limit, is complete and in order.
func TestExportPages(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seawall.db"))
	const n = 2345
	es := make([]*store.AuditEntry, n)
	for i := range es {
		es[i] = &store.AuditEntry{Kind: "pull", Actor: fmt.Sprint(i), Detail: []byte("{}")}
	}
	if err := s.AppendAudit(context.Background(), es, audit.Seal); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    store.AuditFilter
		want int
	}{
		{"all", store.AuditFilter{}, n},
		{"limit across pages", store.AuditFilter{Limit: 1500}, 1500},
		{"after", store.AuditFilter{AfterSeq: 2000}, n - 2000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			got, err := audit.Export(context.Background(), s, tt.f, &buf)
			if err != nil || got != tt.want {
				t.Fatalf("exported %d, %v; want %d", got, err, tt.want)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			var first, last audit.Entry
			json.Unmarshal([]byte(lines[0]), &first)
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if len(lines) != tt.want || last.Seq-first.Seq != int64(tt.want-1) || first.Seq != tt.f.AfterSeq+1 {
				t.Errorf("%d lines, seq %d to %d", len(lines), first.Seq, last.Seq)
			}
		})
	}
}
