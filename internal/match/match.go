// Package match finds the known vulnerabilities of an inventory's packages
// in OSV advisories: it maps each package to its OSV ecosystem, taking the
// distro into account, evaluates the advisories' affected versions by that
// ecosystem's ordering, and folds the records of one vulnerability into
// one finding per package.
//
// # Packages to ecosystems
//
//   - deb: "Debian:<major>" from the os-release VERSION_ID ("12"; a
//     codename when there is none), "Ubuntu:<VERSION_ID>" and the database's
//     suffixed forms of it ("Ubuntu:22.04:LTS"), plus "Ubuntu:Pro:<VERSION_ID>…"
//     when ESM packages are installed. Advisories name source packages, so
//     the name is the source package and the version its source version (a
//     binNMU "+b1" binary shares its source's version); every binary package
//     still gets its own finding.
//   - apk: "Alpine:v<major>.<minor>", name the origin, the package's version.
//     Wolfi and Chainguard likewise.
//   - rpm: "AlmaLinux:<major>", "Rocky Linux:<major>", the "Red Hat:
//     enterprise_linux:<major>::…" streams, "openSUSE:<PRETTY_NAME less
//     openSUSE>", "SUSE:<PRETTY_NAME less SUSE>", "Azure Linux:<VERSION_ID>";
//     name the binary RPM (the source RPM for Azure Linux), version
//     "[epoch:]version-release". A missing epoch on either side is 0.
//   - golang "Go" (the toolchain is "stdlib"; a "v" prefix is dropped), npm
//     "npm" ("@scope/name"), pypi "PyPI", maven "Maven" ("groupId:artifactId"),
//     cargo "crates.io" (crates.io crates only), gem "RubyGems", composer
//     "Packagist" ("vendor/name"), nuget "NuGet".
//
// A package whose ecosystem the database does not have (an unknown distro,
// a release the database lacks, OS packages without a distro, a crate from
// git) is counted in the not-covered list with the reason, never skipped
// in silence. So is a package whose installed version its ecosystem's
// ordering rejects: only exact versions lists could be checked for it.
//
// # Evaluation
//
// Each affected entry for the package's ecosystem and name is evaluated as
// the OSV schema's algorithm says: a versions list is compared as exact
// strings (PyPI also by PEP 440 equality); ECOSYSTEM ranges use the
// ecosystem's ordering, SEMVER ranges SemVer; events are sorted, with
// introduced "0" first and ties kept in their written order; limit "*" is
// infinity. GIT ranges count only through the versions list. A range with
// a version the ordering rejects is skipped with a warning rather than
// guessed at. Withdrawn records still match and give findings with status
// "withdrawn", which never gate.
//
// # One finding per vulnerability
//
// The records that matched one package are joined into one finding when
// their IDs, aliases or single upstream ID meet (related IDs never join).
// An advisory with several upstream IDs (a DSA or USN covering several
// CVEs) joins the finding of each vulnerability it names instead of
// merging them. The finding's ID is the CVE when its IDs include exactly
// one; otherwise it is the ID of the group's first record, ordered
// ecosystem-native records first (GO-, PYSEC-, RUSTSEC-, DEBIAN-, ALSA- …),
// then GHSA, then multi-vulnerability advisories, lowest ID first by
// natural order. All other IDs are its Aliases; Advisories lists the
// records that matched. FixedVersions are the fixed events after the
// installed version in the ranges that matched, deduplicated and in
// ecosystem order; the status is fixed when there is one, unfixed when
// not, and withdrawn when every record is.
package match

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
	"github.com/seawall-dev/seawall/internal/severity"
	"github.com/seawall-dev/seawall/internal/version"
)

// Advisories is the vulnerability database as matching needs it.
// internal/vulndb's *DB provides it.
type Advisories interface {
	// Ecosystems lists the ecosystems the database holds records for,
	// exactly as the records spell them ("Debian:12", "Ubuntu:22.04:LTS",
	// "PyPI").
	Ecosystems() []string
	// Lookup returns every record with an affected entry for the package
	// in one of those ecosystems. It normalises the name as the
	// ecosystem's registry does (PEP 503 for PyPI, …).
	Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error)
}

// Options tune Match. The zero value is ready to use.
type Options struct {
	// Logger hears each distinct warning (a range that could not be
	// evaluated and why); nil discards them.
	Logger *slog.Logger
	// Warn, when set, also receives each distinct warning, for a report.
	Warn func(string)
}

