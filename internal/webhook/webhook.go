// Package webhook sends Seawall's events to HTTP endpoints configured per
// project (or for the whole server): signed POSTs (HMAC-SHA256 over a
// timestamp and the body), retried with exponential backoff and jitter
// from a delivery queue kept in the metadata store, so a restart loses
// nothing. Targets on loopback, link-local and metadata addresses are
// refused unless the server allows them.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/store"
)

// Store is the part of the metadata store webhooks use.
type Store interface {
	store.WebhookStore
}

// Config tunes a Dispatcher. Zero values take the defaults noted.
type Config struct {
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time
	// AllowInternal lets webhooks call loopback, link-local and metadata
	// addresses (tests, a receiver on the same host).
	AllowInternal bool
	// MaxAttempts is how many times a delivery is tried before it is
	// marked failed (default 10).
	MaxAttempts int
	// Backoff is the wait after the first failure (default 10s); each
	// further failure doubles it, up to MaxBackoff (default 1h), and the
	// wait is drawn at random from its upper half (jitter).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Workers is how many deliveries are sent at once (default 4).
	Workers int
	// Poll is how often the queue is checked for retries that came due
	// when nothing woke the dispatcher (default 1s).
	Poll time.Duration
	// Transport overrides the HTTP transport (tests); nil builds one that
	// dials with the SSRF check.
	Transport http.RoundTripper
	// Retention is how long delivered and failed deliveries stay in the
	// delivery log (default 30 days).
	Retention time.Duration
}

// Dispatcher queues events for the webhooks that want them and delivers
// them. It is an events.Recorder; Run delivers.
type Dispatcher struct {
	cfg    Config
	st     Store
	log    *slog.Logger
	client *http.Client
	wake   chan struct{}

	mu     sync.Mutex
	hooks  []store.Webhook
	loaded time.Time
}

// hooksTTL bounds how stale the cached webhook list may be on a replica
// that did not make the change itself.
const hooksTTL = 10 * time.Second

// New returns a Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhook: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 10 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	tr := cfg.Transport
	if tr == nil {
		d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
		if !cfg.AllowInternal {
			d.Control = dialControl
		}
		tr = &http.Transport{
			// No proxy from the environment: the check must see the
			// receiver's address, not a proxy's.
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
		}
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect is a failed delivery: following it would send the
		// signed event somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Dispatcher{cfg: cfg, st: cfg.Store, log: cfg.Logger, client: client, wake: make(chan struct{}, 1)}, nil
}

// AllowInternal reports whether internal targets are allowed.
func (d *Dispatcher) AllowInternal() bool { return d.cfg.AllowInternal }

// Invalidate drops the cached webhook list; call it after adding or
// removing a webhook.
func (d *Dispatcher) Invalidate() {
	d.mu.Lock()
	d.loaded = time.Time{}
	d.mu.Unlock()
}

func (d *Dispatcher) webhooks(ctx context.Context) ([]store.Webhook, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded.IsZero() && time.Since(d.loaded) < hooksTTL {
		return d.hooks, nil
	}
	hs, err := d.st.ListWebhooks(ctx, -1)
	if err != nil {
		return nil, err
	}
	d.hooks, d.loaded = hs, time.Now()
	return hs, nil
}

// Wants reports whether h receives events of kind k about project.
func Wants(h store.Webhook, project string, k events.Kind) bool {
	if h.Disabled || (h.ProjectID != 0 && h.Project != project) {
		return false
	}
	if len(h.Events) == 0 {
		return slices.Contains(events.WebhookKinds, k)
	}
	return slices.Contains(h.Events, string(k))
}

// Payload is the JSON body of every delivery.
type Payload struct {
	// ID is unique per event and webhook: receivers use it to drop
	// duplicates (a delivery whose answer was lost is sent again).
	ID    string       `json:"id"`
	Event events.Event `json:"event"`
}

// Record queues e for every webhook that wants it. It writes to the
// store only when some webhook does.
func (d *Dispatcher) Record(ctx context.Context, e events.Event) error {
	hs, err := d.webhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	var ds []store.WebhookDelivery
	for _, h := range hs {
		if !Wants(h, e.Project, e.Kind) {
			continue
		}
		id := make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return err
		}
		body, err := json.Marshal(Payload{ID: hex.EncodeToString(id), Event: e})
		if err != nil {
			return fmt.Errorf("webhook payload: %w", err)
		}
		ds = append(ds, store.WebhookDelivery{WebhookID: h.ID, Event: string(e.Kind), Payload: body, NextAttempt: d.cfg.Now()})
	}
	if len(ds) == 0 {
		return nil
	}
	if err := d.st.EnqueueDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers queued events until ctx is done: those left from before a
