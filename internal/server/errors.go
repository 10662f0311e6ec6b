package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/store"
)

// HTTPError is an error with the response it should become: the client
// sees Msg under Code, and the log records Err.
type HTTPError struct {
	Status int
	Code   string // machine-readable, as the OCI spec's error codes
	Msg    string
	Err    error
}

func (e *HTTPError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *HTTPError) Unwrap() error { return e.Err }

// Error codes of the API, in the same JSON shape as the registry's.
const (
	codeUnauthorized = "UNAUTHORIZED"
	codeDenied       = "DENIED"
	codeNotFound     = "NOT_FOUND"
	codeConflict     = "CONFLICT"
	codeInvalid      = "INVALID"
	codeTooMany      = "TOOMANYREQUESTS"
	codeUnknown      = "UNKNOWN"
)

func errf(status int, code, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *HTTPError {
	return errf(http.StatusBadRequest, codeInvalid, format, args...)
}

// handlerFunc is every API handler: it writes success itself and returns
// an error for render to turn into a response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to http.Handler, rendering its error.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.render(w, r, err)
		}
	})
}

// render is the one place API errors become responses.
func (s *Server) render(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he *HTTPError
		rl *auth.RateLimitedError
	)
	switch {
	case errors.As(err, &he):
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		he = &HTTPError{Status: http.StatusTooManyRequests, Code: codeTooMany, Msg: rl.Error()}
	case errors.Is(err, auth.ErrUnauthenticated):
		he = &HTTPError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Msg: auth.ErrUnauthenticated.Error(), Err: err}
	case errors.Is(err, auth.ErrDenied):
		he = &HTTPError{Status: http.StatusForbidden, Code: codeDenied, Msg: err.Error()}
	case errors.Is(err, auth.ErrBadTokenRequest):
		he = &HTTPError{Status: http.StatusBadRequest, Code: codeInvalid, Msg: err.Error()}
	case errors.Is(err, registry.ErrGCRunning):
		he = &HTTPError{Status: http.StatusConflict, Code: codeConflict, Msg: "garbage collection is already running; try again when it has finished"}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client went away
	default:
		he = &HTTPError{Status: http.StatusInternalServerError, Code: codeUnknown, Msg: "internal server error (request " + info(r).id + ")", Err: err}
	}
	if he.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="seawall"`)
	}
	level := slog.LevelDebug
	if he.Status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "id", info(r).id, "method", r.Method, "path", r.URL.Path,
		"status", he.Status, "code", he.Code, "msg", he.Msg, "err", he.Err)
	writeErrorBody(w, he.Status, he.Code, he.Msg)
}

// writeErrorBody writes {"errors":[{"code":…,"message":…}]}, the OCI
// distribution spec's error shape, which the API uses too.
func writeErrorBody(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// notFoundOr maps store.ErrNotFound to a 404 with msg and store.ErrExists
// and store.ErrConflict to 409; other errors pass through.
func notFoundOr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &HTTPError{Status: http.StatusNotFound, Code: codeNotFound, Msg: msg, Err: err}
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict):
		return &HTTPError{Status: http.StatusConflict, Code: codeConflict, Msg: msg, Err: err}
	}
	return err
}
