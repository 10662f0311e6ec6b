package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"github.com/seawall-dev/seawall/internal/auth"
)

// healthz says the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the server can do its work: the store answers and
// the blob directory takes writes. Failures are logged, not shown.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "blobs": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readyz: store", "err", err)
		checks["store"], status = "failing", http.StatusServiceUnavailable
	}
	if err := writable(filepath.Join(s.blobDir, "uploads")); err != nil {
		s.log.Warn("readyz: blob storage", "err", err)
		checks["blobs"], status = "failing", http.StatusServiceUnavailable
	}
	body := map[string]any{"status": "ready", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	return writeJSON(w, status, body)
}

// metricsHandler serves Prometheus metrics to system admins, or to anyone
// when metrics.anonymous is set.
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Metrics.Anonymous {
		p, err := s.principal(r)
		if err != nil {
			return err
		}
		if !p.SystemAdmin() {
			return errf(http.StatusForbidden, codeDenied, "/metrics needs a system admin's credentials (or set metrics.anonymous: true)")
		}
	}
	s.metrics.handler().ServeHTTP(w, r)
	return nil
}

// token is the Docker registry token service.
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.auth.IssueToken(r)
	if errors.Is(err, auth.ErrUnauthenticated) {
		w.Header().Set("WWW-Authenticate", `Basic realm="seawall"`)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxBody bounds every API request body.
const maxBody = 64 << 10

// readJSON decodes the request body into v, refusing unknown fields,
// trailing data and bodies over maxBody.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, codeInvalid, "request body is larger than %d bytes", maxBody)
		}
		return badRequest("request body is not the JSON this endpoint takes: %v", err)
	}
	if dec.More() {
		return badRequest("request body has data after the JSON object")
	}
	return nil
}
