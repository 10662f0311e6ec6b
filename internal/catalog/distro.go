package catalog

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// releaseFiles are read to identify the distribution, in order of preference.
var releaseFiles = []string{
	"/etc/os-release",
	"/usr/lib/os-release",
	"/etc/alpine-release",
	"/etc/debian_version",
	"/etc/redhat-release",
	"/etc/centos-release",
	"/etc/fedora-release",
	"/etc/system-release",
}

func isReleaseFile(p string) bool {
	for _, r := range releaseFiles {
		if p == r {
			return true
		}
	}
	return false
}

type releaseFile struct {
	layer, seq int
	path       string
	data       []byte
}

// detectDistro identifies the OS from the release files that survive into
// the final filesystem.
func detectDistro(perLayer [][]releaseFile, view *image.View) *inventory.Distro {
	visible := map[string][]byte{}
	for _, rs := range perLayer {
		for _, r := range rs {
			if view.Visible(r.layer, r.seq, r.path) {
				visible[r.path] = r.data
			}
		}
	}
	var d *inventory.Distro
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, ok := visible[p]; ok {
			if d = parseOSRelease(b); d != nil {
				d.Source = p
				break
			}
		}
	}
	if d == nil {
		d = fromLegacyRelease(visible)
	}
	if d == nil {
		return nil
	}
	// Debian testing and sid have no VERSION_ID; stable point releases
	// are only in debian_version.
	if d.ID == "debian" && d.VersionID == "" {
		if b, ok := visible["/etc/debian_version"]; ok {
			v := strings.TrimSpace(string(b))
			if m := leadingVersion.FindString(v); m != "" {
				d.VersionID = strings.SplitN(m, ".", 2)[0]
			}
		}
	}
	// gcr.io/distroless images ship Debian's os-release with
	// PRETTY_NAME="Distroless" and record packages in dpkg/status.d.
	if strings.EqualFold(d.PrettyName, "Distroless") ||
		(view.Exists("/var/lib/dpkg/status.d") && !view.Exists("/var/lib/dpkg/status")) {
		d.Distroless = true
	}
	return d
}

var leadingVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*`)

// parseOSRelease reads the os-release(5) format: KEY=value lines with
// shell-style quoting.
func parseOSRelease(b []byte) *inventory.Distro {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	if kv["ID"] == "" {
		return nil
	}
	d := &inventory.Distro{
		ID:         strings.ToLower(kv["ID"]),
		VersionID:  kv["VERSION_ID"],
		Codename:   kv["VERSION_CODENAME"],
		Name:       kv["NAME"],
		PrettyName: kv["PRETTY_NAME"],
	}
	if like := kv["ID_LIKE"]; like != "" {
		d.IDLike = strings.Fields(strings.ToLower(like))
	}
	if home := kv["HOME_URL"]; strings.Contains(home, "distroless") {
		d.Distroless = true
	}
	if d.Codename == "" {
		d.Codename = kv["UBUNTU_CODENAME"]
	}
	return d
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
		if v != "" && strings.Contains(v, `\`) {
			r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`")
			v = r.Replace(v)
		}
	}
	return v
}

var rhRelease = regexp.MustCompile(`^(.*?)\s+release\s+([0-9][0-9.]*)`)

// fromLegacyRelease handles images without os-release.
func fromLegacyRelease(visible map[string][]byte) *inventory.Distro {
	if b, ok := visible["/etc/alpine-release"]; ok {
		v := strings.TrimSpace(string(b))
		return &inventory.Distro{ID: "alpine", VersionID: v, Name: "Alpine Linux", Source: "/etc/alpine-release"}
	}
	for _, p := range []string{"/etc/redhat-release", "/etc/centos-release", "/etc/fedora-release", "/etc/system-release"} {
		b, ok := visible[p]
		if !ok {
			continue
		}
		line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		m := rhRelease.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		d := &inventory.Distro{Name: name, VersionID: m[2], PrettyName: line, Source: p}
		ln := strings.ToLower(name)
		switch {
		case strings.Contains(ln, "centos"):
			d.ID = "centos"
		case strings.Contains(ln, "rocky"):
			d.ID = "rocky"
		case strings.Contains(ln, "alma"):
			d.ID = "almalinux"
		case strings.Contains(ln, "fedora"):
			d.ID = "fedora"
		case strings.Contains(ln, "oracle"):
			d.ID = "ol"
		case strings.Contains(ln, "amazon"):
			d.ID = "amzn"
		case strings.Contains(ln, "red hat"):
			d.ID = "rhel"
		default:
			continue
		}
		return d
	}
	if b, ok := visible["/etc/debian_version"]; ok {
		v := strings.TrimSpace(string(b))
		d := &inventory.Distro{ID: "debian", Name: "Debian GNU/Linux", Source: "/etc/debian_version"}
		if m := leadingVersion.FindString(v); m != "" {
			d.VersionID = strings.SplitN(m, ".", 2)[0]
		} else {
			d.Codename = strings.SplitN(v, "/", 2)[0]
		}
		return d
	}
	return nil
}
