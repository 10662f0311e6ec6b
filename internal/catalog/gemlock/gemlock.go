// Package gemlock reads Gemfile.lock, the lockfile Bundler writes for a
// Ruby project.
package gemlock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a Gemfile.lock; large applications have a few hundred KB.
const maxLock = 32 << 20

// Cataloger reads Gemfile.lock files.
type Cataloger struct{}

// New returns a Gemfile.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "gemfile-lock" }

// Declared reports that Gemfile.lock declares gems rather than records
// installed ones.
func (*Cataloger) Declared() bool { return true }

// Wants takes Gemfile.lock and gems.locked, Bundler's other name for it.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	b := path.Base(p)
	return b == "Gemfile.lock" || b == "gems.locked"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads a Gemfile.lock. Gems come from the "specs:" of the GEM (a
// gem server), GIT (marked in Metadata["source"] as
// "git+<remote>#<revision>") and PLUGIN SOURCE sections; PATH gems are
// the project's own or vendored code and are left out. A spec is a four-space-indented "name (version)" line;
// a platform-specific gem's version carries its platform,
// "nokogiri (1.13.3-x86_64-linux)", which goes to Metadata["platform"].
// Gems named under DEPENDENCIES are Direct. The lockfile does not record
// Gemfile groups, so nothing is Dev.
func Parse(b []byte) ([]inventory.Package, error) {
	var (
		pkgs     []inventory.Package
		seen     = map[string]int{}
		direct   = map[string]bool{}
		section  string
		inSpecs  bool
		remote   string
		revision string
		sections int
		bad      int
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		text := line[indent:]
		switch {
		case indent == 0:
			section, inSpecs, remote, revision = text, false, "", ""
			if isSource(section) || section == "DEPENDENCIES" {
				sections++
			}
		case section == "DEPENDENCIES" && indent == 2:
			name, _, _ := strings.Cut(text, " ")
			direct[strings.TrimSuffix(name, "!")] = true
		case !isSource(section):
		case indent == 2:
			k, v, _ := strings.Cut(text, ":")
			switch k {
			case "specs":
				inSpecs = true
			case "remote":
				remote = strings.TrimSpace(v)
			case "revision":
				revision = strings.TrimSpace(v)
			}
		case indent == 4 && inSpecs:
			p, ok := spec(text)
			if !ok {
				bad++
				continue
			}
			switch section {
			case "GIT":
				src := "git+" + remote
				if revision != "" {
					src += "#" + revision
				}
				addMeta(&p, "source", src)
			case "PATH":
				// The project's own gem, or a vendored one: local code, not
				// a published gem, as the other catalogers treat it.
				continue
			}
			key := p.Name + "@" + p.Version
			if _, ok := seen[key]; ok {
				continue // the same gem for another platform
			}
			seen[key] = len(pkgs)
			pkgs = append(pkgs, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("Gemfile.lock: %w", err)
	}
	if sections == 0 || (bad > 0 && len(pkgs) == 0) {
		return nil, fmt.Errorf("not a Gemfile.lock: %d source sections, %d malformed specs", sections, bad)
	}
	for i := range pkgs {
		pkgs[i].Direct = direct[pkgs[i].Name]
	}
	return pkgs, nil
}

func isSource(section string) bool {
	switch section {
	case "GEM", "GIT", "PATH", "PLUGIN SOURCE":
		return true
	}
	return false
}

// spec parses "name (version)" or "name (version-platform)".
func spec(text string) (inventory.Package, bool) {
	name, rest, ok := strings.Cut(text, " (")
	if !ok || name == "" || strings.ContainsAny(name, " ()") || !strings.HasSuffix(rest, ")") {
		return inventory.Package{}, false
	}
	version := strings.TrimSuffix(rest, ")")
	version, platform, _ := strings.Cut(version, "-")
	if version == "" || strings.ContainsAny(version, " (),") {
		return inventory.Package{}, false
	}
	p := inventory.Package{Type: inventory.TypeGem, Name: name, Version: version}
	if platform != "" {
		addMeta(&p, "platform", platform)
	}
	return p, true
}

func addMeta(p *inventory.Package, k, v string) {
	if p.Metadata == nil {
		p.Metadata = map[string]string{}
	}
	p.Metadata[k] = v
}

var _ catalog.Cataloger = (*Cataloger)(nil)
