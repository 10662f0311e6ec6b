package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/audit"
	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/signature"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
	"github.com/seawall-dev/seawall/internal/webhook"
)

// WebhooksConfig tunes webhook delivery.
type WebhooksConfig struct {
	// AllowInternal lets webhooks call loopback, link-local and cloud
	// metadata addresses, which are refused by default (SSRF).
	AllowInternal bool `yaml:"allow_internal" env:"SEAWALL_WEBHOOKS_ALLOW_INTERNAL"`
	// MaxAttempts is how many times a delivery is tried before it is
	// marked failed.
	MaxAttempts int `yaml:"max_attempts" env:"SEAWALL_WEBHOOKS_MAX_ATTEMPTS"`
	// Backoff is the wait after the first failed attempt; it doubles
	// with each further failure (with jitter), up to MaxBackoff.
	Backoff    time.Duration `yaml:"backoff" env:"SEAWALL_WEBHOOKS_BACKOFF"`
	MaxBackoff time.Duration `yaml:"max_backoff" env:"SEAWALL_WEBHOOKS_MAX_BACKOFF"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `yaml:"timeout" env:"SEAWALL_WEBHOOKS_TIMEOUT"`
	// Retention is how long finished deliveries stay in the delivery log.
	Retention time.Duration `yaml:"retention" env:"SEAWALL_WEBHOOKS_RETENTION"`
}

func defaultWebhooks() WebhooksConfig {
	return WebhooksConfig{MaxAttempts: 10, Backoff: 10 * time.Second, MaxBackoff: time.Hour, Timeout: 10 * time.Second, Retention: 30 * 24 * time.Hour}
}

func (c *WebhooksConfig) validate() []error {
	var errs []error
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("webhooks.max_attempts: %d is out of range: use 1 to 100", c.MaxAttempts))
	}
	if c.Backoff <= 0 || c.MaxBackoff < c.Backoff {
		errs = append(errs, fmt.Errorf("webhooks.backoff and max_backoff: %s and %s: both positive, backoff no larger than max_backoff", c.Backoff, c.MaxBackoff))
	}
	if c.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("webhooks.retention: %s is too short: use at least 1h (720h is the default)", c.Retention))
	}
	if c.Timeout < time.Second || c.Timeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("webhooks.timeout: %s is out of range: use 1s to 5m", c.Timeout))
	}
	return errs
}

// trust is the server's audit log, webhooks and signature checking.
type trust struct {
	audit    *audit.Log
	webhooks *webhook.Dispatcher
	sigs     *signature.Checker
}

// initTrust creates the audit log, the webhook dispatcher and the event
// bus that feeds them, and the signature checker the pull policy uses.
// Call it before initScanner, which hands the checker to the verdicts.
func (s *Server) initTrust() error {
	cfg := s.cfg.Webhooks
	d, err := webhook.New(webhook.Config{
		Store:         s.store,
		Logger:        s.log.With("component", "webhook"),
		Now:           s.now,
		AllowInternal: cfg.AllowInternal,
		MaxAttempts:   cfg.MaxAttempts,
		Backoff:       cfg.Backoff,
		MaxBackoff:    cfg.MaxBackoff,
		Timeout:       cfg.Timeout,
		Retention:     cfg.Retention,
	})
	if err != nil {
		return err
	}
	s.trust = &trust{
		audit:    audit.New(s.store, s.log.With("component", "audit")),
		webhooks: d,
		sigs:     signature.New(s.store, s.blobs, s.log.With("component", "signature")),
	}
	s.events = events.NewBus(s.log.With("component", "events"), s.now, s.trust.audit, s.trust.webhooks)
	s.signatures = signatureChecker{s.trust.sigs}
	return nil
}

// Signatures is the server's signature checker (the console shows its
// answers).
func (s *Server) Signatures() *signature.Checker { return s.trust.sigs }

// signatureChecker adapts signature.Checker to the verdict's interface.
type signatureChecker struct{ c *signature.Checker }

func (a signatureChecker) Check(ctx context.Context, repo, digest string, keys [][]byte) (verdict.SignatureStatus, error) {
	st, err := a.c.Check(ctx, repo, digest, keys)
	if err != nil {
		return verdict.SignatureStatus{}, err
	}
	return verdict.SignatureStatus{Signed: st.Signed, Trusted: st.Trusted, Signer: st.Signer, Identity: st.Identity,
		SignedAt: st.SignedAt, Form: string(st.Form), Count: st.Count}, nil
}

// onLoginFailed records a failed authentication, whichever way it came:
// the API, the console, the token service or Basic credentials on /v2/.
func (s *Server) onLoginFailed(ctx context.Context, name, ip string) {
	s.Emit(ctx, events.Event{Kind: events.KindLoginFailed, Actor: name, Detail: map[string]string{"ip": ip}})
}

// --- audit log API (system admins)

// auditFilter reads ?since= (a duration back from now, or an RFC 3339
// time), ?project=, ?after= (a sequence number) and ?limit=.
func (s *Server) auditFilter(r *http.Request) (store.AuditFilter, error) {
	var f store.AuditFilter
	q := r.URL.Query()
	if v := q.Get("since"); v != "" {
		t, err := ParseSince(v, s.now())
		if err != nil {
			return f, badRequest("%v", err)
		}
		f.Since = t
	}
	f.Project = q.Get("project")
	for _, p := range []struct {
		name string
		dst  func(int64)
	}{{"after", func(n int64) { f.AfterSeq = n }}, {"limit", func(n int64) { f.Limit = int(n) }}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 0 {
				return f, badRequest("%s=%q: want a non-negative whole number", p.name, v)
			}
			p.dst(n)
		}
	}
	return f, nil
}

// ParseSince reads a --since value: a duration back from now ("24h",
// "90m", "7d"), a date ("2026-11-01") or an RFC 3339 time.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.Add(-time.Duration(days) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: want a duration back from now (24h, 7d), a date (2026-11-01) or an RFC 3339 time", v)
}

// listAudit streams the audit log as JSON lines.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.systemAdmin(r); err != nil {
		return err
	}
	f, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	n, err := audit.Export(r.Context(), s.store, f, w)
	if err != nil {
		if n == 0 {
			w.Header().Del("Content-Type")
			return err // nothing sent yet: an ordinary error answer
		}
		// Lines went out already: the client sees a cut stream, and the
		// log says why.
		s.log.ErrorContext(r.Context(), "audit export cut short", "lines", n, "err", err)
	}
	return nil
}

// verifyAudit recomputes the chain.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.systemAdmin(r); err != nil {
		return err
	}
	rep, err := audit.Verify(r.Context(), s.store)
	if err != nil {
		return err
	}
	if !rep.OK {
		s.log.ErrorContext(r.Context(), "audit log verification failed", "seq", rep.FirstBad.Seq, "reason", rep.FirstBad.Reason)
	}
	return writeJSON(w, http.StatusOK, rep)
}

// --- webhooks API: per project (project admins) and server-wide (system admins)

type webhookJSON struct {
	ID        int64     `json:"id"`
	Project   string    `json:"project,omitempty"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
	// Secret is set only in the answer to the webhook's creation.
	Secret string `json:"secret,omitempty"`
}

