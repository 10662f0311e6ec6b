package waf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/corazawaf/coraza/v3/types"
)

// Event actions.
const (
	ActionBlocked  = "blocked"  // refused in block mode
	ActionDetected = "detected" // matched, let through (detect mode, or below the threshold)
)

// Event is one line of the event log: what a request matched and what the
// WAF did about it. It is written as one JSON object per line.
type Event struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Client    string    `json:"client"`
	Method    string    `json:"method"`
	URI       string    `json:"uri"`
	Host      string    `json:"host,omitempty"`
	Action    string    `json:"action"`
	// WouldBlock is set in detect mode when block mode would have refused
	// the request.
	WouldBlock bool   `json:"would_block,omitempty"`
	Status     int    `json:"status"`
	Mode       string `json:"mode"`
	RuleIDs    []int  `json:"rule_ids"`
	// AnomalyScore holds the CRS inbound and outbound anomaly scores.
	AnomalyScore AnomalyScore `json:"anomaly_score"`
	Rules        []RuleMatch  `json:"rules"`
}

// AnomalyScore is the CRS blocking anomaly score of a request.
type AnomalyScore struct {
	Inbound  int `json:"inbound"`
	Outbound int `json:"outbound"`
}

// RuleMatch is one rule that matched. Log is the match in the
// ModSecurity error-log form, with its [id "N"] entry, which is what
// go-ftw and other CRS tooling look for.
type RuleMatch struct {
	ID       int      `json:"id"`
	Msg      string   `json:"msg,omitempty"`
	Data     string   `json:"data,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Log      string   `json:"log"`
}

func ruleMatch(mr types.MatchedRule) RuleMatch {
	r := mr.Rule()
	m := RuleMatch{ID: r.ID(), Msg: mr.Message(), Data: truncate(mr.Data(), 512), Log: mr.ErrorLog()}
	if r.Severity() >= 0 {
		m.Severity = r.Severity().String()
	}
	for _, t := range r.Tags() {
		if strings.HasPrefix(t, "seawall") || strings.HasPrefix(t, "attack-") || strings.HasPrefix(t, "paranoia-level/") {
			m.Tags = append(m.Tags, t)
		}
	}
	return m
}

// guardMatch is a match by one of the guards that run outside the engine
// (rate and body size limits), in the same form as an engine match.
func guardMatch(id int, msg, data, reqID, client, uri string) RuleMatch {
	return RuleMatch{
		ID:       id,
		Msg:      msg,
		Data:     data,
		Severity: "critical",
		Tags:     []string{"seawall"},
		Log: fmt.Sprintf(`[client %q] Seawall: Access denied. [file "seawall"] [line "0"] [id "%d"] [rev ""] [msg %q] [data %q] [severity "critical"] [ver "seawall"] [maturity "0"] [accuracy "0"] [tag "seawall"] [hostname ""] [uri %q] [unique_id %q]`,
			client, id, msg, data, uri, reqID),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (e *Event) finish() {
	seen := map[int]bool{}
	for _, r := range e.Rules {
		if !seen[r.ID] {
			seen[r.ID] = true
			e.RuleIDs = append(e.RuleIDs, r.ID)
		}
	}
	sort.Ints(e.RuleIDs)
	if e.RuleIDs == nil {
		e.RuleIDs = []int{}
	}
	if e.Rules == nil {
		e.Rules = []RuleMatch{}
	}
}

// eventLog writes events, one JSON line each, to a file or standard
// output. Reopen supports log rotation on SIGHUP.
type eventLog struct {
	mu   sync.Mutex
	path string
	w    io.Writer
	f    *os.File
}

func openEventLog(path string, stdout io.Writer) (*eventLog, error) {
	l := &eventLog{path: path}
	if path == "-" || path == "" {
		l.w = stdout
		return l, nil
	}
	if err := l.Reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Reopen opens the log file again, so a rotated file is let go.
func (l *eventLog) Reopen() error {
	if l.path == "-" || l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f, l.w = f, f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (l *eventLog) write(e *Event) error {
	// Matched data is kept as it was, not HTML-escaped, so that log
	// readers (and go-ftw's match_regex checks) see "<script>", not
	// "\u003cscript\u003e".
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(b.Bytes())
	return err
}

func (l *eventLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}
