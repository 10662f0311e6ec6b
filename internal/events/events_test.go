package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/events"
)

type recorder struct {
	name string
	log  *[]string
	err  error
	got  []events.Event
	ctx  []error
}

func (r *recorder) Record(ctx context.Context, e events.Event) error {
	*r.log = append(*r.log, r.name)
	r.got = append(r.got, e)
	r.ctx = append(r.ctx, ctx.Err())
	return r.err
}

func TestBus(t *testing.T) {
	var order []string
	audit := &recorder{name: "audit", log: &order, err: errors.New("disk full")}
	hooks := &recorder{name: "webhooks", log: &order}
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	bus := events.NewBus(nil, func() time.Time { return now }, audit, hooks)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client hung up: the event is still recorded
	bus.Emit(ctx, events.Event{Kind: events.KindPush, Repo: "team/app"})
	at := now.Add(-time.Hour)
	bus.Emit(context.Background(), events.Event{Kind: events.KindPull, Time: at})

	if d := cmp.Diff([]string{"audit", "webhooks", "audit", "webhooks"}, order); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	want := []events.Event{{Kind: events.KindPush, Repo: "team/app", Time: now}, {Kind: events.KindPull, Time: at}}
	if d := cmp.Diff(want, hooks.got); d != "" {
		t.Errorf("events after a failing recorder (-want +got):\n%s", d)
	}
	for i, err := range hooks.ctx {
		if err != nil {
			t.Errorf("event %d: recorder saw a cancelled context: %v", i, err)
		}
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range events.Kinds {
		if got, err := events.ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := events.ParseKind("pushed"); err == nil {
		t.Error("ParseKind accepted pushed")
	}
	seen := map[events.Kind]bool{}
	for _, k := range events.Kinds {
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
	}
	for _, k := range events.WebhookKinds {
		if !seen[k] {
			t.Errorf("webhook kind %q is not in Kinds", k)
		}
	}
}
