package events

import (
	"context"
	"log/slog"
	"time"
)

// Recorder is one destination of the Bus: the audit log, the webhook
// queue. Record must be durable when it returns nil, and quick: it runs
// in the request that caused the event.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// Bus is the server's Sink: it stamps each event and hands it to every
// recorder in order (the audit log first, then the webhook queue).
type Bus struct {
	recorders []Recorder
	log       *slog.Logger
	now       func() time.Time
	timeout   time.Duration
}

// NewBus returns a Bus over recorders. now is the clock (time.Now when
// nil).
func NewBus(log *slog.Logger, now func() time.Time, recorders ...Recorder) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Bus{recorders: recorders, log: log, now: now, timeout: 10 * time.Second}
}

// Emit records e with every recorder. A recorder's failure is logged and
// does not stop the others. The caller's cancellation does not cut a
// record short: a client that hangs up after a push still leaves the push
// in the audit log.
func (b *Bus) Emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
	defer cancel()
	for _, r := range b.recorders {
		if err := r.Record(ctx, e); err != nil {
			b.log.ErrorContext(ctx, "event not recorded", "kind", e.Kind, "actor", e.Actor, "repo", e.Repo, "digest", e.Digest, "err", err)
		}
	}
}

var _ Sink = (*Bus)(nil)
