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

func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	team, other := project(t, s, "team"), project(t, s, "other")
	hooks := []*store.Webhook{
		{ProjectID: team.ID, URL: "https://hooks.example/a", Secret: "s1", Events: []string{"push", "verdict-change"}, CreatedBy: "alice", CreatedAt: ts(1)},
		{ProjectID: 0, URL: "https://hooks.example/all", Secret: "s2", CreatedBy: "admin", CreatedAt: ts(2)},
		{ProjectID: other.ID, URL: "http://10.0.0.1/x", Secret: "s3", Disabled: true, Events: []string{"pull-blocked"}, CreatedAt: ts(3)},
	}
	for _, h := range hooks {
		must(t, "create webhook", s.CreateWebhook(ctx, h))
		if h.ID == 0 {
			t.Fatal("CreateWebhook did not set ID")
		}
	}
	want := func(h *store.Webhook, project string) store.Webhook {
		w := *h
		w.Project, w.CreatedAt = project, kept(h.CreatedAt)
		if w.Events == nil {
			w.Events = []string{}
		}
		return w
	}
	a, all, o := want(hooks[0], "team"), want(hooks[1], ""), want(hooks[2], "other")
	for _, tt := range []struct {
		name    string
		project int64
		want    []store.Webhook
	}{
		{"team", team.ID, []store.Webhook{a}},
		{"server-wide", 0, []store.Webhook{all}},
		{"every", -1, []store.Webhook{a, all, o}},
		{"none", 99999, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListWebhooks(ctx, tt.project)
			must(t, "list", err)
			if d := diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	got, err := s.Webhook(ctx, hooks[0].ID)
	must(t, "webhook by id", err)
	if d := diff(a, *got); d != "" {
		t.Errorf("webhook (-want +got):\n%s", d)
	}
	_, err = s.Webhook(ctx, 99999)
	wantErr(t, "missing webhook", err, store.ErrNotFound)
	wantErr(t, "webhook in a missing project", s.CreateWebhook(ctx, &store.Webhook{ProjectID: 99999, URL: "https://x", Secret: "s"}), store.ErrNotFound)

	must(t, "delete webhook", s.DeleteWebhook(ctx, hooks[1].ID))
	wantErr(t, "delete again", s.DeleteWebhook(ctx, hooks[1].ID), store.ErrNotFound)

	// Deleting a project deletes its webhooks.
	must(t, "delete project", s.DeleteProject(ctx, other.ID))
	left, err := s.ListWebhooks(ctx, -1)
	must(t, "list", err)
	if d := diff([]store.Webhook{a}, left); d != "" {
		t.Errorf("after deleting a project (-want +got):\n%s", d)
	}
}

func testWebhookDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := &store.Webhook{ProjectID: project(t, s, "team").ID, URL: "https://hooks.example/a", Secret: "s"}
	must(t, "create webhook", s.CreateWebhook(ctx, h))
	now := time.Now().UTC().Truncate(time.Microsecond)
	ds := []store.WebhookDelivery{
		{WebhookID: h.ID, Event: "push", Payload: []byte(`{"n":1}`), NextAttempt: now.Add(-2 * time.Second)},
		{WebhookID: h.ID, Event: "push", Payload: []byte(`{"n":2}`), NextAttempt: now.Add(-time.Second)},
		{WebhookID: h.ID, Event: "verdict-change", Payload: []byte(`{"n":3}`), NextAttempt: now.Add(time.Hour)},
	}
	must(t, "enqueue", s.EnqueueDeliveries(ctx, ds))
	for _, d := range ds {
		if d.ID == 0 || d.State != store.DeliveryPending || d.CreatedAt.IsZero() {
			t.Fatalf("enqueued delivery %+v: want ID, pending state and CreatedAt set", d)
		}
	}
	wantErr(t, "enqueue for a missing webhook", s.EnqueueDeliveries(ctx, []store.WebhookDelivery{{WebhookID: 99999, Event: "push", Payload: []byte("{}")}}), store.ErrNotFound)

	lease := time.Minute
	claimed, err := s.ClaimDeliveries(ctx, now, lease, 10)
	must(t, "claim", err)
	if len(claimed) != 2 || claimed[0].ID != ds[0].ID || claimed[1].ID != ds[1].ID {
		t.Fatalf("claimed %+v; want the two due deliveries, oldest first", claimed)
	}
	if string(claimed[0].Payload) != `{"n":1}` || !claimed[0].NextAttempt.Equal(now.Add(lease)) {
		t.Errorf("claimed delivery %+v: want its payload and NextAttempt now+lease", claimed[0])
	}
	again, err := s.ClaimDeliveries(ctx, now.Add(time.Second), lease, 10)
	must(t, "claim again", err)
	if len(again) != 0 {
		t.Errorf("claimed %d deliveries still under lease", len(again))
	}

	// Record outcomes: one delivered, one to retry soon.
	d0 := claimed[0]
	d0.State, d0.Attempts, d0.LastStatus = store.DeliveryDelivered, 1, 204
	must(t, "update delivered", s.UpdateDelivery(ctx, &d0))
	d1 := claimed[1]
	d1.State, d1.Attempts, d1.LastStatus, d1.LastError, d1.NextAttempt = store.DeliveryPending, 1, 500, "receiver answered 500", now.Add(5*time.Second)
	must(t, "update retry", s.UpdateDelivery(ctx, &d1))
	wantErr(t, "update a missing delivery", s.UpdateDelivery(ctx, &store.WebhookDelivery{ID: 99999, State: store.DeliveryFailed}), store.ErrNotFound)

	later, err := s.ClaimDeliveries(ctx, now.Add(6*time.Second), lease, 10)
	must(t, "claim later", err)
	if len(later) != 1 || later[0].ID != d1.ID || later[0].Attempts != 1 || later[0].LastError != "receiver answered 500" {
		t.Fatalf("claimed %+v; want only the retried delivery with its last error", later)
	}

	list, err := s.ListDeliveries(ctx, h.ID, 10)
	must(t, "list deliveries", err)
	if len(list) != 3 || list[0].ID != ds[2].ID || list[2].ID != ds[0].ID {
		t.Fatalf("list %+v; want 3, newest first", list)
	}
	if list[2].State != store.DeliveryDelivered || !list[2].NextAttempt.IsZero() || list[2].LastStatus != 204 {
		t.Errorf("delivered entry %+v: want state delivered, no next attempt, status 204", list[2])
	}
	short, err := s.ListDeliveries(ctx, h.ID, 1)
	must(t, "list 1", err)
	if len(short) != 1 {
		t.Errorf("list with n=1 returned %d", len(short))
	}

	// Pruning removes finished deliveries older than the cut, never a
	// pending one.
	n, err := s.PruneDeliveries(ctx, time.Now().Add(time.Hour))
	must(t, "prune", err)
	if n != 1 {
		t.Errorf("pruned %d, want the one delivered", n)
	}
	if left, _ := s.ListDeliveries(ctx, h.ID, 10); len(left) != 2 {
		t.Errorf("%d deliveries left after pruning, want the 2 pending", len(left))
	}
	if n, err := s.PruneDeliveries(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("prune before everything: %d, %v", n, err)
	}

	// Deleting the webhook deletes its queue.
	must(t, "delete webhook", s.DeleteWebhook(ctx, h.ID))
	gone, err := s.ClaimDeliveries(ctx, now.Add(24*time.Hour), lease, 10)
	must(t, "claim after delete", err)
	if len(gone) != 0 {
		t.Errorf("claimed %d deliveries of a deleted webhook", len(gone))
	}
}

// testWebhookClaimRace has workers claim one queue at once: every
// delivery is handed out exactly once.
func testWebhookClaimRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := &store.Webhook{URL: "https://hooks.example/a", Secret: "s"}
	must(t, "create webhook", s.CreateWebhook(ctx, h))
	const n = 60
	ds := make([]store.WebhookDelivery, n)
	for i := range ds {
		ds[i] = store.WebhookDelivery{WebhookID: h.ID, Event: "push", Payload: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	must(t, "enqueue", s.EnqueueDeliveries(ctx, ds))
	now := time.Now().Add(time.Second)
	var mu sync.Mutex
	seen := map[int64]int{}
	errs := parallel(8, func(int) error {
		for {
			got, err := s.ClaimDeliveries(ctx, now, time.Hour, 3)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, d := range got {
				seen[d.ID]++
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			must(t, "claim", err)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct deliveries claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times", id, c)
		}
	}
}
