package match

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/osv"
)

func ev(kind, v string) osv.Event {
	switch kind {
	case "i":
		return osv.Event{Introduced: v}
	case "f":
		return osv.Event{Fixed: v}
	case "la":
		return osv.Event{LastAffected: v}
	}
	return osv.Event{Limit: v}
}

func rng(typ string, evs ...osv.Event) osv.Range { return osv.Range{Type: typ, Events: evs} }

// The examples of the OSV schema's evaluation section, and the corners of
// its algorithm.
func TestEvaluate(t *testing.T) {
	type check struct {
		version string
		want    bool
		fixed   []string
	}
	tests := []struct {
		name     string
		ordering string
		affected osv.Affected
		checks   []check
	}{
		{
			name:     "spec: every version affected",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"))}},
			checks:   []check{{"0.0.1", true, nil}, {"99.0.0", true, nil}},
		},
		{
			name:     "spec: everything before 1.0.2",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"), ev("f", "1.0.2"))}},
			checks:   []check{{"1.0.1", true, []string{"1.0.2"}}, {"1.0.2", false, nil}, {"1.0.2-rc.1", true, []string{"1.0.2"}}},
		},
		{
			name:     "spec: multiple ranges in one events list",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "1.0.0"), ev("f", "1.0.2"), ev("i", "3.0.0"), ev("f", "3.2.5"))}},
			checks: []check{
				{"0.9.0", false, nil}, {"1.0.0", true, []string{"1.0.2", "3.2.5"}}, {"1.0.2", false, nil},
				{"2.9.9", false, nil}, {"3.0.0", true, []string{"3.2.5"}}, {"3.2.4", true, []string{"3.2.5"}}, {"3.2.5", false, nil},
			},
		},
		{
			name:     "spec: events in any order are sorted",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("f", "3.2.5"), ev("i", "3.0.0"), ev("f", "1.0.2"), ev("i", "1.0.0"))}},
			checks:   []check{{"1.0.1", true, []string{"1.0.2", "3.2.5"}}, {"2.0.0", false, nil}, {"3.1.0", true, []string{"3.2.5"}}},
		},
		{
			name:     "spec: last_affected is inclusive",
			ordering: "PyPI",
			affected: osv.Affected{Ranges: []osv.Range{rng("ECOSYSTEM", ev("i", "0"), ev("la", "2.1.214"))}},
			checks:   []check{{"2.1.214", true, nil}, {"2.1.215", false, nil}, {"1.0", true, nil}},
		},
		{
			name:     "spec: fixed is exclusive",
			ordering: "PyPI",
			affected: osv.Affected{Ranges: []osv.Range{rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.1.214"))}},
			checks:   []check{{"2.1.214", false, nil}, {"2.1.213", true, []string{"2.1.214"}}},
		},
		{
			name:     "limit: only versions before a limit",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "1.0.0"), ev("l", "2.0.0"))}},
			checks:   []check{{"1.5.0", true, nil}, {"2.0.0", false, nil}, {"0.5.0", false, nil}},
		},
		{
			name:     "limit: several limits, one star",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "1.0.0"), ev("l", "2.0.0"), ev("l", "*"))}},
			checks:   []check{{"5.0.0", true, nil}},
		},
		{
			name:     "a new range starting where the last one was fixed",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"), ev("f", "1.0.0"), ev("i", "1.0.0"), ev("f", "2.0.0"))}},
			checks:   []check{{"1.0.0", true, []string{"2.0.0"}}, {"2.0.0", false, nil}},
		},
		{
			name:     "an empty range",
			ordering: "npm",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "1.0.0"), ev("f", "1.0.0"))}},
			checks:   []check{{"1.0.0", false, nil}},
		},
		{
			name:     "two ranges: either",
			ordering: "Debian:12",
			affected: osv.Affected{Ranges: []osv.Range{
				rng("ECOSYSTEM", ev("i", "0"), ev("f", "1.2-1")),
				rng("ECOSYSTEM", ev("i", "2.0-1"), ev("f", "2.0-3")),
			}},
			checks: []check{{"1.1-9", true, []string{"1.2-1"}}, {"1.5-1", false, nil}, {"2.0-2", true, []string{"2.0-3"}}},
		},
		{
			name:     "dpkg epochs and tildes",
			ordering: "Debian:12",
			affected: osv.Affected{Ranges: []osv.Range{rng("ECOSYSTEM", ev("i", "0"), ev("f", "1:1.2.13.dfsg-1"))}},
			checks:   []check{{"1:1.2.13.dfsg-1~bpo1", true, []string{"1:1.2.13.dfsg-1"}}, {"1.2.14-1", true, []string{"1:1.2.13.dfsg-1"}}, {"1:1.2.13.dfsg-1", false, nil}},
		},
		{
			name:     "rpm epochs: explicit on one side",
			ordering: "AlmaLinux:8",
			affected: osv.Affected{Ranges: []osv.Range{rng("ECOSYSTEM", ev("i", "0"), ev("f", "1:1.1.1k-6.el8_5"))}},
			checks: []check{
				{"1:1.1.1k-4.el8", true, []string{"1:1.1.1k-6.el8_5"}},
				{"1.1.1k-9.el8", true, []string{"1:1.1.1k-6.el8_5"}}, // epoch 0 < 1
				{"1:1.1.1k-6.el8_5", false, nil},
				{"2:1.0-1.el8", false, nil},
			},
		},
		{
			name:     "rpm epochs: 0 written or not is the same",
			ordering: "Red Hat:enterprise_linux:8::appstream",
			affected: osv.Affected{Ranges: []osv.Range{rng("ECOSYSTEM", ev("i", "0"), ev("f", "0:5.4.1-1.module+el8.5.0+10613+59a13ec4"))}},
			checks:   []check{{"5.4.1-1.module+el8.5.0+10613+59a13ec4", false, nil}, {"5.3.1-1.el8", true, []string{"0:5.4.1-1.module+el8.5.0+10613+59a13ec4"}}},
		},
		{
			name:     "Go pseudo-versions and prereleases",
			ordering: "Go",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"), ev("f", "0.0.0-20220314234659-1baeb1ce4c0b"))}},
			checks:   []check{{"0.0.0-20210817142637-7d9622a276b7", true, []string{"0.0.0-20220314234659-1baeb1ce4c0b"}}, {"0.1.0", false, nil}},
		},
		{
			name:     "Go stdlib branches",
			ordering: "Go",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"), ev("f", "1.21.12"), ev("i", "1.22.0-0"), ev("f", "1.22.5"))}},
			checks: []check{
				{"1.19.0", true, []string{"1.21.12", "1.22.5"}}, {"1.21.12", false, nil}, {"1.22.0-rc.1", true, []string{"1.22.5"}},
				{"1.22.4", true, []string{"1.22.5"}}, {"1.22.5", false, nil},
			},
		},
		{
			name:     "versions list only",
			ordering: "PyPI",
			affected: osv.Affected{Versions: []string{"1.0", "1.1"}},
			checks:   []check{{"1.1", true, nil}, {"1.2", false, nil}, {"1.0.0", true, nil}}, // PEP 440: 1.0 == 1.0.0
		},
		{
			name:     "versions list is exact outside PyPI",
			ordering: "npm",
			affected: osv.Affected{Versions: []string{"1.0.0"}},
			checks:   []check{{"1.0.0", true, nil}, {"1.0.0+build", false, nil}},
		},
		{
			name:     "versions list hit gives the fixes after it",
			ordering: "PyPI",
			affected: osv.Affected{
				Versions: []string{"0.9"},
				Ranges:   []osv.Range{rng("GIT", ev("i", "0"), ev("f", "abcdef")), rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.5"))},
			},
			checks: []check{{"0.9", true, []string{"1.5"}}},
		},
		{
			name:     "GIT ranges count only through versions",
			ordering: "PyPI",
			affected: osv.Affected{Ranges: []osv.Range{rng("GIT", ev("i", "0"), ev("f", "abcdef"))}},
			checks:   []check{{"1.0", false, nil}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.checks {
				var warnings []string
				got := evaluate(&tt.affected, newInstalled(tt.ordering, c.version), func(s string) { warnings = append(warnings, s) })
				if got.affected != c.want {
					t.Errorf("%s: affected = %v, want %v", c.version, got.affected, c.want)
				}
				if diff := cmp.Diff(c.fixed, got.fixed); diff != "" {
					t.Errorf("%s: fixed (-want +got):\n%s", c.version, diff)
				}
				if len(warnings) > 0 {
					t.Errorf("%s: warnings %q", c.version, warnings)
				}
			}
		})
	}
}

