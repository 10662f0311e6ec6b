package waf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Seawall's built-in protection IDs. They sit outside the CRS range
// (900000-999999) and the range SecLang leaves to local rules (1-99999).
const (
	idSettings     = 9100001 // SecAction carrying paranoia and thresholds
	idMarker       = 9100002 // log marker rule (go-ftw), off unless configured
	idProtocol     = 9100010 // malformed request refused before inspection
	idAdminFirst   = 9100101
	idAdminLast    = 9100199
	idSSRFMetadata = 9100201
	idSSRFLinkLoc  = 9100202
	idSSRFLoopback = 9100203
	idSSRFDNS      = 9100204
	idSSRFBody     = 9100205
	idBodyLimit    = 9100300
	idRateLimit    = 9100400
	idDisabledBase = 9100500 // SecRuleRemoveById lines need no ID; kept for clarity
	idExclFirst    = 9101000 // generated exclusion rules
)

// The SSRF operator is registered once with the engine, which keeps
// operators in a process-wide table. Each WAF build registers its guard
// under a fresh token that the rule passes as the operator argument; the
// factory resolves the token when the rules are parsed.
var (
	ssrfOnce   sync.Once
	ssrfGuards sync.Map // token -> *ssrfGuard
	ssrfSeq    atomic.Uint64
)

const ssrfOperator = "seawallSSRF"

func registerSSRFOperator() {
	ssrfOnce.Do(func() {
		plugins.RegisterOperator(ssrfOperator, func(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
			token, class, _ := strings.Cut(strings.TrimSpace(o.Arguments), " ")
			g, ok := ssrfGuards.Load(token)
			if !ok {
				return nil, fmt.Errorf("@%s: unknown guard %q (the operator is internal to Seawall)", ssrfOperator, token)
			}
			op := &ssrfOp{g: g.(*ssrfGuard)}
			switch class {
			case "metadata":
				op.class = classMetadata
			case "link-local":
				op.class = classLinkLocal
			case "loopback":
				op.class = classLoopback
			case "dns":
				op.dns = true
			case "any":
				op.any = true
			default:
				return nil, fmt.Errorf("@%s: unknown class %q", ssrfOperator, class)
			}
			return op, nil
		})
	})
}

type ssrfOp struct {
	g     *ssrfGuard
	class targetClass
	dns   bool
	any   bool
}

func (o *ssrfOp) Evaluate(_ plugintypes.TransactionState, v string) bool {
	cl, fromDNS := o.g.check(v)
	if o.any {
		return cl != classNone
	}
	if o.dns {
		return fromDNS
	}
	return !fromDNS && cl == o.class
}

var _ plugintypes.Operator = (*ssrfOp)(nil)

// ssrfRules returns the guard's SecLang rules and the token under which
// the guard is registered until the rules are parsed.
func ssrfRules(g *ssrfGuard) (string, string) {
	registerSSRFOperator()
	token := fmt.Sprintf("g%d", ssrfSeq.Add(1))
	ssrfGuards.Store(token, g)
	const targets = "ARGS|ARGS_NAMES|REQUEST_FILENAME|XML:/*"
	rules := []struct {
		id    int
		class string
		msg   string
	}{
		{idSSRFMetadata, "metadata", "points at a cloud metadata service"},
		{idSSRFLinkLoc, "link-local", "points at a link-local address"},
		{idSSRFLoopback, "loopback", "points at a loopback or unspecified address"},
		{idSSRFDNS, "dns", "names a host that resolves to a metadata, link-local or loopback address"},
	}
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "SecRule %s \"@%s %s %s\" \"id:%d,phase:2,deny,status:403,log,t:none,t:urlDecodeUni,"+
			"msg:'Seawall: SSRF: request parameter %s',logdata:'%%{MATCHED_VAR_NAME}=%%{MATCHED_VAR}',"+
			"tag:'seawall',tag:'seawall/ssrf',tag:'attack-ssrf',severity:'CRITICAL'\"\n",
			targets, ssrfOperator, token, r.class, r.id, r.msg)
	}
	// A body no parser understood (text/plain, or no Content-Type) is
	// searched whole. Parsed bodies are covered through ARGS, where
	// exclusions per parameter apply.
	fmt.Fprintf(&b, "SecRule REQBODY_PROCESSOR \"!@rx ^(?:URLENCODED|MULTIPART|JSON|XML)$\" \"id:%d,phase:2,deny,status:403,log,t:none,"+
		"msg:'Seawall: SSRF: request body points at a metadata, link-local or loopback address',logdata:'%%{MATCHED_VAR}',"+
		"tag:'seawall',tag:'seawall/ssrf',tag:'attack-ssrf',severity:'CRITICAL',chain\"\n"+
		"    SecRule REQUEST_BODY \"@%s %s any\" \"t:none,t:urlDecodeUni\"\n", idSSRFBody, ssrfOperator, token)
	return b.String(), token
}

// errRefusedDial is returned when the proxy's own connection would reach a
// metadata, link-local or loopback address.
var errRefusedDial = errors.New("refused: upstream address is a metadata, link-local or loopback address")

// dialControl is the net.Dialer Control function for upstream connections.
// It runs on the address actually dialled, after DNS, so a name that
// resolves (or re-resolves) to a metadata address is refused too. Loopback
// is allowed only when the configured upstream is itself loopback.
func dialControl(allowLoopback bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			host = address
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("%w: %q", errRefusedDial, address)
		}
		switch classifyAddr(a) {
		case classNone:
			return nil
		case classLoopback:
			if allowLoopback {
				return nil
			}
		}
		return fmt.Errorf("%w: %s", errRefusedDial, address)
	}
}

// isLoopbackHost reports whether an upstream host is loopback by itself:
// an address in 127.0.0.0/8 or ::1, or "localhost".
func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}