// restart first, then each as it is queued or its retry comes due.
func (d *Dispatcher) Run(ctx context.Context) error {
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	// A claimed delivery is not handed out again for lease: an attempt,
	// plus room for the store to record its outcome.
	lease := 2*d.cfg.Timeout + 30*time.Second
	var pruned time.Time
	for {
		if now := d.cfg.Now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if n, err := d.st.PruneDeliveries(ctx, now.Add(-d.cfg.Retention)); err != nil && ctx.Err() == nil {
				d.log.WarnContext(ctx, "webhook delivery log: prune", "err", err)
			} else if n > 0 {
				d.log.InfoContext(ctx, "webhook delivery log pruned", "deliveries", n)
			}
		}
		for {
			free := d.cfg.Workers - len(sem)
			if free <= 0 {
				break
			}
			ds, err := d.st.ClaimDeliveries(ctx, d.cfg.Now(), lease, free)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.log.ErrorContext(ctx, "webhook queue", "err", err)
				break
			}
			for _, dl := range ds {
				sem <- struct{}{}
				wg.Add(1)
				go func(dl store.WebhookDelivery) {
					defer func() { <-sem; wg.Done() }()
					d.attempt(ctx, dl)
				}(dl)
			}
			if len(ds) < free {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

// attempt sends one delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, dl store.WebhookDelivery) {
	h, err := d.st.Webhook(ctx, dl.WebhookID)
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "webhook delivery: webhook gone", "delivery", dl.ID, "err", err)
		}
		return // deleting the webhook deleted the delivery
	}
	status, sendErr := d.send(ctx, h, dl)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the next start retries
	}
	dl.Attempts++
	dl.LastStatus = status
	dl.UpdatedAt = d.cfg.Now()
	switch {
	case sendErr == nil:
		dl.State, dl.LastError = store.DeliveryDelivered, ""
		d.log.InfoContext(ctx, "webhook delivered", "webhook", h.ID, "delivery", dl.ID, "event", dl.Event, "status", status, "attempts", dl.Attempts)
	case dl.Attempts >= d.cfg.MaxAttempts:
		dl.State, dl.LastError = store.DeliveryFailed, sendErr.Error()
		d.log.WarnContext(ctx, "webhook delivery failed for good", "webhook", h.ID, "url", h.URL, "delivery", dl.ID, "attempts", dl.Attempts, "err", sendErr)
	default:
		dl.State, dl.LastError = store.DeliveryPending, sendErr.Error()
		dl.NextAttempt = dl.UpdatedAt.Add(d.backoff(dl.Attempts))
		d.log.InfoContext(ctx, "webhook delivery will be retried", "webhook", h.ID, "delivery", dl.ID, "attempts", dl.Attempts, "next", dl.NextAttempt, "err", sendErr)
	}
	if err := d.st.UpdateDelivery(context.WithoutCancel(ctx), &dl); err != nil {
		d.log.ErrorContext(ctx, "webhook delivery: record outcome", "delivery", dl.ID, "err", err)
	}
	if dl.State == store.DeliveryPending {
		// Wake the loop when the retry is due sooner than the next poll.
		if wait := time.Until(dl.NextAttempt); wait < d.cfg.Poll {
			time.AfterFunc(max(wait, 0), func() {
				select {
				case d.wake <- struct{}{}:
				default:
				}
			})
		}
	}
}

// backoff is the wait after the n-th failed attempt: Backoff·2^(n-1),
// capped at MaxBackoff, drawn from its upper half so that retries from
// many deliveries spread out.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := float64(d.cfg.Backoff) * math.Pow(2, float64(n-1))
	b = min(b, float64(d.cfg.MaxBackoff))
	return time.Duration(b/2 + mrand.Float64()*b/2)
}

// send POSTs the delivery; a 2xx answer is success.
func (d *Dispatcher) send(ctx context.Context, h *store.Webhook, dl store.WebhookDelivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	ts := d.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Seawall-Webhook/1")
	req.Header.Set(HeaderEvent, dl.Event)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(dl.ID, 10))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(h.Secret, ts, dl.Payload))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, nil
	}
	msg := fmt.Sprintf("receiver answered %s", resp.Status)
	if len(bytes.TrimSpace(snippet)) > 0 {
		msg += ": " + string(bytes.ToValidUTF8(bytes.TrimSpace(snippet), []byte("?")))
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		msg += " (redirects are not followed; configure the final URL: " + loc + ")"
	}
	return resp.StatusCode, errors.New(msg)
}

var _ events.Recorder = (*Dispatcher)(nil)
