package waf

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/corazawaf/coraza/v3/types"
)

// respWriter runs the response through the engine on its way to the
// client. Headers are inspected when the upstream sends them. A body of an
// inspected MIME type is held, up to response_body_bytes, until the engine
// has seen it, so a leak can still be refused; past that limit, what was
// held is inspected and sent, and the rest streams through. Other bodies
// stream at once.
type respWriter struct {
	w        http.ResponseWriter
	tx       types.Transaction
	proto    string
	reqID    string
	idHeader string

	status      int
	wroteHeader bool // the handler called WriteHeader
	sentHeader  bool // the status line went to the client
	holding     bool // the body is being held for inspection
	bodyDone    bool // phase 4 has run
	refused     bool
	hijacked    bool
}

// WriteHeader inspects the response headers.
func (i *respWriter) WriteHeader(code int) {
	if i.wroteHeader || i.refused {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		i.w.WriteHeader(code) // 103 Early Hints and the like pass through
		return
	}
	i.wroteHeader = true
	i.status = code
	for k, vs := range i.w.Header() {
		for _, v := range vs {
			i.tx.AddResponseHeader(k, v)
		}
	}
	if it := i.tx.ProcessResponseHeaders(code, i.proto); it != nil {
		i.refuse(it)
		return
	}
	i.holding = code != http.StatusSwitchingProtocols && i.tx.IsResponseBodyAccessible() && i.tx.IsResponseBodyProcessable()
	if !i.holding {
		i.sendHeader()
	}
}

func (i *respWriter) sendHeader() {
	if !i.sentHeader {
		i.sentHeader = true
		i.w.WriteHeader(i.status)
	}
}

// refuse replaces the response with a refusal, if nothing has been sent.
func (i *respWriter) refuse(it *types.Interruption) {
	i.refused = true
	if i.sentHeader {
		return
	}
	h := i.w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set(i.idHeader, i.reqID)
	i.status = interruptionStatus(it)
	i.sentHeader = true
	writeInterruption(i.w, it, i.reqID)
}

func (i *respWriter) Header() http.Header { return i.w.Header() }

func (i *respWriter) Write(b []byte) (int, error) {
	if !i.wroteHeader {
		i.WriteHeader(http.StatusOK)
	}
	if i.refused {
		return len(b), nil
	}
	if i.holding {
		it, n, err := i.tx.WriteResponseBody(b)
		if it != nil {
			i.refuse(it)
			return len(b), nil
		}
		if err != nil || n == len(b) {
			return n, err
		}
		// The inspection limit is reached: judge what is held, send it,
		// and stream the rest.
		if !i.release() {
			return len(b), nil
		}
		m, err := i.w.Write(b[n:])
		return n + m, err
	}
	i.sendHeader()
	return i.w.Write(b)
}

// release runs phase 4 on the held body and sends it. It reports false if
// the engine refused the response.
func (i *respWriter) release() bool {
	i.holding = false
	if !i.bodyDone {
		i.bodyDone = true
		it, err := i.tx.ProcessResponseBody()
		if it != nil {
			i.refuse(it)
			return false
		}
		if err != nil {
			i.refuse(&types.Interruption{Action: "deny", Status: http.StatusBadGateway})
			return false
		}
	}
	i.sendHeader()
	if r, err := i.tx.ResponseBodyReader(); err == nil {
		_, _ = io.Copy(i.w, r)
	}
	return true
}

// finish completes the response after the upstream handler returns.
func (i *respWriter) finish() {
	if i.hijacked {
		return
	}
	if !i.wroteHeader {
		i.WriteHeader(http.StatusOK)
	}
	if i.refused {
		return
	}
	if i.holding {
		i.release()
		return
	}
	if !i.bodyDone {
		// The body has already gone out; phase 4 still runs so that its
		// matches are logged, but it can no longer refuse.
		i.bodyDone = true
		_, _ = i.tx.ProcessResponseBody()
	}
	i.sendHeader()
}

// Flush sends what the upstream has written, unless the body is held.
func (i *respWriter) Flush() {
	if !i.wroteHeader {
		i.WriteHeader(http.StatusOK)
	}
	if i.holding || i.refused {
		return
	}
	i.sendHeader()
	_ = http.NewResponseController(i.w).Flush()
}

// Hijack hands the connection over, as a WebSocket upgrade needs.
func (i *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(i.w).Hijack()
	if err == nil {
		i.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (i *respWriter) Unwrap() http.ResponseWriter { return i.w }

func (i *respWriter) wrapped() http.ResponseWriter { return i }

var (
	_ http.Flusher  = (*respWriter)(nil)
	_ http.Hijacker = (*respWriter)(nil)
)
