package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/osv"
	"github.com/seawall-dev/seawall/internal/version"
)

// installed is a package version prepared for comparison in one ordering.
type installed struct {
	raw      string          // the version as compared ("1.2.3", Go's "v" dropped)
	ordering string          // ecosystem whose ordering applies ("Debian:12", "Go")
	parsed   version.Version // nil when the ordering rejects the version
	semver   version.Version // the version as SEMVER, for SEMVER ranges; nil when not SemVer
}

func newInstalled(ordering, v string) installed {
	in := installed{raw: v, ordering: ordering}
	in.parsed, _ = version.Parse(ordering, v)
	in.semver, _ = version.Parse(osv.RangeSemver, v)
	return in
}

// evaluation is what one affected entry says about one installed version.
type evaluation struct {
	affected bool
	// fixed lists the fixed events, later than the installed version, of
	// the ranges that put the version in (of every range of the entry when
	// only the versions list did).
	fixed []string
}

// evaluate applies the OSV evaluation algorithm
// (https://ossf.github.io/osv-schema/#evaluation) to one affected entry:
// the version is affected when the versions list holds it or any range
// contains it. A range that cannot be evaluated (a GIT range, an unknown
// type, an event or installed version its ordering rejects) is skipped;
// warn hears why, except for GIT ranges, which by design only contribute
// through the versions list.
func evaluate(a *osv.Affected, in installed, warn func(string)) evaluation {
	var ev evaluation
	listed := inVersions(a.Versions, in)
	var all []string // fixed events of every evaluable range
	for i := range a.Ranges {
		r := &a.Ranges[i]
		hit, fixed, ok := evalRange(r, in, warn)
		if !ok {
			continue
		}
		if hit {
			ev.affected = true
			ev.fixed = append(ev.fixed, fixed...)
		}
		if listed {
			all = append(all, fixedAfter(r, in)...)
		}
	}
	if listed && !ev.affected {
		ev.affected = true
		ev.fixed = all
	}
	return ev
}

// inVersions reports whether the versions list names the installed
// version. OSV's versions are exact strings; beyond string equality the
// only allowance is PEP 440's own equality for PyPI ("1.0" is "1.0.0"),
// which osv.dev applies too.
func inVersions(versions []string, in installed) bool {
	pypi := baseEcosystem(in.ordering) == "PyPI" && in.parsed != nil
	for _, v := range versions {
		if v == in.raw {
			return true
		}
		if pypi {
			if w, err := version.Parse(in.ordering, v); err == nil && in.parsed.Compare(w) == 0 {
				return true
			}
		}
	}
	return false
}

// event is one parsed range event.
type event struct {
	kind string // "introduced", "fixed", "last_affected" or "limit"
	raw  string
	v    version.Version // nil for introduced "0" and limit "*"
	pos  int             // index in the record, to keep ties in their written order
}

// evalRange evaluates one range. ok is false when the range cannot be
// evaluated; fixed lists its fixed events after the installed version when
// the range contains it.
func evalRange(r *osv.Range, in installed, warn func(string)) (hit bool, fixed []string, ok bool) {
	var cur version.Version
	ordering := in.ordering
	switch r.Type {
	case osv.RangeEcosystem:
		cur = in.parsed
	case osv.RangeSemver:
		cur, ordering = in.semver, osv.RangeSemver
	case osv.RangeGit:
		return false, nil, false
	default:
		warn(fmt.Sprintf("range type %q is not one OSV defines; the range was skipped", clip(r.Type)))
		return false, nil, false
	}
	if cur == nil {
		warn(fmt.Sprintf("installed version %q cannot be ordered as %s; its %s ranges were skipped", clip(in.raw), ordering, r.Type))
		return false, nil, false
	}
	events, err := parseEvents(r.Events, ordering)
	if err != nil {
		warn(err.Error() + "; the range was skipped")
		return false, nil, false
	}
	if !beforeLimits(events, cur) {
		return false, nil, true
	}
	vulnerable := false
	for _, e := range events {
		switch e.kind {
		case "introduced":
			if e.v == nil || cur.Compare(e.v) >= 0 {
				vulnerable = true
			}
		case "fixed":
			if cur.Compare(e.v) >= 0 {
				vulnerable = false
			}
		case "last_affected":
			if cur.Compare(e.v) > 0 {
				vulnerable = false
			}
		}
	}
	if !vulnerable {
		return false, nil, true
	}
	for _, e := range events {
		if e.kind == "fixed" && e.v.Compare(cur) > 0 {
			fixed = append(fixed, e.raw)
		}
	}
	return true, fixed, true
}

// parseEvents parses a range's events in an ordering and sorts them as
// the evaluation algorithm requires. Introduced "0" sorts before
// everything and limit "*" after; events at equal versions keep the order
// the record wrote them in, so that "fixed: 1.0, introduced: 1.0" (a new
// range starting where the old one ended) puts 1.0 back in, while
// "introduced: 1.0, fixed: 1.0" leaves the range empty.
func parseEvents(evs []osv.Event, ordering string) ([]event, error) {
	out := make([]event, 0, len(evs))
	for i, e := range evs {
		var kind, raw string
		n := 0
		for _, f := range [...]struct{ k, v string }{
			{"introduced", e.Introduced}, {"fixed", e.Fixed}, {"last_affected", e.LastAffected}, {"limit", e.Limit},
		} {
			if f.v != "" {
				kind, raw = f.k, f.v
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("event %d has %d versions set, not one", i, n)
		}
		ev := event{kind: kind, raw: raw, pos: i}
		switch {
		case kind == "introduced" && raw == "0":
		case kind == "limit" && raw == "*":
		default:
			v, err := version.Parse(ordering, raw)
			if err != nil {
				return nil, fmt.Errorf("%s %q cannot be ordered as %s", kind, clip(raw), ordering)
			}
			ev.v = v
		}
		out = append(out, ev)
	}
	sort.SliceStable(out, func(i, j int) bool { return eventLess(out[i], out[j]) })
	return out, nil
}

func eventLess(a, b event) bool {
	rank := func(e event) int {
		switch {
		case e.v == nil && e.kind == "introduced":
			return 0
		case e.v == nil:
			return 2
		}
		return 1
	}
	ra, rb := rank(a), rank(b)
	if ra != rb || ra != 1 {
		return ra < rb
	}
	return a.v.Compare(b.v) < 0
}

// beforeLimits is the algorithm's BeforeLimits: with no limit events the
// implicit limit is "*"; otherwise the version must sort before one.
func beforeLimits(events []event, cur version.Version) bool {
	seen := false
	for _, e := range events {
		if e.kind != "limit" {
			continue
		}
		seen = true
		if e.v == nil || cur.Compare(e.v) < 0 {
			return true
		}
	}
	return !seen
}

// fixedAfter returns a range's fixed events that sort after the installed
// version, for an entry that matched through its versions list.
func fixedAfter(r *osv.Range, in installed) []string {
	cur, ordering := in.parsed, in.ordering
	if r.Type == osv.RangeSemver {
		cur, ordering = in.semver, osv.RangeSemver
	} else if r.Type != osv.RangeEcosystem {
		return nil
	}
	if cur == nil {
		return nil
	}
	var out []string
	for _, e := range r.Events {
		if e.Fixed == "" {
			continue
		}
		if v, err := version.Parse(ordering, e.Fixed); err == nil && v.Compare(cur) > 0 {
			out = append(out, e.Fixed)
		}
	}
	return out
}

// baseEcosystem is the ecosystem name without its ":" suffix.
func baseEcosystem(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	return base
}

// clip shortens untrusted text quoted in a message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
