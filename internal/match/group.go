package match

import (
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/osv"
)

// hit is one record that matched a package.
type hit struct {
	vuln      *osv.Vulnerability
	affected  []*osv.Affected // the entries that matched
	fixed     []string        // fixed versions later than the installed one
	ecosystem string          // the ecosystem of the first matching entry
}

// umbrella reports whether a record is an advisory about several
// vulnerabilities (a DSA or USN with upstream CVE-1 and CVE-2) rather than
// one vulnerability under another name.
func (h *hit) umbrella() bool { return len(h.vuln.Upstream) > 1 }

// links are the IDs that make a record the same vulnerability as another:
// its own ID, its aliases and, when it derives from exactly one record,
// that one ("DEBIAN-CVE-2024-1 upstream CVE-2024-1").
func (h *hit) links() []string {
	out := make([]string, 0, 2+len(h.vuln.Aliases))
	out = append(out, h.vuln.ID)
	out = append(out, h.vuln.Aliases...)
	if len(h.vuln.Upstream) == 1 {
		out = append(out, h.vuln.Upstream[0])
	}
	return out
}

// group is the records of one vulnerability, as matched for one package.
type group struct {
	hits []*hit
	ids  map[string]bool // every ID the group's vulnerability goes by
}

// groupHits puts the records that matched one package into groups, one per
// vulnerability: records are joined when one's ID, aliases or single
// upstream ID meet another's (union-find over IDs; related IDs never join).
// An umbrella advisory does not join the vulnerabilities it covers into
// one: it is added to the group of each one it names, and stands alone
// only when it names none that matched.
func groupHits(hits []*hit) []*group {
	uf := unionFind{}
	var single, umbrellas []*hit
	for _, h := range hits {
		if h.umbrella() {
			umbrellas = append(umbrellas, h)
			continue
		}
		single = append(single, h)
		ls := h.links()
		for _, id := range ls[1:] {
			uf.union(ls[0], id)
		}
	}
	byRoot := map[string]*group{}
	var groups []*group
	add := func(root string, h *hit) *group {
		g := byRoot[root]
		if g == nil {
			g = &group{ids: map[string]bool{}}
			byRoot[root] = g
			groups = append(groups, g)
		}
		g.hits = append(g.hits, h)
		return g
	}
	for _, h := range single {
		g := add(uf.find(h.vuln.ID), h)
		for _, id := range h.links() {
			g.ids[id] = true
		}
	}
	alone := unionFind{}
	var lonely []*hit
	for _, u := range umbrellas {
		seen := map[*group]bool{}
		for _, id := range append(append([]string{u.vuln.ID}, u.vuln.Aliases...), u.vuln.Upstream...) {
			if !uf.has(id) {
				continue
			}
			if g := byRoot[uf.find(id)]; g != nil && !seen[g] {
				seen[g] = true
				g.hits = append(g.hits, u)
			}
		}
		if len(seen) == 0 {
			lonely = append(lonely, u)
			for _, a := range u.vuln.Aliases {
				alone.union(u.vuln.ID, a)
			}
		}
	}
	for _, u := range lonely {
		g := add("\x00"+alone.find(u.vuln.ID), u)
		g.ids[u.vuln.ID] = true
		for _, a := range u.vuln.Aliases {
			g.ids[a] = true
		}
	}
	for _, g := range groups {
		g.order()
	}
	return groups
}

// order sorts a group's records by how well each names the finding:
// single-vulnerability records before umbrellas, other databases' records
// before GitHub's (GHSA covers every ecosystem; GO-, PYSEC-, RUSTSEC-,
// DEBIAN- and the like are the ecosystem's own), then by ID.
func (g *group) order() {
	rank := func(h *hit) int {
		switch {
		case h.umbrella():
			return 2
		case strings.HasPrefix(h.vuln.ID, "GHSA-"):
			return 1
		}
		return 0
	}
	sort.SliceStable(g.hits, func(i, j int) bool {
		a, b := g.hits[i], g.hits[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		return idLess(a.vuln.ID, b.vuln.ID)
	})
}

// primary chooses the finding's ID: the CVE when the group's IDs hold
// exactly one, otherwise the ID of the first record in the group's order
// (the ecosystem's own record, lowest ID first).
func (g *group) primary() string {
	cve := ""
	n := 0
	for id := range g.ids {
		if strings.HasPrefix(id, "CVE-") {
			cve = id
			n++
		}
	}
	if n == 1 {
		return cve
	}
	return g.hits[0].vuln.ID
}

// unionFind is a disjoint-set forest over strings.
type unionFind map[string]string

func (u unionFind) has(x string) bool { _, ok := u[x]; return ok }

func (u unionFind) find(x string) string {
	p, ok := u[x]
	if !ok {
		u[x] = x
		return x
	}
	if p == x {
		return x
	}
	r := u.find(p)
	u[x] = r
	return r
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	// The smaller root wins, so roots do not depend on the order of calls.
	if rb < ra {
		ra, rb = rb, ra
	}
	u[rb] = ra
}

// idLess orders IDs naturally, then bytewise, so that the order is total.
func idLess(a, b string) bool {
	if naturalLess(a, b) {
		return true
	}
	if naturalLess(b, a) {
		return false
	}
	return a < b
}

// naturalLess orders IDs with their numbers compared as numbers, so that
// PYSEC-2021-98 sorts before PYSEC-2021-439.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na := strings.TrimLeft(a[:da], "0")
			nb := strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return false
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
