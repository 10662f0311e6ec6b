// Package severity scores CVSS vectors (v2.0, v3.0, v3.1 and v4.0 base
// scores) and decides a finding's severity from the OSV records behind it,
// saying which source it used.
package severity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
)

// Where a finding's severity came from, as Finding.SeveritySource says it.
const (
	SourceCVSSv4    = "CVSS_V4"
	SourceCVSSv3    = "CVSS_V3"
	SourceCVSSv2    = "CVSS_V2"
	SourceDatabase  = "database_specific"
	SourceEcosystem = "ecosystem_specific"
	SourceNone      = "none"
)

// ErrInvalidVector is returned, wrapped, for a vector that is not a valid
// CVSS v2.0, v3.0, v3.1 or v4.0 vector.
var ErrInvalidVector = errors.New("invalid CVSS vector")

// maxVector bounds what is parsed; the longest valid v4.0 vector, with
// every optional metric, is under 200 bytes.
const maxVector = 512

// Score returns the base score of a CVSS vector and its OSV severity type
// ("CVSS_V2", "CVSS_V3" or "CVSS_V4"). The version comes from the vector's
// prefix: "CVSS:4.0/", "CVSS:3.1/", "CVSS:3.0/"; a vector without one is
// v2.0, which may also be written with NVD's parentheses or a "CVSS:2.0/"
// prefix. Temporal, threat and environmental metrics must be valid but do
// not change the score. An invalid vector returns an error wrapping
// ErrInvalidVector; no input panics.
func Score(vector string) (score float64, typ string, err error) {
	v := strings.TrimSpace(vector)
	if len(v) > maxVector {
		return 0, "", fmt.Errorf("%w: %d bytes is too long", ErrInvalidVector, len(v))
	}
	defer func() {
		// go-cvss panics on a few states it considers unreachable; an
		// untrusted vector must never take the scan down.
		if r := recover(); r != nil {
			score, typ, err = 0, "", fmt.Errorf("%w %q: %v", ErrInvalidVector, clip(v), r)
		}
	}()
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		m, err := parseV4(v)
		if err != nil {
			return 0, "", fmt.Errorf("%w: %v", ErrInvalidVector, err)
		}
		return scoreV4(m), osv.SeverityCVSSv4, nil
	case strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := cvss31.ParseVector(v)
		if err != nil {
			return 0, "", fmt.Errorf("%w %q: %v", ErrInvalidVector, clip(v), err)
		}
		return c.BaseScore(), osv.SeverityCVSSv3, nil
	case strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := cvss30.ParseVector(v)
		if err != nil {
			return 0, "", fmt.Errorf("%w %q: %v", ErrInvalidVector, clip(v), err)
		}
		return c.BaseScore(), osv.SeverityCVSSv3, nil
	case strings.HasPrefix(v, "CVSS:"):
		if !strings.HasPrefix(v, "CVSS:2.0/") {
			return 0, "", fmt.Errorf("%w %q: unknown CVSS version", ErrInvalidVector, clip(v))
		}
	}
	v2 := strings.TrimPrefix(v, "CVSS:2.0/")
	if strings.HasPrefix(v2, "(") && strings.HasSuffix(v2, ")") {
		v2 = v2[1 : len(v2)-1]
	}
	c, err := cvss20.ParseVector(v2)
	if err != nil {
		return 0, "", fmt.Errorf("%w %q: %v", ErrInvalidVector, clip(v), err)
	}
	return c.BaseScore(), osv.SeverityCVSSv2, nil
}

// Level maps a base score to its qualitative rating. CVSS v3 and v4 use
// FIRST's ranges (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0
// critical); CVSS v2 uses NVD's (0.0-3.9 low, 4.0-6.9 medium, 7.0-10.0
// high). A v3 or v4 score of 0.0 is rated "none", which Seawall reports as
// low, as it reports a distro's "negligible".
func Level(typ string, score float64) inventory.Severity {
	switch {
	case score >= 9.0 && typ != osv.SeverityCVSSv2:
		return inventory.SeverityCritical
	case score >= 7.0:
		return inventory.SeverityHigh
	case score >= 4.0:
		return inventory.SeverityMedium
	}
	return inventory.SeverityLow
}

