package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/webhook"
)

// receiver is a real HTTP endpoint that checks every delivery as a
// receiver should and answers with the status fail returns.
type receiver struct {
	srv    *httptest.Server
	secret string
	fail   atomic.Int32 // answer 500 to this many more requests
	status atomic.Int32 // otherwise this (default 204)

	mu       sync.Mutex
	got      []webhook.Payload
	attempts map[string]int // by X-Seawall-Delivery
	bad      []string
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{secret: secret, attempts: map[string]int{}}
	r.status.Store(http.StatusNoContent)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.attempts[req.Header.Get(webhook.HeaderDelivery)]++
		err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderTimestamp), body, time.Now(), webhook.DefaultTolerance)
		if err != nil {
			r.bad = append(r.bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Header.Get(webhook.HeaderEvent) == "" {
			r.bad = append(r.bad, "bad request shape: "+req.Method+" "+req.Header.Get("Content-Type"))
		}
		if r.fail.Load() > 0 {
			r.fail.Add(-1)
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.got = append(r.got, p)
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) payloads() []webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Payload(nil), r.got...)
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func setup(t *testing.T, s store.Store, url, secret string, kinds ...string) *store.Webhook {
	t.Helper()
	ctx := context.Background()
	p := &store.Project{Name: "team"}
	if err := s.CreateProject(ctx, p); err != nil && !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	p, _ = s.ProjectByName(ctx, "team")
	h := &store.Webhook{ProjectID: p.ID, URL: url, Secret: secret, Events: kinds}
	if err := s.CreateWebhook(ctx, h); err != nil {
		t.Fatal(err)
	}
	return h
}

func start(t *testing.T, cfg webhook.Config) (*webhook.Dispatcher, context.CancelFunc) {
	t.Helper()
	d, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return d, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func deliveries(t *testing.T, s store.Store, id int64) []store.WebhookDelivery {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), id, -1)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var push = events.Event{Kind: events.KindPush, Time: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Actor: "alice", Project: "team", Repo: "team/app", Digest: "sha256:" + strings.Repeat("a", 64), Tag: "v1"}

func TestSignedDeliveryWithRetries(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "seawall.db"))
	rcv := newReceiver(t, "s3cret")
	rcv.fail.Store(2)
	h := setup(t, s, rcv.srv.URL+"/hook", "s3cret")
	d, _ := start(t, webhook.Config{Store: s, AllowInternal: true, Backoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond})

	ctx := context.Background()
	if err := d.Record(ctx, push); err != nil {
		t.Fatal(err)
	}
	// Not subscribed (defaults exclude pulls), and another project's push.
	if err := d.Record(ctx, events.Event{Kind: events.KindPull, Project: "team"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Record(ctx, events.Event{Kind: events.KindPush, Project: "other"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return len(rcv.payloads()) == 1 })
	got := rcv.payloads()[0]
	if d := cmp.Diff(push, got.Event); d != "" {
		t.Errorf("delivered event (-want +got):\n%s", d)
	}
	if len(got.ID) != 32 {
		t.Errorf("payload id %q: want 32 hex characters", got.ID)
	}
	waitFor(t, "delivered state", func() bool {
		ds := deliveries(t, s, h.ID)
		return len(ds) == 1 && ds[0].State == store.DeliveryDelivered
	})
	dl := deliveries(t, s, h.ID)[0]
	if dl.Attempts != 3 || dl.LastStatus != 204 || dl.LastError != "" {
		t.Errorf("delivery log %+v: want 3 attempts, last 204, no error", dl)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("receiver refused: %v", rcv.bad)
	}
	if len(rcv.attempts) != 1 {
		t.Errorf("attempts by delivery id %v: want one id for every retry", rcv.attempts)
	}
}

func TestWrongSecretIsRefusedAndRetriedThenFails(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "seawall.db"))
	rcv := newReceiver(t, "the-receivers-secret")
	h := setup(t, s, rcv.srv.URL, "another-secret")
	d, _ := start(t, webhook.Config{Store: s, AllowInternal: true, Backoff: 10 * time.Millisecond, Poll: 10 * time.Millisecond, MaxAttempts: 3})
	if err := d.Record(context.Background(), push); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed state", func() bool {
		ds := deliveries(t, s, h.ID)
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	dl := deliveries(t, s, h.ID)[0]
	if dl.Attempts != 3 || dl.LastStatus != 401 || !strings.Contains(dl.LastError, "signature does not match") {
		t.Errorf("delivery %+v: want 3 attempts ending 401 with the receiver's message", dl)
	}
	if len(rcv.payloads()) != 0 {
		t.Error("receiver accepted a delivery signed with the wrong secret")
	}
}

