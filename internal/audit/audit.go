// Package audit keeps Seawall's append-only, hash-chained audit log in the
// metadata store: every entry's SHA-256 covers its own fields and the
// previous entry's hash, so changing, removing or reordering any stored
// entry shows when the chain is recomputed (Verify).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/store"
)

// timeLayout is how an entry's time enters the hash: UTC, to the
// microsecond the store keeps, fixed width.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// sealed is the canonical JSON document an entry's hash covers. Field
// order is fixed by the struct; Detail is hashed as the bytes stored.
type sealed struct {
	Seq      int64  `json:"seq"`
	Time     string `json:"time"`
	Kind     string `json:"kind"`
	Actor    string `json:"actor"`
	Project  string `json:"project"`
	Repo     string `json:"repo"`
	Digest   string `json:"digest"`
	Tag      string `json:"tag"`
	Detail   string `json:"detail"`
	PrevHash string `json:"prev_hash"`
}

// Seal returns e's hash: hex SHA-256 of the canonical JSON of its fields
// and PrevHash.
func Seal(e *store.AuditEntry) (string, error) {
	b, err := json.Marshal(sealed{
		Seq: e.Seq, Time: e.Time.UTC().Format(timeLayout), Kind: e.Kind, Actor: e.Actor,
		Project: e.Project, Repo: e.Repo, Digest: e.Digest, Tag: e.Tag,
		Detail: string(e.Detail), PrevHash: e.PrevHash,
	})
	if err != nil {
		return "", fmt.Errorf("seal audit entry %d: %w", e.Seq, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Log appends events to the audit log. It implements events.Recorder.
//
// Appends are group-committed: while one batch is being written, the
// appends that arrive wait and go together in the next transaction, so
// that one durable commit (an fsync) serves many requests. Every Append
// still returns only once its own entry is durable.
type Log struct {
	st  store.AuditStore
	log *slog.Logger

	mu       sync.Mutex
	pending  []*pendingAppend
	flushing bool
}

type pendingAppend struct {
	e    *store.AuditEntry
	done chan error
}

// maxBatch bounds one transaction.
const maxBatch = 256

// New returns a Log over st.
func New(st store.AuditStore, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{st: st, log: log}
}

// Append records e durably and returns the stored entry.
func (l *Log) Append(ctx context.Context, e events.Event) (store.AuditEntry, error) {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail) // map keys come out sorted: canonical
		if err != nil {
			return store.AuditEntry{}, fmt.Errorf("audit %s: detail: %w", e.Kind, err)
		}
		detail = b
	}
	p := &pendingAppend{
		e: &store.AuditEntry{
			Time: e.Time, Kind: string(e.Kind), Actor: e.Actor, Project: e.Project,
			Repo: e.Repo, Digest: e.Digest, Tag: e.Tag, Detail: detail,
		},
		done: make(chan error, 1),
	}
	l.mu.Lock()
	l.pending = append(l.pending, p)
	lead := !l.flushing
	l.flushing = true
	l.mu.Unlock()
	if lead {
		l.flush(ctx)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return store.AuditEntry{}, fmt.Errorf("audit: %w", err)
		}
		return *p.e, nil
	case <-ctx.Done():
		// The entry may still be written: the batch it is in goes on.
		return store.AuditEntry{}, fmt.Errorf("audit: %w", ctx.Err())
	}
}