// A range that cannot be evaluated is skipped with a warning, never
// guessed at; the rest of the entry still counts.
func TestEvaluateSkipsWhatItCannotOrder(t *testing.T) {
	tests := []struct {
		name     string
		ordering string
		version  string
		affected osv.Affected
		want     bool
		warning  string
	}{
		{
			name: "unparseable event", ordering: "npm", version: "1.0.0",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"), ev("f", "not a version"))}},
			warning:  `fixed "not a version" cannot be ordered as SEMVER`,
		},
		{
			name: "unparseable installed version", ordering: "Go", version: "(devel)",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", ev("i", "0"))}},
			warning:  `installed version "(devel)" cannot be ordered as SEMVER`,
		},
		{
			name: "unknown range type", ordering: "npm", version: "1.0.0",
			affected: osv.Affected{Ranges: []osv.Range{{Type: "CALVER", Events: []osv.Event{{Introduced: "0"}}}}},
			warning:  `range type "CALVER"`,
		},
		{
			name: "event with two versions", ordering: "npm", version: "1.0.0",
			affected: osv.Affected{Ranges: []osv.Range{rng("SEMVER", osv.Event{Introduced: "0", Fixed: "2.0.0"})}},
			warning:  "event 0 has 2 versions set",
		},
		{
			name: "bad range skipped, good range still counts", ordering: "npm", version: "1.0.0",
			affected: osv.Affected{Ranges: []osv.Range{
				rng("SEMVER", ev("i", "0"), ev("f", "x.y")),
				rng("SEMVER", ev("i", "0"), ev("f", "2.0.0")),
			}},
			want:    true,
			warning: `fixed "x.y"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			got := evaluate(&tt.affected, newInstalled(tt.ordering, tt.version), func(s string) { warnings = append(warnings, s) })
			if got.affected != tt.want {
				t.Errorf("affected = %v, want %v", got.affected, tt.want)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.warning)
			}
		})
	}
}

// FuzzEvaluate feeds arbitrary range events and versions through the
// evaluation in several orderings: it must never panic, and a version equal
// to a range's only fixed event is never affected by that range.
func FuzzEvaluate(f *testing.F) {
	f.Add("0", "1.0.2", "", "1.0.1", "SEMVER", "npm")
	f.Add("1:1.0-1", "1:1.0-2", "", "1:1.0-1", "ECOSYSTEM", "Debian:12")
	f.Add("0", "", "2.1.214", "2.1.214", "ECOSYSTEM", "PyPI")
	f.Add("0", "1:1.1.1k-6.el8_5", "", "1.1.1k-4.el8", "ECOSYSTEM", "AlmaLinux:8")
	f.Add("", "", "", "", "GIT", "Go")
	f.Fuzz(func(t *testing.T, introduced, fixed, lastAffected, v, typ, ordering string) {
		a := osv.Affected{Versions: []string{v, fixed}, Ranges: []osv.Range{{Type: typ, Events: []osv.Event{
			{Introduced: introduced}, {Fixed: fixed}, {LastAffected: lastAffected}, {Limit: "*"},
		}}}}
		in := newInstalled(ordering, v)
		_ = evaluate(&a, in, func(string) {})
		only := osv.Affected{Ranges: []osv.Range{{Type: typ, Events: []osv.Event{{Introduced: "0"}, {Fixed: fixed}}}}}
		if fixed != "" {
			if ev := evaluate(&only, newInstalled(ordering, fixed), func(string) {}); ev.affected {
				t.Fatalf("%s %s: the fixed version %q is affected", ordering, typ, fixed)
			}
		}
	})
}