func toWebhookJSON(h *store.Webhook) webhookJSON {
	evs := h.Events
	if len(evs) == 0 {
		for _, k := range events.WebhookKinds {
			evs = append(evs, string(k))
		}
	}
	return webhookJSON{ID: h.ID, Project: h.Project, URL: h.URL, Events: evs, Disabled: h.Disabled, CreatedAt: h.CreatedAt, CreatedBy: h.CreatedBy}
}

type createWebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
	// Secret, when set, is used instead of a generated one (at least 16
	// characters).
	Secret string `json:"secret,omitempty"`
}

// webhookScope returns the project the request's webhooks belong to (nil:
// server-wide) after checking the caller may manage them.
func (s *Server) webhookScope(r *http.Request) (*auth.Principal, *store.Project, error) {
	if r.PathValue("project") == "" {
		p, err := s.systemAdmin(r)
		return p, nil, err
	}
	p, err := s.principal(r)
	if err != nil {
		return nil, nil, err
	}
	proj, err := s.project(r, p, auth.ActionProjectSettings)
	return p, proj, err
}

func scopeID(proj *store.Project) int64 {
	if proj == nil {
		return 0
	}
	return proj.ID
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := s.webhookScope(r)
	if err != nil {
		return err
	}
	hs, err := s.store.ListWebhooks(r.Context(), scopeID(proj))
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(hs))
	for i := range hs {
		out = append(out, toWebhookJSON(&hs[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.webhookScope(r)
	if err != nil {
		return err
	}
	var req createWebhookRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.URL) > 2048 {
		return badRequest("url is longer than 2048 characters")
	}
	if _, err := webhook.ParseURL(r.Context(), req.URL, s.cfg.Webhooks.AllowInternal, nil); err != nil {
		return badRequest("%v", err)
	}
	var kinds []string
	for _, k := range req.Events {
		kind, err := events.ParseKind(strings.TrimSpace(k))
		if err != nil {
			return badRequest("%v", err)
		}
		kinds = append(kinds, string(kind))
	}
	secret := req.Secret
	switch {
	case secret == "":
		if secret, err = webhook.NewSecret(); err != nil {
			return err
		}
	case len(secret) < 16 || len(secret) > 256:
		return badRequest("secret must be 16 to 256 characters (or leave it out and one is generated)")
	}
	h := &store.Webhook{ProjectID: scopeID(proj), URL: req.URL, Secret: secret, Events: kinds, CreatedBy: p.Name}
	if err := s.store.CreateWebhook(r.Context(), h); err != nil {
		return err
	}
	if proj != nil {
		h.Project = proj.Name
	}
	s.trust.webhooks.Invalidate()
	s.log.Info("webhook added", "project", h.Project, "id", h.ID, "url", h.URL, "by", p.Name)
	out := toWebhookJSON(h)
	out.Secret = secret
	return writeJSON(w, http.StatusCreated, out)
}

// webhookByPath loads the webhook {id} in the request's scope.
func (s *Server) webhookByPath(r *http.Request) (*auth.Principal, *store.Webhook, error) {
	p, proj, err := s.webhookScope(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, nil, badRequest("webhook id %q is not a number (see `seawall webhook list`)", r.PathValue("id"))
	}
	h, err := s.store.Webhook(r.Context(), id)
	if err == nil && h.ProjectID != scopeID(proj) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, nil, notFoundOr(err, "no webhook %d here", id)
	}
	return p, h, nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	p, h, err := s.webhookByPath(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(r.Context(), h.ID); err != nil {
		return notFoundOr(err, "no webhook %d here", h.ID)
	}
	s.trust.webhooks.Invalidate()
	s.log.Info("webhook removed", "project", h.Project, "id", h.ID, "by", p.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type deliveryJSON struct {
	ID          int64      `json:"id"`
	Event       string     `json:"event"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"nextAttempt,omitempty"`
	LastStatus  int        `json:"lastStatus,omitempty"`
	LastError   string     `json:"lastError,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	_, h, err := s.webhookByPath(r)
	if err != nil {
		return err
	}
	n := 50
	if v := r.URL.Query().Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return badRequest("n=%q: want 1 to 1000", v)
		}
	}
	ds, err := s.store.ListDeliveries(r.Context(), h.ID, n)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		dj := deliveryJSON{ID: d.ID, Event: d.Event, State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
		if !d.NextAttempt.IsZero() {
			dj.NextAttempt = &d.NextAttempt
		}
		out = append(out, dj)
	}
	return writeJSON(w, http.StatusOK, out)
}

// --- signatures

// signatureStatus answers GET /api/v1/signatures?repository=R&reference=TAG|DIGEST:
// the cosign signatures stored for the artifact, checked against the
// project's trusted keys.
func (s *Server) signatureStatus(w http.ResponseWriter, r *http.Request) error {
	repo := r.URL.Query().Get("repository")
	ref := r.URL.Query().Get("reference")
	if repo == "" || ref == "" {
		return badRequest("repository and reference (a tag or a digest) are required, e.g. ?repository=team/app&reference=v1")
	}
	if !registry.ValidName(repo) {
		return badRequest("repository %q is not a valid name", repo)
	}
	p, err := s.auth.Authenticate(r)
	if err != nil {
		return err
	}
	info(r).user = p.Name
	project := projectOf(repo)
	if ok, err := s.auth.Can(r.Context(), p, project, auth.ActionPull); err != nil {
		return err
	} else if !ok {
		if p.Kind == auth.Anonymous {
			return errf(http.StatusUnauthorized, codeUnauthorized, "log in first: `seawall login SERVER`")
		}
		return errf(http.StatusForbidden, codeDenied, "repository %q does not exist or you have no access to it", repo)
	}
	digest := ref
	if !strings.Contains(ref, ":") {
		if digest, err = s.store.ResolveTag(r.Context(), repo, ref); err != nil {
			return notFoundOr(err, "%s:%s does not exist", repo, ref)
		}
	}
	pol, _, err := s.policyOf(r.Context(), project)
	if err != nil {
		return notFoundOr(err, "project %q does not exist", project)
	}
	keys := make([][]byte, 0, len(pol.TrustedKeys))
	for _, k := range pol.TrustedKeys {
		keys = append(keys, []byte(k))
	}
	st, err := s.trust.sigs.Check(r.Context(), repo, digest, keys)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			return err
		}
		return badRequest("%v", err)
	}
	return writeJSON(w, http.StatusOK, struct {
		Repository string `json:"repository"`
		Digest     string `json:"digest"`
		Required   bool   `json:"required"`
		signature.Status
	}{repo, digest, len(keys) > 0, st})
}
