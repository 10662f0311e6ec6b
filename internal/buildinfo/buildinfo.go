// Package buildinfo reports which Seawall build is running, for reports
// and SBOMs that must say what produced them.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Set by the linker in release builds: -ldflags "-X github.com/seawall-dev/seawall/internal/buildinfo.version=v1.2.3".
var version string

var once sync.Once

// Version returns the release version, or "devel" with the VCS revision.
func Version() string {
	once.Do(func() {
		if version != "" {
			return
		}
		version = "devel"
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
			return
		}
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			version = "devel-" + rev + dirty
		}
	})
	return version
}
