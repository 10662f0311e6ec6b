package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/console"
	"github.com/seawall-dev/seawall/internal/events"
)

// newConsole builds the web console over the server's store, auth, scan
// results, verdicts and signature checker. Call it after initScanner and
// initTrust.
func (s *Server) newConsole() (http.Handler, error) {
	ttl := 12 * time.Hour
	if t := s.cfg.Auth.APITokenTTL; t > 0 && t < ttl {
		ttl = t
	}
	o := console.Options{
		Store:         s.store,
		Auth:          s.auth,
		Scans:         s.store,
		Verdicts:      s,
		SessionTTL:    ttl,
		SecureCookies: strings.HasPrefix(s.cfg.ExternalURL, "https://"),
		OnUser:        func(r *http.Request, name string) { info(r).user = name },
		OnLogin: func(ctx context.Context, name, ip string) {
			s.Emit(ctx, events.Event{Kind: events.KindLogin, Actor: name, Detail: map[string]string{"ip": ip, "via": "console"}})
		},
		Version: buildinfo.Version(),
		Logger:  s.log.With("component", "console"),
		Now:     s.cfg.Now,
	}
	if s.trust != nil && s.trust.sigs != nil {
		o.Signatures = s.trust.sigs
	}
	return console.New(o)
}
