package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrForbiddenTarget is returned for a webhook URL, or an address it
// resolves to, that Seawall refuses to call unless the server allows
// internal targets: loopback, link-local (which holds the cloud metadata
// services), unspecified, multicast and the known metadata addresses.
var ErrForbiddenTarget = errors.New("webhook target is a loopback, link-local or metadata address")

// metadata addresses outside the link-local ranges.
var metadata = []netip.Addr{
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// forbidden reports why a is refused, or "".
func forbidden(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local (cloud metadata lives here)"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, m := range metadata {
		if a == m {
			return "a cloud metadata service"
		}
	}
	return ""
}

// ParseURL checks a webhook URL's shape: http or https, a host, no user
// information (the secret signs deliveries; credentials in URLs leak into
// logs). When allowInternal is false it also refuses a literal address
// that is forbidden, and a host name that resolves to one (the dialer
// checks again on every delivery, against DNS rebinding).
func ParseURL(ctx context.Context, raw string, allowInternal bool, resolver *net.Resolver) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook URL %q does not parse: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("webhook URL %q: the scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("webhook URL %q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook URL %q carries credentials: remove them; receivers check the X-Seawall-Signature header instead", raw)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("webhook URL %q has a fragment (#…), which is never sent", raw)
	}
	if allowInternal {
		return u, nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if why := forbidden(a); why != "" {
			return nil, fmt.Errorf("%w: %s is %s; the server refuses such targets unless webhooks.allow_internal is set", ErrForbiddenTarget, host, why)
		}
		return u, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return nil, fmt.Errorf("%w: %s is loopback; the server refuses such targets unless webhooks.allow_internal is set", ErrForbiddenTarget, host)
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// It may resolve later (split DNS, a receiver not yet deployed):
		// the dialer checks every delivery.
		return u, nil
	}
	for _, a := range addrs {
		if why := forbidden(a); why != "" {
			return nil, fmt.Errorf("%w: %s resolves to %s, which is %s; the server refuses such targets unless webhooks.allow_internal is set", ErrForbiddenTarget, host, a, why)
		}
	}
	return u, nil
}

// dialControl refuses connections to forbidden addresses. It runs after
// name resolution, on the address actually dialled, so a name that
// resolves differently at delivery time (DNS rebinding) is still caught.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrForbiddenTarget, address)
	}
	if why := forbidden(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenTarget, ap.Addr(), why)
	}
	return nil
}
