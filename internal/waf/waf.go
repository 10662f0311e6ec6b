// Package waf is Seawall's web application firewall: Coraza with the OWASP
// CRS v4 embedded, plus Seawall's own guards (admin paths, SSRF, body size,
// rate limits), as an http.Handler in front of an upstream.
package waf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// WAF is the firewall as an http.Handler. Its rules can be swapped while
// it serves: Reload builds a new engine and replaces the active one
// atomically, and requests in flight finish on the engine they started on.
type WAF struct {
	log      *slog.Logger
	events   *eventLog
	metrics  *metrics
	resolver Resolver
	next     http.Handler
	stdout   io.Writer

	cur      atomic.Pointer[engine]
	reloadMu sync.Mutex
}

// engine is one immutable build of the configuration.
type engine struct {
	cfg       Config
	coraza    coraza.WAF // nil when serving fail-open without rules
	proxy     http.Handler
	transport *http.Transport
	upstream  *url.URL
	limiter   *rateLimiter
	trusted   []netip.Prefix
	loadErr   error // why coraza is nil
}

// Option changes how New builds the WAF.
type Option func(*WAF)

// WithResolver sets the resolver the SSRF guard uses for host names.
func WithResolver(r Resolver) Option { return func(w *WAF) { w.resolver = r } }

// WithNext serves allowed requests with h instead of proxying them to the
// upstream, for embedding the WAF in front of an in-process handler.
func WithNext(h http.Handler) Option { return func(w *WAF) { w.next = h } }

// WithStdout sets where the event log goes when Config.Log is "-".
func WithStdout(out io.Writer) Option { return func(w *WAF) { w.stdout = out } }