// TestQueueSurvivesRestart: deliveries that failed before a restart, and
// ones queued while no dispatcher ran, are delivered after it.
func TestQueueSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seawall.db")
	s := openStore(t, path)
	rcv := newReceiver(t, "k")
	rcv.fail.Store(1 << 20)
	h := setup(t, s, rcv.srv.URL, "k", "push", "verdict-change")
	cfg := webhook.Config{Store: s, AllowInternal: true, Backoff: 50 * time.Millisecond, Poll: 20 * time.Millisecond}
	d, stop := start(t, cfg)
	if err := d.Record(context.Background(), push); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed attempt", func() bool { ds := deliveries(t, s, h.ID); return len(ds) == 1 && ds[0].Attempts >= 1 })
	stop()
	// Queued while the server is down (say, by another replica).
	d2, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.Record(context.Background(), events.Event{Kind: events.KindVerdictChange, Project: "team", Detail: map[string]string{"from": "pass", "to": "fail"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	rcv.fail.Store(0)
	cfg.Store = s
	start(t, cfg)
	waitFor(t, "both delivered", func() bool {
		ds := deliveries(t, s, h.ID)
		return len(ds) == 2 && ds[0].State == store.DeliveryDelivered && ds[1].State == store.DeliveryDelivered
	})
	ps := rcv.payloads()
	if len(ps) != 2 {
		t.Fatalf("receiver got %d deliveries, want 2 (none lost, none twice)", len(ps))
	}
	kinds := map[events.Kind]bool{ps[0].Event.Kind: true, ps[1].Event.Kind: true}
	if !kinds[events.KindPush] || !kinds[events.KindVerdictChange] {
		t.Errorf("delivered %v", kinds)
	}
}

func TestInternalTargetsRefused(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "seawall.db"))
	rcv := newReceiver(t, "k")
	// Stored directly, as if configured before the server forbade it.
	h := setup(t, s, rcv.srv.URL, "k")
	d, _ := start(t, webhook.Config{Store: s, Backoff: 10 * time.Millisecond, Poll: 10 * time.Millisecond, MaxAttempts: 2})
	if err := d.Record(context.Background(), push); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed state", func() bool {
		ds := deliveries(t, s, h.ID)
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	if dl := deliveries(t, s, h.ID)[0]; !strings.Contains(dl.LastError, "loopback") {
		t.Errorf("last error %q: want the loopback refusal", dl.LastError)
	}
	if n := len(rcv.attempts); n != 0 {
		t.Errorf("the loopback receiver was reached %d times", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "seawall.db"))
	rcv := newReceiver(t, "k")
	redir := httptest.NewServer(http.RedirectHandler(rcv.srv.URL, http.StatusTemporaryRedirect))
	defer redir.Close()
	h := setup(t, s, redir.URL, "k")
	d, _ := start(t, webhook.Config{Store: s, AllowInternal: true, Backoff: 10 * time.Millisecond, Poll: 10 * time.Millisecond, MaxAttempts: 1})
	if err := d.Record(context.Background(), push); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed state", func() bool {
		ds := deliveries(t, s, h.ID)
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	if dl := deliveries(t, s, h.ID)[0]; dl.LastStatus != 307 || !strings.Contains(dl.LastError, "redirects are not followed") {
		t.Errorf("delivery %+v", dl)
	}
	if len(rcv.attempts) != 0 {
		t.Error("the redirect was followed")
	}
}

