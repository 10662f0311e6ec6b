package waf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// errBodyTooLarge is returned by a request body that grows past
// max_body_bytes while it streams.
var errBodyTooLarge = errors.New("request body too large")

// newTransport returns the upstream transport: keep-alive connections, and
// a dialer whose Control function refuses metadata, link-local and (unless
// the upstream is itself loopback) loopback addresses. That guard always
// runs; no setting turns it off.
func newTransport(cfg *Config, upstream *url.URL) *http.Transport {
	d := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   dialControl(isLoopbackHost(upstream.Hostname())),
	}
	return &http.Transport{
		Proxy:                 nil, // never route upstream traffic through HTTP_PROXY
		DialContext:           d.DialContext,
		MaxIdleConns:          cfg.MaxIdleConnsUpstrm,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsUpstrm,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: time.Duration(cfg.UpstreamTimeout),
		ForceAttemptHTTP2:     upstream.Scheme == "https",
	}
}

// newProxy returns the reverse proxy to the upstream. WebSocket upgrades
// pass through (httputil.ReverseProxy hijacks and splices both sides);
// bodies stream in both directions.
func newProxy(cfg *Config, upstream *url.URL, tr http.RoundTripper, trusted []netip.Prefix, log *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			if cfg.PreserveHost {
				pr.Out.Host = pr.In.Host
			}
			setForwarded(pr, trusted)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			switch {
			case errors.Is(err, errBodyTooLarge):
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			case errors.Is(err, errRefusedDial):
				log.Error("upstream connection refused by the SSRF guard", "err", err)
				http.Error(w, "bad gateway", http.StatusBadGateway)
			case errors.Is(err, context.Canceled):
				// The client went away; nobody is left to answer.
			default:
				log.Warn("upstream request failed", "err", err, "uri", r.RequestURI)
				http.Error(w, "bad gateway", http.StatusBadGateway)
			}
		},
	}
}

// setForwarded sets X-Forwarded-For, -Host and -Proto. Values that arrived
// with the request are kept only when the peer is a trusted proxy;
// otherwise a client could claim any address.
func setForwarded(pr *httputil.ProxyRequest, trusted []netip.Prefix) {
	peer := remoteAddr(pr.In.RemoteAddr)
	proto := "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	host := pr.In.Host
	xff := peer.String()
	if isTrusted(peer, trusted) {
		if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + xff
		}
		if v := pr.In.Header.Get("X-Forwarded-Proto"); v == "http" || v == "https" {
			proto = v
		}
		if v := pr.In.Header.Get("X-Forwarded-Host"); v != "" {
			host = v
		}
	}
	if !peer.IsValid() {
		xff = ""
	}
	pr.Out.Header.Del("Forwarded")
	if xff != "" {
		pr.Out.Header.Set("X-Forwarded-For", xff)
	}
	pr.Out.Header.Set("X-Forwarded-Host", host)
	pr.Out.Header.Set("X-Forwarded-Proto", proto)
}

func remoteAddr(ra string) netip.Addr {
	if ap, err := netip.ParseAddrPort(ra); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(ra)
	if err != nil {
		host = ra
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address the WAF attributes a request to: the peer, or,
// when the peer is a trusted proxy, the right-most address in
// X-Forwarded-For that is not itself a trusted proxy.
func clientAddr(peer netip.Addr, h http.Header, trusted []netip.Prefix) netip.Addr {
	if !isTrusted(peer, trusted) {
		return peer
	}
	vals := h.Values("X-Forwarded-For")
	var hops []string
	for _, v := range vals {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
	}
	return peer
}

// limitBody counts bytes as the request body streams and fails once it
// passes the limit. In detect mode it only reports.
type limitBody struct {
	r        interface{ Read([]byte) (int, error) }
	c        interface{ Close() error }
	n, max   int64
	enforce  bool
	exceeded func()
	tripped  bool
}

func (b *limitBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max && !b.tripped {
		b.tripped = true
		b.exceeded()
	}
	if b.tripped && b.enforce {
		return 0, fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, b.max)
	}
	return n, err
}

func (b *limitBody) Close() error { return b.c.Close() }
