package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/console"
	"github.com/seawall-dev/seawall/internal/events"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/scanq"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// ScanConfig configures the scanner: scan-on-push, rescans and the
// vulnerability database the server matches with.
type ScanConfig struct {
	// DB is the server's vulnerability database directory (or file).
	// Empty: DATA/vulndb. Fill it with `seawall db import --db DIR` or
	// `seawall db update --db DIR` on the server, or POST to
	// /api/v1/vulndb/import; the server notices a new file and rematches.
	DB string `yaml:"db" env:"SEAWALL_SCAN_DB"`
	// Workers is how many images are scanned at once.
	Workers int `yaml:"workers" env:"SEAWALL_SCAN_WORKERS"`
	// Lease is how long a worker holds a scan job between heartbeats: a
	// crashed server's jobs are taken up again after it.
	Lease time.Duration `yaml:"lease" env:"SEAWALL_SCAN_LEASE"`
	// ReloadPeriod is how often the server checks whether the database
	// file was replaced.
	ReloadPeriod time.Duration `yaml:"reload_period" env:"SEAWALL_SCAN_RELOAD_PERIOD"`
}

func defaultScan() ScanConfig {
	return ScanConfig{Workers: 1, Lease: scanq.DefaultLease, ReloadPeriod: scanq.DefaultReloadPeriod}
}

func (c *ScanConfig) validate() []error {
	var errs []error
	if c.Workers < 1 || c.Workers > 64 {
		errs = append(errs, fmt.Errorf("scan.workers: %d is out of range: use 1 to 64", c.Workers))
	}
	if c.Lease < 2*time.Second || c.Lease > time.Hour {
		errs = append(errs, fmt.Errorf("scan.lease: %s is out of range: use 2s to 1h (30s is usual)", c.Lease))
	}
	if c.ReloadPeriod < time.Second {
		errs = append(errs, fmt.Errorf("scan.reload_period: %s is too short: use at least 1s", c.ReloadPeriod))
	}
	return errs
}

// scanner is the server's part of scanning and pull policy.
type scanner struct {
	db    *scanq.VulnDB
	queue *scanq.Queue
	eval  *verdict.Evaluator

	mu    sync.Mutex
	cache map[string]cachedFindings // "repo@digest" → decoded findings
	seed  maphash.Seed
}

// cachedFindings saves decoding a result's findings on every pull.
type cachedFindings struct {
	sum      uint64 // of the stored JSON: a rematch changes it
	findings []inventory.Finding
}

const maxCachedFindings = 512

// initScanner opens the vulnerability database and creates the scan queue.
func (s *Server) initScanner() error {
	dbPath := s.cfg.Scan.DB
	if dbPath == "" {
		dbPath = filepath.Join(s.cfg.DataDir, "vulndb")
	}
	db, err := scanq.OpenVulnDB(dbPath)
	if err != nil {
		return fmt.Errorf("scan.db: %w", err)
	}
	sc := &scanner{db: db, cache: map[string]cachedFindings{}, seed: maphash.MakeSeed()}
	sc.eval = &verdict.Evaluator{Signatures: s.signatures, Now: s.now, Logger: s.log.With("component", "verdict")}
	sc.queue, err = scanq.New(scanq.Config{
		Store:        s.store,
		Blobs:        s.blobs,
		DB:           db,
		Events:       s,
		Verdict:      sc.eval,
		Workers:      s.cfg.Scan.Workers,
		Lease:        s.cfg.Scan.Lease,
		ReloadPeriod: s.cfg.Scan.ReloadPeriod,
		Logger:       s.log,
		Now:          s.now,
	})
	if err != nil {
		db.Close()
		return err
	}
	s.scan = sc
	return nil
}

// Emit passes an event to the server's event sink (the audit log and
// webhooks), so that the scanner and the hooks need not know it.
func (s *Server) Emit(ctx context.Context, e events.Event) {
	if s.events != nil {
		s.events.Emit(ctx, e)
	}
}

// Scanner is the server's scan queue, for tests and benchmarks.
func (s *Server) Scanner() *scanq.Queue { return s.scan.queue }