// New builds a WAF from a validated configuration. With fail_mode closed
// (the default), rules that do not load are an error wrapping ErrRules;
// with fail_mode open, New logs the error and returns a WAF that proxies
// without inspection until a reload succeeds.
func New(cfg Config, log *slog.Logger, opts ...Option) (*WAF, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &WAF{log: log.With("component", "waf"), metrics: newMetrics(), stdout: os.Stdout}
	for _, o := range opts {
		o(w)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ev, err := openEventLog(cfg.Log, w.stdout)
	if err != nil {
		return nil, err
	}
	w.events = ev
	e, err := w.build(cfg, nil)
	if err != nil {
		ev.Close()
		return nil, err
	}
	w.cur.Store(e)
	return w, nil
}

// Config returns the configuration of the active engine.
func (w *WAF) Config() Config { return w.cur.Load().cfg }

// MetricsHandler serves the Prometheus metrics.
func (w *WAF) MetricsHandler() http.Handler { return w.metrics.handler() }

// Close releases the event log and idle upstream connections.
func (w *WAF) Close() error {
	if e := w.cur.Load(); e != nil && e.transport != nil {
		e.transport.CloseIdleConnections()
	}
	return w.events.Close()
}

// Reload builds a new engine from cfg and swaps it in. If the new rules
// do not load, the running engine stays in place and the error is
// returned, whatever the fail mode: a WAF that has good rules keeps them.
func (w *WAF) Reload(cfg Config) error {
	w.reloadMu.Lock()
	defer w.reloadMu.Unlock()
	if err := cfg.Validate(); err != nil {
		w.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	old := w.cur.Load()
	if cfg.Log != old.cfg.Log {
		ev, err := openEventLog(cfg.Log, w.stdout)
		if err != nil {
			w.metrics.reloads.WithLabelValues("error").Inc()
			return err
		}
		prev := w.events
		w.events = ev
		defer prev.Close()
	} else if err := w.events.Reopen(); err != nil {
		w.log.Warn("reopening the event log", "err", err)
	}
	e, err := w.build(cfg, old)
	if err != nil || (e.coraza == nil && old.coraza != nil) {
		if err == nil {
			err = e.loadErr
		}
		w.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("reload: %w; still running the previous rules", err)
	}
	w.cur.Store(e)
	w.metrics.reloads.WithLabelValues("ok").Inc()
	if old.transport != nil && old.transport != e.transport {
		// Idle connections only; requests in flight keep theirs.
		old.transport.CloseIdleConnections()
	}
	return nil
}

// build makes an engine. It reuses the previous engine's transport when
// the upstream has not changed, so upstream keep-alive connections
// survive a reload.
func (w *WAF) build(cfg Config, prev *engine) (*engine, error) {
	e := &engine{cfg: cfg}
	for _, p := range cfg.TrustedProxies {
		pf, _ := parsePrefix(p)
		e.trusted = append(e.trusted, pf)
	}
	if cfg.ExclusionsFile != "" {
		ex, err := LoadExclusions(cfg.ExclusionsFile)
		if err != nil {
			return nil, err
		}
		e.cfg.Exclusions = append(append([]Exclusion(nil), cfg.Exclusions...), ex...)
	}
	if cfg.RateLimit.Enabled {
		e.limiter = newRateLimiter(cfg.RateLimit)
		if prev != nil && prev.limiter != nil && rateConfigEqual(prev.cfg.RateLimit, cfg.RateLimit) {
			e.limiter = prev.limiter
		}
	}
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	e.upstream = u
	if w.next != nil {
		e.proxy = w.next
	} else {
		if prev != nil && prev.transport != nil && prev.cfg.Upstream == cfg.Upstream && prev.cfg.MaxIdleConnsUpstrm == cfg.MaxIdleConnsUpstrm && prev.cfg.UpstreamTimeout == cfg.UpstreamTimeout {
			e.transport = prev.transport
		} else {
			e.transport = newTransport(&e.cfg, u)
		}
		e.proxy = newProxy(&e.cfg, u, e.transport, e.trusted, w.log)
	}

	start := time.Now()
	rs, err := buildRules(&e.cfg, newSSRFGuard(cfg.SSRF, w.resolver))
	if err == nil {
		e.coraza, err = newCoraza(rs, collect)
	}
	if err != nil {
		if !errors.Is(err, ErrRules) {
			err = fmt.Errorf("%w: %v", ErrRules, err)
		}
		if cfg.FailMode == FailOpen {
			w.log.Error("WAF RULES FAILED TO LOAD: serving WITHOUT inspection (fail_mode: open)", "err", err)
			e.loadErr = err
			e.coraza = nil
			w.metrics.degraded.Set(1)
			return e, nil
		}
		return nil, fmt.Errorf("%w\n(fix the rules and start again, or set fail_mode: open to serve without inspection while rules fail to load)", err)
	}
	w.metrics.degraded.Set(0)
	if rc, ok := e.coraza.(experimental.WAFWithRules); ok {
		w.metrics.rules.Set(float64(rc.RulesCount()))
	}
	w.log.Info("WAF rules loaded", "mode", cfg.Mode, "paranoia", cfg.Paranoia, "took", time.Since(start).Round(time.Millisecond))
	return e, nil
}

func rateConfigEqual(a, b RateLimitConfig) bool {
	if a.Rate != b.Rate || a.Burst != b.Burst || a.MaxClients != b.MaxClients || len(a.Routes) != len(b.Routes) {
		return false
	}
	for i := range a.Routes {
		x, y := a.Routes[i], b.Routes[i]
		if x.Rate != y.Rate || x.Burst != y.Burst || x.Path != y.Path || x.PathPrefix != y.PathPrefix || x.PathRegex != y.PathRegex || strings.Join(x.Methods, ",") != strings.Join(y.Methods, ",") {
			return false
		}
	}
	return true
}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// excluded reports whether an exclusion turns a Go-side guard off for the
// request.
func (e *engine) excluded(id int, method, cleaned string) bool {
	for i := range e.cfg.Exclusions {
		x := &e.cfg.Exclusions[i]
		if x.covers(id) && x.Route.match(method, cleaned) {
			return true
		}
	}
	for _, d := range e.cfg.DisabledRules {
		lo, hi, _ := parseIDRange(d)
		if id >= lo && id <= hi {
			return true
		}
	}
	return false
}

// ServeHTTP inspects the request, and proxies it or refuses it.
func (w *WAF) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	e := w.cur.Load()
	ev, outcome := w.serve(e, rw, r)
	if ev != nil {
		ev.finish()
		if err := w.events.write(ev); err != nil {
			w.log.Warn("writing event", "err", err)
		}
	}
	w.metrics.observe(ev, outcome, time.Since(start).Seconds())
}

func (w *WAF) serve(e *engine, rw http.ResponseWriter, r *http.Request) (*Event, string) {
	cfg := &e.cfg
	peer := remoteAddr(r.RemoteAddr)
	client := clientAddr(peer, r.Header, e.trusted)
	reqID := r.Header.Get(cfg.RequestIDHeader)
	if !isTrusted(peer, e.trusted) || !requestIDRe.MatchString(reqID) {
		reqID = newRequestID()
	}
	r.Header.Set(cfg.RequestIDHeader, reqID)
	rw.Header().Set(cfg.RequestIDHeader, reqID)

	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	ev := &Event{Time: time.Now().UTC(), RequestID: reqID, Client: client.String(), Method: r.Method, URI: uri, Host: r.Host, Mode: cfg.Mode}
	block := cfg.Mode == ModeBlock
	cleaned := cleanPath(r.URL.EscapedPath())

	// Requests no web server should accept are refused in either mode,
	// as Apache httpd refuses them.
	if why := malformed(r); why != "" {
		ev.Rules = append(ev.Rules, guardMatch(idProtocol, "Seawall: malformed request", why, reqID, ev.Client, uri))
		return w.refuse(rw, ev, http.StatusBadRequest)
	}

	// Guards that need no inspection run first and cost least.
	if e.limiter != nil && !e.excluded(idRateLimit, r.Method, cleaned) {
		if ok, which := e.limiter.allow(client.String(), r.Method, cleaned, time.Now()); !ok {
			ev.Rules = append(ev.Rules, guardMatch(idRateLimit, "Seawall: rate limit exceeded", which, reqID, ev.Client, uri))
			if block {
				rw.Header().Set("Retry-After", "1")
				return w.refuse(rw, ev, http.StatusTooManyRequests)
			}
			ev.WouldBlock = true
		}
	}
	if !e.excluded(idBodyLimit, r.Method, cleaned) {
		tooBig := func() {
			ev.Rules = append(ev.Rules, guardMatch(idBodyLimit, "Seawall: request body larger than max_body_bytes",
				strconv.FormatInt(cfg.MaxBodyBytes, 10), reqID, ev.Client, uri))
			ev.WouldBlock = true
		}
		if r.ContentLength > cfg.MaxBodyBytes {
			tooBig()
			if block {
				return w.refuse(rw, ev, http.StatusRequestEntityTooLarge)
			}
		} else if r.Body != nil && r.Body != http.NoBody {
			r.Body = &limitBody{r: r.Body, c: r.Body, max: cfg.MaxBodyBytes, enforce: block, exceeded: tooBig}
		}
	}

	if e.coraza == nil {
		// fail_mode: open, and the rules did not load.
		e.proxy.ServeHTTP(rw, r)
		return eventOrNil(ev), "allowed"
	}

	col := &collector{}
	ctx := context.WithValue(r.Context(), ctxKey{}, col)
	tx := e.coraza.(experimental.WAFWithOptions).NewTransactionWithOptions(experimental.Options{ID: reqID, Context: ctx})
	defer tx.Close()
	status, refused := 0, false

	if tx.IsRuleEngineOff() {
		e.proxy.ServeHTTP(rw, r)
		return eventOrNil(ev), "allowed"
	}

	it, err := processRequest(tx, r, client, peer)
	switch {
	case errors.Is(err, errBodyTooLarge):
		status, refused = http.StatusRequestEntityTooLarge, true
		writeRefusal(rw, status, reqID)
	case err != nil:
		// The body could not be read: the client went away or sent a
		// malformed chunked body.
		w.log.Debug("reading request", "err", err, "request_id", reqID)
		status, refused = http.StatusBadRequest, true
		writeRefusal(rw, status, reqID)
	case it != nil:
		status, refused = interruptionStatus(it), true
		if it.RuleID == 0 && it.Status == http.StatusRequestEntityTooLarge {
			ev.Rules = append(ev.Rules, guardMatch(idBodyLimit, "Seawall: request body larger than max_body_bytes",
				strconv.FormatInt(cfg.MaxBodyBytes, 10), reqID, ev.Client, uri))
		}
		writeInterruption(rw, it, reqID)
	default:
		iw := &respWriter{w: rw, tx: tx, proto: r.Proto, reqID: reqID, idHeader: cfg.RequestIDHeader}
		e.proxy.ServeHTTP(iw.wrapped(), r)
		iw.finish()
		status, refused = iw.status, iw.refused
	}
	tx.ProcessLogging()

	for _, mr := range col.matches {
		ev.Rules = append(ev.Rules, ruleMatch(mr))
	}
	ev.AnomalyScore = AnomalyScore{Inbound: txInt(tx, "blocking_inbound_anomaly_score"), Outbound: txInt(tx, "blocking_outbound_anomaly_score")}
	ev.Status = status
	if len(ev.Rules) == 0 {
		return nil, "allowed"
	}
	if refused {
		ev.Action = ActionBlocked
		return ev, ActionBlocked
	}
	ev.Action = ActionDetected
	if !block {
		for _, mr := range col.matches {
			if mr.Rule().ID() == 949110 || mr.Rule().ID() == 959100 || mr.Rule().ID() == 980170 {
				ev.WouldBlock = true
			}
			if id := mr.Rule().ID(); id >= idAdminFirst && id <= idSSRFBody {
				ev.WouldBlock = true
			}
		}
	}
	return ev, ActionDetected
}

var hostRe = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// malformed says what is wrong with a request that must not be served.
func malformed(r *http.Request) string {
	switch {
	case r.Method == http.MethodConnect:
		return "CONNECT: a reverse proxy opens no tunnels"
	case strings.Contains(r.RequestURI, "#"):
		return "fragment (#) in the request target"
	case r.ProtoMajor == 1 && r.ProtoMinor >= 1 && r.Host == "":
		return "empty Host header"
	case r.Host != "" && !hostRe.MatchString(r.Host):
		return "invalid Host header"
	}
	return ""
}

func eventOrNil(ev *Event) *Event {
	if len(ev.Rules) == 0 {
		return nil
	}
	ev.Action = ActionDetected
	return ev
}

// refuse answers a request that a Go-side guard refused.
func (w *WAF) refuse(rw http.ResponseWriter, ev *Event, status int) (*Event, string) {
	writeRefusal(rw, status, ev.RequestID)
	ev.Action, ev.Status = ActionBlocked, status
	return ev, ActionBlocked
}

func writeRefusal(rw http.ResponseWriter, status int, reqID string) {
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusRequestEntityTooLarge {
		h.Set("Connection", "close")
	}
	rw.WriteHeader(status)
	fmt.Fprintf(rw, "%d %s: refused by Seawall WAF. Request ID: %s\n", status, http.StatusText(status), reqID)
}

func interruptionStatus(it *types.Interruption) int {
	switch it.Action {
	case "redirect":
		return http.StatusFound
	case "deny", "drop":
		if it.Status != 0 {
			return it.Status
		}
		return http.StatusForbidden
	}
	if it.Status != 0 {
		return it.Status
	}
	return http.StatusForbidden
}

func writeInterruption(rw http.ResponseWriter, it *types.Interruption, reqID string) {
	switch it.Action {
	case "redirect":
		http.Redirect(rw, &http.Request{Method: http.MethodGet}, it.Data, http.StatusFound)
		return
	case "drop":
		if hj, ok := rw.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	writeRefusal(rw, interruptionStatus(it), reqID)
}

// processRequest feeds the request to the engine: connection, URI,
// headers, then the body, which the engine reads up to its limit (spilling
// to a temporary file past body_in_memory_bytes) and hands back for the
// upstream, followed by anything it did not read.
func processRequest(tx types.Transaction, r *http.Request, client, peer netip.Addr) (*types.Interruption, error) {
	cport := 0
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && client == peer {
		cport = int(ap.Port())
	}
	var saddr string
	var sport int
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			saddr, sport = ap.Addr().Unmap().String(), int(ap.Port())
		}
	}
	tx.ProcessConnection(client.String(), cport, saddr, sport)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	tx.ProcessURI(uri, r.Method, r.Proto)
	for k, vs := range r.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	if r.Host != "" {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(hostOnly(r.Host))
	}
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return it, nil
	}
	if tx.IsRequestBodyAccessible() && r.Body != nil && r.Body != http.NoBody {
		it, _, err := tx.ReadRequestBodyFrom(r.Body)
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		if it != nil {
			return it, nil
		}
		rbr, err := tx.RequestBodyReader()
		if err != nil {
			return nil, fmt.Errorf("request body buffer: %w", err)
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(rbr, r.Body), r.Body}
	}
	return tx.ProcessRequestBody()
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// txInt reads a numeric TX variable, such as the anomaly score.
func txInt(tx types.Transaction, key string) int {
	st, ok := tx.(plugintypes.TransactionState)
	if !ok {
		return 0
	}
	m, ok := st.Collection(variables.TX).(collection.Map)
	if !ok {
		return 0
	}
	v := m.Get(key)
	if len(v) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(v[0])
	return n
}