// Match returns the vulnerability findings for the inventory's packages,
// in a deterministic order, and the packages that could not be checked,
// counted per ecosystem and reason. An error comes only from the database
// or the context; a malformed record never stops matching.
func Match(ctx context.Context, inv *inventory.Inventory, db Advisories, opts Options) ([]inventory.Finding, []inventory.Coverage, error) {
	if inv == nil {
		return nil, nil, nil
	}
	m := &matcher{
		db:       db,
		opts:     opts,
		ecos:     newEcosystems(db.Ecosystems()),
		records:  map[[2]string][]*osv.Vulnerability{},
		targets:  map[string]*targetResult{},
		warned:   map[string]bool{},
		severity: map[string]severity.Result{},
	}
	pro := ubuntuPro(inv.Packages)
	notCovered := map[uncovered]int{}
	var findings []inventory.Finding
	for i := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		p := &inv.Packages[i]
		t, u := targetFor(p, inv.Distro, m.ecos, pro)
		if u != nil {
			notCovered[*u]++
			continue
		}
		r, err := m.matchTarget(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		if !r.ordered {
			notCovered[uncovered{t.ordering, "installed version cannot be ordered in this ecosystem; only exact version lists were checked"}]++
		}
		findings = append(findings, m.findings(p, t, r.hits)...)
	}
	sortFindings(findings)
	return findings, coverage(notCovered), nil
}

type matcher struct {
	db       Advisories
	opts     Options
	ecos     ecosystems
	records  map[[2]string][]*osv.Vulnerability // lookups, by ecosystem and name
	targets  map[string]*targetResult           // evaluations, by target
	warned   map[string]bool
	severity map[string]severity.Result // by the group's record IDs
}

type targetResult struct {
	hits    []*hit
	ordered bool
}

// matchTarget finds the records that affect a target. Binary packages of
// one source share a target, so each is evaluated once.
func (m *matcher) matchTarget(ctx context.Context, t target) (*targetResult, error) {
	key := strings.Join(t.ecosystems, "\x00") + "\x01" + t.name + "\x01" + t.version
	if r, ok := m.targets[key]; ok {
		return r, nil
	}
	r := &targetResult{ordered: true}
	byID := map[string]*hit{}
	for _, eco := range t.ecosystems {
		recs, err := m.lookup(ctx, eco, t.name)
		if err != nil {
			return nil, err
		}
		in := newInstalled(eco, t.version)
		if in.parsed == nil {
			r.ordered = false
		}
		for _, rec := range recs {
			if rec == nil {
				continue
			}
			for i := range rec.Affected {
				a := &rec.Affected[i]
				if a.Package.Ecosystem != eco || !sameName(eco, a.Package.Name, t.name) {
					continue
				}
				warn := func(msg string) {
					m.warn(fmt.Sprintf("%s, affected %s/%s: %s", rec.ID, eco, a.Package.Name, msg))
				}
				ev := evaluate(a, in, warn)
				if !ev.affected {
					continue
				}
				h := byID[rec.ID]
				if h == nil {
					h = &hit{vuln: rec, ecosystem: eco}
					byID[rec.ID] = h
					r.hits = append(r.hits, h)
				}
				h.affected = append(h.affected, a)
				h.fixed = append(h.fixed, ev.fixed...)
			}
		}
	}
	sort.Slice(r.hits, func(i, j int) bool { return r.hits[i].vuln.ID < r.hits[j].vuln.ID })
	m.targets[key] = r
	return r, nil
}

func (m *matcher) lookup(ctx context.Context, eco, name string) ([]*osv.Vulnerability, error) {
	k := [2]string{eco, name}
	if recs, ok := m.records[k]; ok {
		return recs, nil
	}
	recs, err := m.db.Lookup(ctx, eco, name)
	if err != nil {
		return nil, fmt.Errorf("looking up advisories for %s package %s: %w", eco, name, err)
	}
	m.records[k] = recs
	return recs, nil
}

func (m *matcher) warn(msg string) {
	if m.warned[msg] {
		return
	}
	m.warned[msg] = true
	if m.opts.Logger != nil {
		m.opts.Logger.Warn("advisory range skipped", "detail", msg)
	}
	if m.opts.Warn != nil {
		m.opts.Warn(msg)
	}
}