// registryHooks are the scanner's and the pull policy's hooks.
func (s *Server) registryHooks() registry.Hooks {
	return registry.Hooks{
		AllowPull: s.allowPull,
		AllowTag:  s.allowTag,
		OnPush:    s.onPush,
		OnPull: func(r *http.Request, m registry.ManifestEvent) {
			s.Emit(r.Context(), manifestEventOf(events.KindPull, r, m))
		},
		OnDelete: func(r *http.Request, m registry.ManifestEvent) {
			s.Emit(r.Context(), manifestEventOf(events.KindDelete, r, m))
		},
	}
}

func manifestEventOf(kind events.Kind, r *http.Request, m registry.ManifestEvent) events.Event {
	e := events.Event{Kind: kind, Actor: info(r).user, Project: projectOf(m.Repository), Repo: m.Repository, Digest: m.Digest}
	if len(m.Tags) > 0 {
		e.Tag = m.Tags[0]
	}
	if m.Kind != "" {
		e.Detail = map[string]string{"kind": string(m.Kind), "mediaType": m.MediaType}
		if len(m.Tags) > 1 {
			e.Detail["tags"] = strings.Join(m.Tags, ",")
		}
	}
	return e
}

func projectOf(repo string) string {
	p, _, _ := strings.Cut(repo, "/")
	return p
}

// policyOf reads a project's policy.
func (s *Server) policyOf(ctx context.Context, project string) (verdict.Policy, *store.Project, error) {
	proj, err := s.store.ProjectByName(ctx, project)
	if err != nil {
		return verdict.Policy{}, nil, err
	}
	p, err := verdict.PolicyOf(proj.Settings)
	return p, proj, err
}

// onPush queues the scan of a pushed image when the project scans on push.
func (s *Server) onPush(r *http.Request, m registry.ManifestEvent) {
	ctx := context.WithoutCancel(r.Context())
	s.Emit(ctx, manifestEventOf(events.KindPush, r, m))
	if m.Kind != registry.KindImage {
		return
	}
	p, _, err := s.policyOf(ctx, projectOf(m.Repository))
	if err != nil {
		s.log.ErrorContext(ctx, "scan on push: project policy", "repository", m.Repository, "err", err)
		return
	}
	if !p.ScanOnPush {
		return
	}
	if _, err := s.scan.queue.Enqueue(ctx, m.Repository, m.Digest, store.ScanPriorityPush, "push"); err != nil {
		s.log.ErrorContext(ctx, "scan on push: queue", "repository", m.Repository, "digest", m.Digest, "err", err)
	}
}

// allowTag refuses to move or delete a tag that matches an immutable
// pattern.
func (s *Server) allowTag(r *http.Request, repo, tag, prev, next string) error {
	if prev == "" || prev == next {
		return nil
	}
	p, _, err := s.policyOf(r.Context(), projectOf(repo))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	pat, ok := p.ImmutableTag(tag)
	if !ok {
		return nil
	}
	what := "moved to another image"
	if next == "" {
		what = "deleted"
	}
	return &registry.PolicyError{
		Policy:  "immutable-tags",
		Message: fmt.Sprintf("tag %s:%s matches the project's immutable tag pattern %q and cannot be %s; push under a new tag instead", repo, tag, pat, what),
		Detail:  map[string]string{"policy": "immutable-tags", "pattern": pat, "tag": tag, "digest": prev},
	}
}

// allowPull is the pull policy: it refuses a GET of an image (or of an
// index with such an image) whose verdict under the project's policy is
// "denied". It never sees HEAD requests. Artifacts (signatures,
// attestations, SBOMs) are never refused, nor is cosign when its caller
// may push to the repository: signing needs the manifest, and a policy
// must never stop an image from being signed.
func (s *Server) allowPull(r *http.Request, m registry.ManifestEvent) error {
	if m.Kind == registry.KindArtifact {
		return nil
	}
	ctx := r.Context()
	p, _, err := s.policyOf(ctx, projectOf(m.Repository))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if !p.Enforcing() {
		return nil
	}
	if s.signingClient(r, m.Repository) {
		return nil
	}
	targets := []string{m.Digest}
	if m.Kind == registry.KindIndex {
		targets = nil
		for _, c := range m.Children {
			cm, err := s.store.Manifest(ctx, m.Repository, c)
			if err != nil {
				continue // a child stored elsewhere; its own pull is checked
			}
			if k, _ := registry.DescribeManifest(cm.MediaType, cm.Content); k == registry.KindImage {
				targets = append(targets, c)
			}
		}
	}
	for _, d := range targets {
		v, err := s.currentVerdict(ctx, m.Repository, d, p)
		if err != nil {
			return err
		}
		if v.Allowed {
			continue
		}
		return s.refusePull(r, m, d, &v)
	}
	return nil
}