// Record is one OSV record that matched a package, with the affected
// entries of it that matched.
type Record struct {
	Vuln     *osv.Vulnerability
	Affected []*osv.Affected
}

// Result is a finding's severity and where it came from.
type Result struct {
	Severity inventory.Severity
	Source   string // a Source* constant
	// Score and Vector are set when Source is a CVSS version.
	Score  float64
	Vector string
}

// Pick decides the severity of a finding from its records, given most
// relevant first (the record of the finding's primary ID, then the rest).
// It prefers a CVSS v4.0 vector, then v3.x, then v2.0, looking in each
// record first at the matched affected entries' severity and then at the
// record's own. Without a valid vector it takes a database_specific
// severity word (GitHub's "MODERATE" and the like), then an ecosystem's
// own one: an Ubuntu priority, or a "severity", "urgency" or "priority" in
// ecosystem_specific. Invalid vectors and unknown words are skipped, so
// the next source is used. With nothing usable, Source is "none".
func Pick(recs []Record) Result {
	for _, want := range []string{osv.SeverityCVSSv4, osv.SeverityCVSSv3, osv.SeverityCVSSv2} {
		for _, r := range recs {
			if r.Vuln == nil {
				continue
			}
			for _, sevs := range severityLists(r) {
				for _, s := range sevs {
					if !strings.HasPrefix(s.Type, "CVSS_") {
						continue
					}
					score, typ, err := Score(s.Score)
					if err != nil || typ != want {
						continue
					}
					return Result{Severity: Level(typ, score), Source: typ, Score: score, Vector: strings.TrimSpace(s.Score)}
				}
			}
		}
	}
	for _, r := range recs {
		if r.Vuln == nil {
			continue
		}
		for _, a := range r.Affected {
			if s, ok := word(a.DatabaseSpecific, "severity"); ok {
				return Result{Severity: s, Source: SourceDatabase}
			}
		}
		if s, ok := word(r.Vuln.DatabaseSpecific, "severity"); ok {
			return Result{Severity: s, Source: SourceDatabase}
		}
	}
	for _, r := range recs {
		if r.Vuln == nil {
			continue
		}
		for _, sevs := range severityLists(r) {
			for _, s := range sevs {
				if strings.EqualFold(s.Type, osv.SeverityUbuntu) {
					if v, err := inventory.ParseSeverity(s.Score); err == nil && v != inventory.SeverityUnknown {
						return Result{Severity: v, Source: SourceEcosystem}
					}
				}
			}
		}
		for _, a := range r.Affected {
			for _, k := range []string{"severity", "urgency", "priority"} {
				if s, ok := word(a.EcosystemSpecific, k); ok {
					return Result{Severity: s, Source: SourceEcosystem}
				}
			}
		}
	}
	return Result{Severity: inventory.SeverityUnknown, Source: SourceNone}
}

// severityLists returns the severity lists of a record in the order they
// are consulted: the matched affected entries', then the record's.
func severityLists(r Record) [][]osv.Severity {
	out := make([][]osv.Severity, 0, len(r.Affected)+1)
	for _, a := range r.Affected {
		if a != nil && len(a.Severity) > 0 {
			out = append(out, a.Severity)
		}
	}
	if len(r.Vuln.Severity) > 0 {
		out = append(out, r.Vuln.Severity)
	}
	return out
}

// word reads a severity word from key in a JSON object; it reports false
// for anything that is not a known, definite severity.
func word(raw json.RawMessage, key string) (inventory.Severity, bool) {
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"`+key+`"`)) {
		return 0, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return 0, false
	}
	var s string
	if json.Unmarshal(m[key], &s) != nil {
		return 0, false
	}
	v, err := inventory.ParseSeverity(s)
	if err != nil || v == inventory.SeverityUnknown {
		return 0, false
	}
	return v, true
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
