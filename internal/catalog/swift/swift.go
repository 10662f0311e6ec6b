// Package swift reads Package.resolved, the lockfile of the Swift
// Package Manager, in its three formats (version 1 to 3).
package swift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a Package.resolved; real ones are a few KB.
const maxLock = 16 << 20

// Cataloger reads Package.resolved files.
type Cataloger struct{}

// New returns a Package.resolved cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "swift-resolved" }

// Declared reports that Package.resolved declares, rather than installs,
// packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts Package.resolved outside the checkouts of .build, where
// each dependency keeps its own.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "Package.resolved" && !strings.Contains(p, "/.build/")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

// resolved covers every format: version 1 keeps its pins under
// "object" and names the repository "repositoryURL"; versions 2 and 3
// keep them at the top and name it "location", with a "kind".
type resolved struct {
	Object *struct {
		Pins []pin `json:"pins"`
	} `json:"object"`
	Pins []pin `json:"pins"`
}

type pin struct {
	Identity      string `json:"identity"`
	Kind          string `json:"kind"`
	Location      string `json:"location"`
	RepositoryURL string `json:"repositoryURL"`
	State         struct {
		Version *string `json:"version"`
	} `json:"state"`
}

// Parse reads a Package.resolved. A package is named by its repository,
// as OSV's SwiftURL ecosystem and the purl spec name it: host, owner and
// repository, without scheme, user, port or ".git"
// ("github.com/apple/swift-nio"). Pins to a branch or revision carry no
// version and are left out, as are local packages (the project's own
// code). A registry pin is named by its identity ("scope.name"). The
// file does not say which packages the project names itself.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var r resolved
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &r); err != nil {
		return nil, fmt.Errorf("not a valid Package.resolved: %w", err)
	}
	pins := r.Pins
	if r.Object != nil {
		pins = append(pins, r.Object.Pins...)
	}
	seen := map[string]bool{}
	var pkgs []inventory.Package
	for i, p := range pins {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if p.State.Version == nil || !validVersion(*p.State.Version) {
			continue
		}
		var name string
		var meta map[string]string
		switch p.Kind {
		case "localSourceControl", "fileSystem":
			continue
		case "registry":
			name = strings.ToLower(p.Identity)
			meta = map[string]string{"kind": "registry"}
			if !validIdentity(name) {
				continue
			}
		default:
			loc := p.Location
			if loc == "" {
				loc = p.RepositoryURL
			}
			var ok bool
			if name, ok = RepoName(loc); !ok {
				continue
			}
		}
		version := *p.State.Version
		if seen[name+"@"+version] {
			continue
		}
		seen[name+"@"+version] = true
		pkgs = append(pkgs, inventory.Package{Type: inventory.TypeSwift, Name: name, Version: version, Metadata: meta})
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// RepoName turns a git remote into "host/owner/repo": it accepts
// https://, http://, ssh:// and git:// URLs and scp-style
// "git@host:owner/repo.git". Local paths and file:// URLs are not
// repositories anyone else can fetch, and give false.
func RepoName(loc string) (string, bool) {
	loc = strings.TrimSpace(loc)
	if loc == "" || len(loc) > 2048 {
		return "", false
	}
	var host, p string
	if i := strings.Index(loc, "://"); i >= 0 {
		u, err := url.Parse(loc)
		if err != nil {
			return "", false
		}
		switch strings.ToLower(u.Scheme) {
		case "https", "http", "ssh", "git", "git+ssh", "git+https":
		default:
			return "", false
		}
		host, p = u.Hostname(), u.Path
	} else {
		// scp-like: [user@]host:path, with no slash before the colon.
		colon := strings.Index(loc, ":")
		if colon <= 0 || strings.Contains(loc[:colon], "/") {
			return "", false
		}
		host, p = loc[:colon], loc[colon+1:]
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
	}
	host = strings.ToLower(host)
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	if host == "" || p == "" || !strings.Contains(p, "/") {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false
		}
	}
	name := host + "/" + p
	for _, r := range name {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"\?#%`, r) {
			return "", false
		}
	}
	return name, true
}

// validVersion accepts the characters of a semantic version.
func validVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+", c) >= 0) {
			return false
		}
	}
	return true
}

// validIdentity checks a registry identity, "scope.name".
func validIdentity(s string) bool {
	if s == "" || len(s) > 256 || !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".-_", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