// signingClient reports whether r comes from cosign with a principal that
// may push to repo: cosign reads the manifest it signs. The principal's
// role (or a robot's permissions) decides, not the request's token, whose
// scope covers only the pull cosign is doing now.
func (s *Server) signingClient(r *http.Request, repo string) bool {
	if !strings.HasPrefix(strings.ToLower(r.UserAgent()), "cosign/") {
		return false
	}
	p, err := s.auth.Authenticate(r)
	if err != nil || p.Kind == auth.Anonymous {
		return false
	}
	ok, err := s.auth.Can(r.Context(), p, projectOf(repo), auth.ActionPush)
	return err == nil && ok
}

// refusePull builds the 412 and reports the blocked pull.
func (s *Server) refusePull(r *http.Request, m registry.ManifestEvent, digest string, v *verdict.Verdict) error {
	failed := v.Failed()
	rule := failed[0].Rule
	ref := m.Repository + "@" + digest
	host := s.publicHost(r)
	var b strings.Builder
	fmt.Fprintf(&b, "pull of %s refused by project %s's policy: ", ref, projectOf(m.Repository))
	for i, c := range failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Rule + ": " + c.Message)
	}
	if v.WorstSeverity != "" {
		fmt.Fprintf(&b, " (worst severity: %s)", v.WorstSeverity)
	}
	fmt.Fprintf(&b, ". See the findings with `seawall scan status %s/%s` or in the console at %s", host, ref, s.consoleURL(r, m.Repository, digest))
	detail := map[string]any{
		"policy":        rule,
		"worstSeverity": v.WorstSeverity,
		"repository":    m.Repository,
		"digest":        digest,
		"checks":        failed,
	}
	d := map[string]string{"policy": rule, "worst_severity": v.WorstSeverity, "reason": v.Summary()}
	ev := events.Event{Kind: events.KindPullBlocked, Actor: info(r).user, Project: projectOf(m.Repository), Repo: m.Repository, Digest: digest, Detail: d}
	if len(m.Tags) > 0 {
		ev.Tag = m.Tags[0]
	}
	s.Emit(r.Context(), ev)
	s.log.InfoContext(r.Context(), "pull refused by policy", "repository", m.Repository, "digest", digest, "policy", rule, "user", info(r).user)
	return &registry.PolicyError{Policy: rule, Message: b.String(), Detail: detail}
}

// publicHost is the registry host clients use.
func (s *Server) publicHost(r *http.Request) string {
	u := s.cfg.ExternalURL
	if u == "" {
		return r.Host
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.TrimSuffix(u, "/")
}

// consoleURL is the artifact's page in the console.
func (s *Server) consoleURL(r *http.Request, repo, digest string) string {
	base := s.cfg.ExternalURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimSuffix(base, "/") + console.ArtifactPath(repo, digest)
}

// Verdict is the verdict the pull policy would give repo@digest now:
// the project's current policy applied to the stored scan (the last one
// stands while a rescan is pending) at the server's time.
func (s *Server) Verdict(ctx context.Context, repo, digest string) (verdict.Verdict, error) {
	p, _, err := s.policyOf(ctx, projectOf(repo))
	if err != nil {
		return verdict.Verdict{}, err
	}
	return s.currentVerdict(ctx, repo, digest, p)
}

func (s *Server) currentVerdict(ctx context.Context, repo, digest string, p verdict.Policy) (verdict.Verdict, error) {
	res, err := s.store.ScanResult(ctx, repo, digest)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return verdict.Verdict{}, err
	}
	var scan *verdict.Scan
	if res != nil {
		fs, err := s.scan.findings(repo, digest, res)
		if err != nil {
			return verdict.Verdict{}, err
		}
		scan = scanq.ScanOf(res, fs)
	}
	return s.scan.eval.Evaluate(ctx, repo, digest, p, scan)
}

