package waf

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Target classes the SSRF guard refuses. Each has its own rule ID so that
// one class can be excluded where an application needs it.
type targetClass int

const (
	classNone      targetClass = iota
	classMetadata              // cloud metadata services
	classLinkLocal             // 169.254.0.0/16, fe80::/10
	classLoopback              // 127.0.0.0/8, ::1, 0.0.0.0, localhost
)

func (c targetClass) String() string {
	switch c {
	case classMetadata:
		return "metadata"
	case classLinkLocal:
		return "link-local"
	case classLoopback:
		return "loopback"
	}
	return "none"
}

// metadataAddrs are the cloud metadata endpoints: AWS, GCP, Azure,
// DigitalOcean, Oracle and OpenStack (169.254.169.254), AWS over IPv6
// (fd00:ec2::254), Alibaba (100.100.100.200) and AWS ECS task metadata
// (169.254.170.2).
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("169.254.169.123"),
}

// metadataNames are host names of metadata services. Names that are a
// single label ("metadata", "instance-data") are only refused inside a URL,
// where they are plainly a host.
var metadataNames = map[string]bool{
	"metadata.google.internal":     true,
	"metadata.goog":                true,
	"metadata":                     true,
	"instance-data":                true,
	"instance-data.ec2.internal":   true,
	"metadata.tencentyun.com":      true,
	"metadata.platformequinix.com": true,
}

var loopbackNames = map[string]bool{
	"localhost":             true,
	"localhost.localdomain": true,
	"ip6-localhost":         true,
	"ip6-loopback":          true,
}

var (
	linkLocal4 = netip.MustParsePrefix("169.254.0.0/16")
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	loopback4  = netip.MustParsePrefix("127.0.0.0/8")
	thisNet4   = netip.MustParsePrefix("0.0.0.0/8")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	compat4    = netip.MustParsePrefix("::/96")
)

// classifyAddr says whether an address is one the guard refuses. IPv4
// addresses hidden in IPv6 (mapped, compatible, NAT64, 6to4) are
// unwrapped first.
func classifyAddr(a netip.Addr) targetClass {
	a = a.WithZone("")
	if a.Is6() {
		if a.Is4In6() {
			return classifyAddr(a.Unmap())
		}
		b := a.As16()
		switch {
		case nat64.Contains(a) || nat64Local.Contains(a):
			return classifyAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return classifyAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		case compat4.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
			return classifyAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		}
	}
	for _, m := range metadataAddrs {
		if a == m {
			return classMetadata
		}
	}
	switch {
	case linkLocal4.Contains(a), linkLocal6.Contains(a):
		return classLinkLocal
	case loopback4.Contains(a), a == netip.IPv6Loopback(), thisNet4.Contains(a), a == netip.IPv6Unspecified():
		return classLoopback
	}
	return classNone
}