// findings builds one finding per vulnerability group for a package.
func (m *matcher) findings(p *inventory.Package, t target, hits []*hit) []inventory.Finding {
	if len(hits) == 0 {
		return nil
	}
	pkgID := p.ID
	if pkgID == "" {
		pkgID = inventory.StableID(p)
	}
	var loc inventory.Location
	if len(p.Locations) > 0 {
		loc = p.Locations[0]
	}
	groups := groupHits(hits)
	out := make([]inventory.Finding, 0, len(groups))
	for _, g := range groups {
		id := g.primary()
		f := inventory.Finding{
			ID:               id,
			Kind:             inventory.KindVulnerability,
			PackageID:        pkgID,
			PackageName:      p.Name,
			PackageType:      p.Type,
			PURL:             p.PURL,
			InstalledVersion: t.version,
			Ecosystem:        g.hits[0].ecosystem,
			Location:         loc,
		}
		ids := map[string]bool{}
		for k := range g.ids {
			ids[k] = true
		}
		withdrawn := true
		for _, h := range g.hits {
			ids[h.vuln.ID] = true
			f.Advisories = append(f.Advisories, h.vuln.ID)
			if h.vuln.Withdrawn.IsZero() {
				withdrawn = false
			}
		}
		delete(ids, id)
		for k := range ids {
			f.Aliases = append(f.Aliases, k)
		}
		sort.Slice(f.Aliases, func(i, j int) bool { return idLess(f.Aliases[i], f.Aliases[j]) })
		sort.Slice(f.Advisories, func(i, j int) bool { return idLess(f.Advisories[i], f.Advisories[j]) })
		f.Advisories = dedupSorted(f.Advisories)

		// The record named by the finding's ID describes it best.
		lead := g.hits[0]
		for _, h := range g.hits {
			if h.vuln.ID == id {
				lead = h
				break
			}
		}
		f.Title, f.Details = lead.vuln.Summary, lead.vuln.Details
		if f.Title == "" {
			for _, h := range g.hits {
				if h.vuln.Summary != "" {
					f.Title, f.Details = h.vuln.Summary, h.vuln.Details
					break
				}
			}
		}

		ordered := append([]*hit{lead}, g.hits...)
		seenRef := map[string]bool{}
		var fixed []string
		for i, h := range ordered {
			if i > 0 && h == lead {
				continue
			}
			for _, r := range h.vuln.References {
				if r.URL != "" && !seenRef[r.URL] {
					seenRef[r.URL] = true
					f.References = append(f.References, r.URL)
				}
			}
			if pub := h.vuln.Published; !pub.IsZero() && (f.Published.IsZero() || pub.Before(f.Published)) {
				f.Published = pub
			}
			if mod := h.vuln.Modified; mod.After(f.Modified) {
				f.Modified = mod
			}
			if withdrawn || h.vuln.Withdrawn.IsZero() {
				fixed = append(fixed, h.fixed...)
			}
		}
		f.FixedVersions = sortVersions(t.ordering, fixed)
		switch {
		case withdrawn:
			f.Status = inventory.StatusWithdrawn
		case len(f.FixedVersions) > 0:
			f.Status = inventory.StatusFixed
		default:
			f.Status = inventory.StatusUnfixed
		}

		sev := m.pickSeverity(ordered[1:], lead)
		f.Severity, f.SeveritySource = sev.Severity, sev.Source
		f.CVSSScore, f.CVSSVector = sev.Score, sev.Vector
		out = append(out, f)
	}
	return out
}

// pickSeverity decides a group's severity, the lead record first. The
// answer depends only on the records and the matched entries, which binary
// packages of one source share, so it is kept.
func (m *matcher) pickSeverity(hits []*hit, lead *hit) severity.Result {
	recs := make([]severity.Record, 0, len(hits))
	var key strings.Builder
	add := func(h *hit) {
		recs = append(recs, severity.Record{Vuln: h.vuln, Affected: h.affected})
		key.WriteString(h.vuln.ID)
		for _, a := range h.affected {
			fmt.Fprintf(&key, "/%p", a)
		}
		key.WriteByte(0)
	}
	add(lead)
	for _, h := range hits {
		if h != lead {
			add(h)
		}
	}
	k := key.String()
	if r, ok := m.severity[k]; ok {
		return r
	}
	r := severity.Pick(recs)
	m.severity[k] = r
	return r
}

// sortVersions deduplicates versions and orders them by the ecosystem's
// ordering, falling back to bytewise order for any it rejects.
func sortVersions(ordering string, vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	out := append([]string(nil), vs...)
	sort.SliceStable(out, func(i, j int) bool {
		c, err := version.Compare(ordering, out[i], out[j])
		if err != nil || c == 0 {
			return out[i] < out[j]
		}
		return c < 0
	})
	return dedupSorted(out)
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// sortFindings orders findings by package, then by ID.
func sortFindings(fs []inventory.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.PackageType != b.PackageType {
			return a.PackageType < b.PackageType
		}
		if a.PackageName != b.PackageName {
			return a.PackageName < b.PackageName
		}
		if a.InstalledVersion != b.InstalledVersion {
			return a.InstalledVersion < b.InstalledVersion
		}
		if a.PackageID != b.PackageID {
			return a.PackageID < b.PackageID
		}
		return idLess(a.ID, b.ID)
	})
}

func coverage(m map[uncovered]int) []inventory.Coverage {
	if len(m) == 0 {
		return nil
	}
	out := make([]inventory.Coverage, 0, len(m))
	for u, n := range m {
		out = append(out, inventory.Coverage{Ecosystem: u.label, Packages: n, Reason: u.reason})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ecosystem != out[j].Ecosystem {
			return out[i].Ecosystem < out[j].Ecosystem
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