// findings decodes a result's findings, remembering the last few hundred.
func (sc *scanner) findings(repo, digest string, res *store.ScanResult) ([]inventory.Finding, error) {
	if res.Error != "" || len(res.Findings) == 0 {
		return nil, nil
	}
	key := repo + "@" + digest
	sc.mu.Lock()
	c, ok := sc.cache[key]
	sc.mu.Unlock()
	sum := maphash.Bytes(sc.seed, res.Findings)
	if ok && c.sum == sum {
		return c.findings, nil
	}
	var fs []inventory.Finding
	if err := json.Unmarshal(res.Findings, &fs); err != nil {
		return nil, fmt.Errorf("stored findings of %s: %w", key, err)
	}
	sc.mu.Lock()
	if len(sc.cache) >= maxCachedFindings {
		for k := range sc.cache { // drop an arbitrary one
			delete(sc.cache, k)
			break
		}
	}
	sc.cache[key] = cachedFindings{sum: sum, findings: fs}
	sc.mu.Unlock()
	return fs, nil
}

// --- API: project policy

// policyJSON is a project's policy as the API shows it.
type policyJSON struct {
	Project string `json:"project"`
	verdict.Policy
	// KeyFingerprints are the SHA-256 fingerprints of TrustedKeys, in order.
	KeyFingerprints []string `json:"keyFingerprints,omitempty"`
}

// policyPatch changes some of a project's policy; absent fields stay.
type policyPatch struct {
	ScanOnPush       *bool    `json:"scanOnPush,omitempty"`
	PreventSeverity  *string  `json:"preventSeverity,omitempty"` // "" or "NONE" turns it off
	PreventUnscanned *bool    `json:"preventUnscanned,omitempty"`
	IgnoreUnfixed    *bool    `json:"ignoreUnfixed,omitempty"`
	TrustedKeys      []string `json:"trustedKeys,omitempty"`
	ClearKeys        bool     `json:"clearTrustedKeys,omitempty"`
	ImmutableTags    []string `json:"immutableTags,omitempty"`
	ClearTags        bool     `json:"clearImmutableTags,omitempty"`
	// Allowlist replaces the whole allowlist (a .seawallignore document).
	Allowlist *string `json:"allowlist,omitempty"`
	// Allow adds (or replaces) entries; Disallow removes IDs.
	Allow    []verdict.AllowEntry `json:"allow,omitempty"`
	Disallow []string             `json:"disallow,omitempty"`
}

// maxPolicyBody bounds a policy PATCH: keys and an allowlist fit.
const maxPolicyBody = 1 << 20

func (s *Server) toPolicyJSON(project string, p verdict.Policy) policyJSON {
	out := policyJSON{Project: project, Policy: p}
	for _, k := range p.TrustedKeys {
		out.KeyFingerprints = append(out.KeyFingerprints, verdict.KeyFingerprint([]byte(k)))
	}
	return out
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := s.principalProject(r, auth.ActionPull)
	if err != nil {
		return err
	}
	pol, err := verdict.PolicyOf(proj.Settings)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.toPolicyJSON(proj.Name, pol))
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := s.principalProject(r, auth.ActionProjectSettings)
	if err != nil {
		return err
	}
	var req policyPatch
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPolicyBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("the request body is not a policy change: %v", err)
	}
	pol, err := verdict.PolicyOf(proj.Settings)
	if err != nil {
		return err
	}
	if req.ScanOnPush != nil {
		pol.ScanOnPush = *req.ScanOnPush
	}
	if req.PreventSeverity != nil {
		pol.PreventSeverity = *req.PreventSeverity
		if strings.EqualFold(pol.PreventSeverity, "NONE") {
			pol.PreventSeverity = ""
		}
	}
	if req.PreventUnscanned != nil {
		pol.PreventUnscanned = *req.PreventUnscanned
	}
	if req.IgnoreUnfixed != nil {
		pol.IgnoreUnfixed = *req.IgnoreUnfixed
	}
	if req.ClearKeys {
		pol.TrustedKeys = nil
	}
	if len(req.TrustedKeys) > 0 {
		pol.TrustedKeys = req.TrustedKeys
	}
	if req.ClearTags {
		pol.ImmutableTags = nil
	}
	if len(req.ImmutableTags) > 0 {
		pol.ImmutableTags = req.ImmutableTags
	}
	if req.Allowlist != nil {
		pol.Allowlist = *req.Allowlist
	}
	if len(req.Allow) > 0 || len(req.Disallow) > 0 {
		for _, a := range req.Allow {
			if a.ID == "" || a.Reason == "" {
				return badRequest("allow: every entry needs an id and a reason")
			}
		}
		if pol.Allowlist, err = verdict.MergeAllowlist(pol.Allowlist, req.Allow, req.Disallow); err != nil {
			return badRequest("cve allowlist: %v", err)
		}
	}
	if err := pol.Validate(); err != nil {
		return badRequest("%v", err)
	}
	if proj.Settings, err = verdict.WithPolicy(proj.Settings, pol); err != nil {
		return err
	}
	if err := s.store.UpdateProject(r.Context(), proj); err != nil {
		return notFoundOr(err, "project %q does not exist", proj.Name)
	}
	out := s.toPolicyJSON(proj.Name, pol)
	summary, _ := json.Marshal(out)
	s.Emit(r.Context(), events.Event{Kind: events.KindPolicyChange, Actor: p.Name, Project: proj.Name, Detail: map[string]string{"policy": string(summary)}})
	s.log.Info("project policy changed", "project", proj.Name, "by", p.Name)
	return writeJSON(w, http.StatusOK, out)
}