func TestParseURL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url           string
		allowInternal bool
		wantErr       string
	}{
		{"https://hooks.example.invalid/x", false, ""},
		{"http://10.1.2.3:8080/hook", false, ""},
		{"http://127.0.0.1:9000/", false, "loopback"},
		{"http://[::1]/", false, "loopback"},
		{"http://[::ffff:127.0.0.1]/", false, "loopback"},
		{"http://localhost:8080/", false, "loopback"},
		{"http://api.localhost/", false, "loopback"},
		{"http://169.254.169.254/latest/meta-data/", false, "link-local"},
		{"http://[fe80::1]/", false, "link-local"},
		{"http://100.100.100.200/", false, "metadata"},
		{"http://0.0.0.0/", false, "unspecified"},
		{"http://127.0.0.1:9000/", true, ""},
		{"ftp://hooks.example/", false, "scheme"},
		{"https://user:pw@hooks.example/", false, "credentials"},
		{"https:///path", false, "no host"},
		{"https://hooks.example/#frag", false, "fragment"},
		{"::", false, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := webhook.ParseURL(ctx, tt.url, tt.allowInternal, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestWants(t *testing.T) {
	team := store.Webhook{ProjectID: 1, Project: "team"}
	tests := []struct {
		name    string
		h       store.Webhook
		project string
		kind    events.Kind
		want    bool
	}{
		{"default kinds: push", team, "team", events.KindPush, true},
		{"default kinds: pull-blocked", team, "team", events.KindPullBlocked, true},
		{"default kinds: no pulls", team, "team", events.KindPull, false},
		{"other project", team, "other", events.KindPush, false},
		{"server-wide", store.Webhook{}, "any", events.KindScanCompleted, true},
		{"chosen kinds", store.Webhook{Events: []string{"pull"}}, "x", events.KindPull, true},
		{"chosen kinds exclude", store.Webhook{Events: []string{"pull"}}, "x", events.KindPush, false},
		{"disabled", store.Webhook{Disabled: true}, "x", events.KindPush, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Wants(tt.h, tt.project, tt.kind); got != tt.want {
				t.Errorf("Wants = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	sig := webhook.Sign("k", now.Unix(), body)
	tests := []struct {
		name        string
		secret, sig string
		ts          string
		body        []byte
		wantErr     error
	}{
		{"good", "k", sig, itoa(now.Unix()), body, nil},
		{"wrong secret", "j", sig, itoa(now.Unix()), body, webhook.ErrBadSignature},
		{"changed body", "k", sig, itoa(now.Unix()), []byte(`{"id":"y"}`), webhook.ErrBadSignature},
		{"other timestamp", "k", sig, itoa(now.Unix() + 1), body, webhook.ErrBadSignature},
		{"bad timestamp", "k", sig, "soon", body, webhook.ErrBadSignature},
		{"stale", "k", webhook.Sign("k", now.Add(-time.Hour).Unix(), body), itoa(now.Add(-time.Hour).Unix()), body, webhook.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.sig, tt.ts, tt.body, now, webhook.DefaultTolerance)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func FuzzVerify(f *testing.F) {
	f.Add("sha256=00", "1800000000", []byte("{}"))
	f.Add("", "", []byte(nil))
	f.Add("sha256="+strings.Repeat("f", 64), "-1", []byte("x"))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		err := webhook.Verify("k", sig, ts, body, time.Unix(1_800_000_000, 0), time.Minute)
		if err == nil && sig != webhook.Sign("k", mustInt(ts), body) {
			t.Fatalf("accepted a signature that is not ours: %q", sig)
		}
	})
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}