// parseIPv4Loose parses an IPv4 address the way inet_aton and most URL
// libraries do: one to four parts, each decimal, octal (leading 0) or hex
// (0x), the last part filling the remaining bytes. "2852039166",
// "0xA9FEA9FE", "0251.0376.0251.0376" and "169.254.43518" are all
// 169.254.169.254.
func parseIPv4Loose(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		digits := p
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 64)
		if err != nil || v > 0xffffffff {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
		n |= vals[i] << (8 * (3 - i))
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// hostCandidate is a host found in a parameter value.
type hostCandidate struct {
	host  string
	inURL bool // found as a URL authority, so surely a host
}

// candidates finds hosts in a value: the authority of every URL
// ("scheme://host", "//host"), and the whole value when it is a host or
// host:port on its own. Free text that merely mentions an address is not
// a candidate.
func candidates(v string, out []hostCandidate) []hostCandidate {
	if len(v) > 1<<20 {
		v = v[:1<<20]
	}
	s := v
	for {
		i := strings.Index(s, "//")
		if i < 0 {
			break
		}
		// "//" begins an authority after "scheme:" or at the start of
		// the value, or after a quote or space (inside JSON or text).
		ok := i == 0 || s[i-1] == ':' || s[i-1] == '"' || s[i-1] == '\'' || s[i-1] == ' ' || s[i-1] == '='
		rest := s[i+2:]
		if ok {
			end := strings.IndexAny(rest, "/?#\"' <>\\\r\n\t")
			auth := rest
			if end >= 0 {
				auth = rest[:end]
			}
			// With userinfo, the host is after the last '@'; parsers
			// disagree, so both sides are checked.
			if at := strings.LastIndexByte(auth, '@'); at >= 0 {
				out = append(out, hostCandidate{host: stripPort(auth[at+1:]), inURL: true})
				auth = auth[:at]
				if c := strings.IndexByte(auth, ':'); c >= 0 {
					auth = auth[:c]
				}
			}
			out = append(out, hostCandidate{host: stripPort(auth), inURL: true})
		}
		s = rest
	}
	// Backslashes and mixed slashes: "http:\\169.254.169.254" and
	// "http:/\169.254.169.254" reach the host in some clients.
	if strings.Contains(v, `:\`) || strings.Contains(v, `:/\`) {
		w := strings.NewReplacer(`\`, `/`).Replace(v)
		if w != v && strings.Contains(w, "//") {
			out = candidates(w, out)
		}
	}
	t := strings.TrimSpace(v)
	if t != "" && len(t) < 300 && !strings.ContainsAny(t, "/ \t\r\n?#\"'<>") {
		out = append(out, hostCandidate{host: stripPort(t)})
	}
	return out
}

// stripPort removes a port and the brackets around an IPv6 literal.
func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h[1:]
	}
	if strings.Count(h, ":") == 1 {
		h = h[:strings.IndexByte(h, ':')]
	}
	return h
}

// classifyHost decides what a candidate host is, without DNS. It returns
// whether the host is a name that a resolver should look up.
func classifyHost(c hostCandidate) (targetClass, bool) {
	h := strings.ToLower(strings.TrimSpace(c.host))
	h = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\r', '\n', 0:
			return -1
		case '。', '．', '｡': // ideographic and full-width full stops
			return '.'
		}
		if r >= '０' && r <= '９' { // full-width digits
			return '0' + (r - '０')
		}
		return r
	}, h)
	if i := strings.IndexByte(h, '%'); i >= 0 { // zone, or %25 left over
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return classNone, false
	}
	if strings.Contains(h, ":") {
		if a, err := netip.ParseAddr(h); err == nil {
			return classifyAddr(a), false
		}
		return classNone, false
	}
	if a, ok := parseIPv4Loose(h); ok {
		if !c.inURL && strings.Count(h, ".") != 3 {
			// Outside a URL only the four-part form counts: "127.5" is a
			// price and "2130706433" an ID far more often than addresses.
			return classNone, false
		}
		if !c.inURL && thisNet4.Contains(a) && a != netip.IPv4Unspecified() {
			return classNone, false
		}
		return classifyAddr(a), false
	}
	if metadataNames[h] && (c.inURL || strings.Contains(h, ".")) {
		return classMetadata, false
	}
	if loopbackNames[h] || strings.HasSuffix(h, ".localhost") {
		if c.inURL || strings.Contains(h, ".") || h == "localhost" {
			return classLoopback, false
		}
	}
	return classNone, c.inURL && isHostName(h)
}

func isHostName(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// Resolver looks up host names. *net.Resolver satisfies it; tests inject
// a fake.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ssrfGuard checks values against the blocked classes, resolving names in
// URLs through a small cache so that a repeated name costs one lookup.
type ssrfGuard struct {
	resolve  bool
	resolver Resolver
	timeout  time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]dnsEntry
}

type dnsEntry struct {
	class   targetClass
	expires time.Time
}

const (
	dnsCacheTTL      = time.Minute
	dnsCacheMax      = 4096
	maxLookupsPerVal = 4
)

func newSSRFGuard(cfg SSRFConfig, r Resolver) *ssrfGuard {
	if r == nil {
		r = net.DefaultResolver
	}
	return &ssrfGuard{
		resolve:  cfg.ResolveDNS,
		resolver: r,
		timeout:  time.Duration(cfg.DNSTimeout),
		now:      time.Now,
		cache:    map[string]dnsEntry{},
	}
}

// check returns the worst class among the hosts a value points at, and
// whether any of them came from DNS.
func (g *ssrfGuard) check(v string) (targetClass, bool) {
	if !mayHoldHost(v) {
		return classNone, false
	}
	var buf [8]hostCandidate
	worst := classNone
	fromDNS := false
	lookups := 0
	for _, c := range candidates(v, buf[:0]) {
		cl, name := classifyHost(c)
		if cl == classNone && name && g.resolve && lookups < maxLookupsPerVal {
			lookups++
			if cl = g.lookup(strings.TrimSuffix(strings.ToLower(c.host), ".")); cl != classNone {
				fromDNS = true
			}
		}
		if cl != classNone && (worst == classNone || cl < worst) {
			worst = cl
		}
	}
	return worst, fromDNS
}

// mayHoldHost is a cheap prefilter: a value with no digit, dot, colon or
// the start of a loopback or metadata name cannot point anywhere.
func mayHoldHost(v string) bool {
	return strings.ContainsAny(v, ".:0123456789") || strings.Contains(strings.ToLower(v), "localhost") ||
		strings.Contains(strings.ToLower(v), "metadata") || strings.Contains(strings.ToLower(v), "instance-data")
}

func (g *ssrfGuard) lookup(host string) targetClass {
	now := g.now()
	g.mu.Lock()
	e, ok := g.cache[host]
	g.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.class
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	cl := classNone
	if err == nil {
		for _, a := range addrs {
			if c := classifyAddr(a); c != classNone && (cl == classNone || c < cl) {
				cl = c
			}
		}
	}
	g.mu.Lock()
	if len(g.cache) >= dnsCacheMax {
		for k, v := range g.cache {
			if now.After(v.expires) || len(g.cache) >= dnsCacheMax {
				delete(g.cache, k)
			}
		}
	}
	g.cache[host] = dnsEntry{class: cl, expires: now.Add(dnsCacheTTL)}
	g.mu.Unlock()
	return cl
}