// --- API: scan status, rescans, the vulnerability database

// scanStatusJSON is what `seawall scan status` shows.
type scanStatusJSON struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Tag        string `json:"tag,omitempty"`
	Kind       string `json:"kind"`
	// Status is "scanned", "failed", "queued", "running" or "not scanned".
	Status string `json:"status"`
	// Rescan says a newer scan is queued or running; the verdict below,
	// from the last scan, stands until it finishes.
	Rescan    string              `json:"rescan,omitempty"`
	Error     string              `json:"error,omitempty"`
	ScannedAt *time.Time          `json:"scannedAt,omitempty"`
	MatchedAt *time.Time          `json:"matchedAt,omitempty"`
	DBBuiltAt *time.Time          `json:"dbBuiltAt,omitempty"`
	Verdict   *verdict.Verdict    `json:"verdict,omitempty"`
	Findings  []inventory.Finding `json:"findings"`
	// Children are an index's images.
	Children []scanStatusJSON `json:"children,omitempty"`
}

func (s *Server) scanStatus(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	repo, ref := r.URL.Query().Get("repository"), r.URL.Query().Get("reference")
	if repo == "" || !registry.ValidName(repo) {
		return badRequest("repository %q: give the repository as project/name", repo)
	}
	if ok, err := s.auth.Can(r.Context(), p, projectOf(repo), auth.ActionPull); err != nil {
		return err
	} else if !ok {
		return errf(http.StatusForbidden, codeDenied, "repository %q does not exist or you have no access to it", repo)
	}
	if ref == "" {
		ref = "latest"
	}
	tag, digest, err := registry.ParseReference(ref)
	if err != nil {
		return badRequest("reference %q: give a tag or a digest (sha256:…)", ref)
	}
	ctx := r.Context()
	if tag != "" {
		if digest, err = s.store.ResolveTag(ctx, repo, tag); err != nil {
			return notFoundOr(err, "%s:%s is not in the registry", repo, tag)
		}
	}
	m, err := s.store.Manifest(ctx, repo, digest)
	if err != nil {
		return notFoundOr(err, "%s@%s is not in the registry", repo, digest)
	}
	pol, _, err := s.policyOf(ctx, projectOf(repo))
	if err != nil {
		return err
	}
	kind, children := registry.DescribeManifest(m.MediaType, m.Content)
	out, err := s.statusOf(ctx, repo, digest, kind, pol)
	if err != nil {
		return err
	}
	out.Tag = tag
	for _, c := range children {
		cm, err := s.store.Manifest(ctx, repo, c)
		if err != nil {
			continue
		}
		ck, _ := registry.DescribeManifest(cm.MediaType, cm.Content)
		cs, err := s.statusOf(ctx, repo, c, ck, pol)
		if err != nil {
			return err
		}
		out.Children = append(out.Children, cs)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) statusOf(ctx context.Context, repo, digest string, kind registry.ManifestKind, pol verdict.Policy) (scanStatusJSON, error) {
	out := scanStatusJSON{Repository: repo, Digest: digest, Kind: string(kind), Status: "not scanned", Findings: []inventory.Finding{}}
	if kind != registry.KindImage {
		out.Status = "not scanned (" + string(kind) + ")"
		return out, nil
	}
	jobs, err := s.store.ScanJobs(ctx, repo, digest)
	if err != nil {
		return out, err
	}
	res, err := s.store.ScanResult(ctx, repo, digest)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return out, err
	}
	pending := ""
	if len(jobs) > 0 {
		pending = "queued"
		if jobs[0].Owner != "" && jobs[0].LeaseUntil.After(s.now()) {
			pending = "running"
		}
		if jobs[0].LastError != "" {
			pending += " (last attempt: " + jobs[0].LastError + ")"
		}
	}
	if res == nil {
		if pending != "" {
			out.Status = pending
		}
	} else {
		out.Status, out.Rescan = "scanned", pending
		if res.Error != "" {
			out.Status, out.Error = "failed", res.Error
		}
		out.ScannedAt, out.MatchedAt = timePtr(res.ScannedAt), timePtr(res.MatchedAt)
		out.DBBuiltAt = timePtr(res.DBBuiltAt)
		fs, err := s.scan.findings(repo, digest, res)
		if err != nil {
			return out, err
		}
		if fs != nil {
			out.Findings = fs
		}
	}
	v, err := s.currentVerdict(ctx, repo, digest, pol)
	if err != nil {
		return out, err
	}
	out.Verdict = &v
	// Mark what the allowlist accepts now, as the verdict counted it.
	if allow, err := pol.AllowlistFile(); err == nil && allow != nil && len(out.Findings) > 0 {
		marked := make([]inventory.Finding, len(out.Findings))
		copy(marked, out.Findings)
		allow.Apply(marked, s.now())
		out.Findings = marked
	}
	return out, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type rescanRequest struct {
	Project string `json:"project,omitempty"`
	All     bool   `json:"all,omitempty"`
	// Full reads the layers again (queued at bulk priority) instead of
	// rematching the stored SBOMs.
	Full bool `json:"full,omitempty"`
}

type rescanResponse struct {
	scanq.RematchStats
	// Queued counts images queued for a full scan: never scanned, failed,
	// or all of them with full.
	QueuedScans int    `json:"queuedScans"`
	TookText    string `json:"tookText"`
}

func (s *Server) rescan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(r)
	if err != nil {
		return err
	}
	var req rescanRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.All == (req.Project != ""):
		return badRequest("give either a project or all (all projects, system admins only)")
	case req.All && !p.SystemAdmin():
		return errf(http.StatusForbidden, codeDenied, "only a system admin may rescan every project")
	case req.Project != "":
		r.SetPathValue("project", req.Project)
		if _, err := s.project(r, p, auth.ActionPush); err != nil {
			return err
		}
	}
	ctx := r.Context()
	var out rescanResponse
	if !req.Full {
		st, err := s.scan.queue.Rematch(ctx, req.Project)
		if err != nil {
			return rescanErr(err)
		}
		out.RematchStats = st
	}
	n, err := s.scan.queue.QueueUnscanned(ctx, req.Project, req.Full)
	if err != nil {
		return err
	}
	out.QueuedScans = n + out.Queued
	out.TookText = out.Took.Round(time.Millisecond).String()
	s.log.Info("rescan", "project", req.Project, "full", req.Full, "by", p.Name, "rematched", out.Rematched, "changed", out.Changed, "queued", out.QueuedScans)
	return writeJSON(w, http.StatusOK, out)
}

func rescanErr(err error) error {
	if strings.Contains(err.Error(), "no vulnerability database") {
		return errf(http.StatusConflict, codeConflict, "%v", err)
	}
	return err
}

// setSignatureChecker gives the pull policy its signature checker. Call it
// in init, before the background work starts.
func (s *Server) setSignatureChecker(c verdict.SignatureChecker) {
	s.signatures = c
	if s.scan != nil {
		s.scan.eval.Signatures = c
	}
}