// flush writes pending batches until none is left, handing the rest to
// a new goroutine once its caller's own entry is written, so that no
// caller waits for more than the batch in flight and its own.
func (l *Log) flush(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for first := true; ; first = false {
		l.mu.Lock()
		if len(l.pending) == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		if !first {
			l.mu.Unlock()
			go l.flush(ctx)
			return
		}
		n := min(len(l.pending), maxBatch)
		batch := l.pending[:n:n]
		l.pending = l.pending[n:]
		l.mu.Unlock()

		es := make([]*store.AuditEntry, len(batch))
		for i, p := range batch {
			es[i] = p.e
		}
		err := l.st.AppendAudit(ctx, es, Seal)
		if err != nil {
			l.log.ErrorContext(ctx, "audit append failed", "entries", len(es), "err", err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// Record is Append for the event bus.
func (l *Log) Record(ctx context.Context, e events.Event) error {
	_, err := l.Append(ctx, e)
	return err
}

// Problem is the first entry where the chain breaks.
type Problem struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
	// Entry is the entry as stored (nil when it is missing).
	Entry *Entry `json:"entry,omitempty"`
}

// Report is what Verify found.
type Report struct {
	OK       bool     `json:"ok"`
	Entries  int64    `json:"entries"`  // entries read
	HeadSeq  int64    `json:"headSeq"`  // the last sequence number the store recorded
	HeadHash string   `json:"headHash"` // and its hash
	FirstBad *Problem `json:"firstBad,omitempty"`
}

// Verify recomputes the whole chain and reports the first entry that
// does not match: a changed field, a hash that does not follow from the
// previous entry, a missing sequence number, or entries cut off the end.
func Verify(ctx context.Context, st store.AuditStore) (Report, error) {
	var (
		rep      Report
		prevSeq  int64
		prevHash string
	)
	// Read the head first: entries appended during the walk then lie
	// beyond it and are not held against the log.
	headSeq, headHash, err := st.AuditHead(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	rep.HeadSeq, rep.HeadHash = headSeq, headHash
	errStop := errors.New("stop")
	bad := func(seq int64, reason string, e *store.AuditEntry) error {
		p := &Problem{Seq: seq, Reason: reason}
		if e != nil {
			en := ToEntry(*e)
			p.Entry = &en
		}
		rep.FirstBad = p
		return errStop
	}
	err = st.AuditEntries(ctx, store.AuditFilter{}, func(e store.AuditEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Seq > headSeq {
			return errStop // appended after the walk began
		}
		rep.Entries++
		switch {
		case e.Seq != prevSeq+1:
			return bad(prevSeq+1, fmt.Sprintf("entry %d is missing: the next stored entry is %d", prevSeq+1, e.Seq), nil)
		case e.Damaged != "":
			return bad(e.Seq, "the stored entry was altered: "+e.Damaged, &e)
		case e.PrevHash != prevHash:
			return bad(e.Seq, fmt.Sprintf("its prev_hash %q is not the previous entry's hash %q", short(e.PrevHash), short(prevHash)), &e)
		}
		for _, s := range []string{e.Kind, e.Actor, e.Project, e.Repo, e.Digest, e.Tag, string(e.Detail)} {
			if !utf8.ValidString(s) {
				return bad(e.Seq, "the stored entry was altered: a field is not valid UTF-8", &e)
			}
		}
		h, err := Seal(&e)
		if err != nil {
			return err
		}
		if h != e.Hash {
			return bad(e.Seq, fmt.Sprintf("the stored entry was altered: its content hashes to %s, not the recorded %s", short(h), short(e.Hash)), &e)
		}
		if !json.Valid(e.Detail) {
			return bad(e.Seq, "the stored entry's detail is not valid JSON", &e)
		}
		prevSeq, prevHash = e.Seq, e.Hash
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	if rep.FirstBad == nil {
		switch {
		case prevSeq != headSeq:
			rep.FirstBad = &Problem{Seq: prevSeq + 1, Reason: fmt.Sprintf("entries %d to %d are missing: the log ends at %d", prevSeq+1, headSeq, prevSeq)}
		case prevHash != headHash:
			rep.FirstBad = &Problem{Seq: headSeq, Reason: fmt.Sprintf("the last entry's hash %s is not the one recorded at append time (%s)", short(prevHash), short(headHash))}
		}
	}
	rep.OK = rep.FirstBad == nil
	return rep, nil
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// Entry is an audit entry as exported (JSON lines) and served by the API.
type Entry struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor,omitempty"`
	Project  string          `json:"project,omitempty"`
	Repo     string          `json:"repo,omitempty"`
	Digest   string          `json:"digest,omitempty"`
	Tag      string          `json:"tag,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

// ToEntry converts a stored entry for export. A detail that is no longer
// valid JSON is exported as a JSON string, so the line stays valid.
func ToEntry(e store.AuditEntry) Entry {
	detail := json.RawMessage(e.Detail)
	if !json.Valid(detail) {
		b, _ := json.Marshal(string(e.Detail))
		detail = b
	}
	if string(detail) == "{}" {
		detail = nil
	}
	return Entry{
		Seq: e.Seq, Time: e.Time, Kind: e.Kind, Actor: e.Actor, Project: e.Project, Repo: e.Repo,
		Digest: e.Digest, Tag: e.Tag, Detail: detail, PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

// exportPage is how many entries Export reads per query, so that a slow
// reader never holds a database connection for the whole log.
const exportPage = 1000

// Export writes the entries f selects to w as JSON lines and returns how
// many it wrote.
func Export(ctx context.Context, st store.AuditStore, f store.AuditFilter, w io.Writer) (int, error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n, limit := 0, f.Limit
	for {
		page := f
		page.Limit = exportPage
		if limit > 0 {
			page.Limit = min(exportPage, limit-n)
		}
		var entries []store.AuditEntry
		err := st.AuditEntries(ctx, page, func(e store.AuditEntry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("export audit log: %w", err)
		}
		for _, e := range entries {
			if err := enc.Encode(ToEntry(e)); err != nil {
				return n, fmt.Errorf("export audit log: %w", err)
			}
			n++
		}
		if len(entries) < page.Limit || (limit > 0 && n >= limit) {
			return n, nil
		}
		f.AfterSeq = entries[len(entries)-1].Seq
	}
}
