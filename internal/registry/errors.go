package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Error codes from the OCI distribution spec.
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	CodeUnknown             = "UNKNOWN" // not in the spec's list; used only for 500s
)

// Error is an error the registry returns to the client in the spec's JSON
// body. Err, when set, is logged and never shown.
type Error struct {
	Status  int
	Code    string
	Message string
	Detail  any
	Err     error
	// Header holds extra response headers (Range and Location on 416,
	// for instance).
	Header http.Header
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) with(err error) *Error {
	e.Err = err
	return e
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// handlerFunc is what every registry handler is: it writes a successful
// response itself and returns an error for serve to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request, req *request) error

// renderError writes err as the spec's error JSON. It is the only place
// that turns errors into responses.
func (reg *Registry) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		e  *Error
		pe *PolicyError
		ch challenger
		sc statusCoder
	)
	switch {
	case errors.As(err, &pe):
		e = pe.registryError()
	case errors.As(err, &e):
	case errors.As(err, &ch):
		w.Header().Set("WWW-Authenticate", ch.Header())
		e = newError(http.StatusUnauthorized, CodeUnauthorized, "authentication required").with(err)
	case errors.Is(err, ErrDenied), errors.As(err, &sc) && sc.StatusCode() == http.StatusForbidden:
		e = newError(http.StatusForbidden, CodeDenied, "requested access to the resource is denied").with(err)
	case errors.As(err, &sc) && sc.StatusCode() == http.StatusTooManyRequests:
		e = newError(http.StatusTooManyRequests, CodeTooManyRequests, sc.Error())
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.RetryAfter().Seconds()))))
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; there is nobody to answer.
		reg.log.DebugContext(r.Context(), "request canceled", "method", r.Method, "path", r.URL.Path)
		return
	default:
		e = newError(http.StatusInternalServerError, CodeUnknown, "internal server error").with(err)
	}
	level := slog.LevelDebug
	if e.Status >= 500 {
		level = slog.LevelError
	}
	reg.log.Log(r.Context(), level, "registry request failed",
		"method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "msg", e.Message, "err", e.Err)
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Code: e.Code, Message: e.Message, Detail: e.Detail}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
