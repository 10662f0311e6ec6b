// Package imgconf checks how an image is configured and built: its user,
// environment, exposed ports, health check and history (from the image
// config), its installed packages (from the inventory), and its files'
// modes and leftovers (during the walk). Each check maps to the CIS Docker
// Benchmark where a recommendation applies.
package imgconf

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// Check is one image check. Its ID is stable: ignore files and SARIF
// alerts refer to it.
type Check struct {
	ID       string
	Title    string
	Severity inventory.Severity
	// CIS is the CIS Docker Benchmark v1.6.0 recommendation the check
	// implements, or "" when none applies.
	CIS         string
	Description string
	Remediation string
	References  []string
}

// The checks' IDs.
const (
	IDRootUser      = "SW-IMG-001"
	IDSecretEnv     = "SW-IMG-002"
	IDAddURL        = "SW-IMG-003"
	IDSensitivePort = "SW-IMG-004"
	IDLatestBase    = "SW-IMG-005"
	IDNoHealthcheck = "SW-IMG-006"
	IDSetID         = "SW-IMG-007"
	IDWorldWritable = "SW-IMG-008"
	IDRiskyPackage  = "SW-IMG-009"
	IDPackageCache  = "SW-IMG-010"
)

// Where image-level findings are: they have no file, so their location's
// path names the part of the image instead, followed by the setting
// ("image config: USER", "image config: ENV DB_PASSWORD") or the step
// ("image history: step 4", counted from 1), as the secret scanner names
// the places it reports on. Their layer index is -1 unless a history step
// made a layer.
const (
	PathConfig  = inventory.PathImageConfig
	PathHistory = inventory.PathImageHistory
)

// Checks lists every image check.
var Checks = []Check{
	{
		ID: IDRootUser, Title: "Image runs as root", Severity: inventory.SeverityHigh, CIS: "4.1",
		Description: "The image's config sets no user, or sets root (UID 0), so its processes run as root unless the runtime says otherwise. A process that breaks out of the application then holds root in the container, one step from the host.",
		Remediation: "Create an unprivileged user and end the Dockerfile with `USER <name or UID>` (a numeric UID lets Kubernetes' runAsNonRoot verify it).",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#user"},
	},
	{
		ID: IDSecretEnv, Title: "Secret in an environment variable or build argument", Severity: inventory.SeverityHigh, CIS: "4.10",
		Description: "An environment variable in the image's config, or a build argument recorded in its history, is named like a secret and has a value. Anyone who can pull the image can read both with `docker inspect` or `docker history`.",
		Remediation: "Pass secrets with `RUN --mount=type=secret` (BuildKit) or at run time from a secret store; rotate the secret, since it has been published with the image.",
		References:  []string{"https://docs.docker.com/build/building/secrets/"},
	},
	{
		ID: IDAddURL, Title: "ADD from a remote URL without a checksum", Severity: inventory.SeverityMedium, CIS: "4.9",
		Description: "The image's history shows an ADD that fetched a URL or Git repository at build time, without a checksum: whatever the server sent went into the image unverified.",
		Remediation: "Download with a checksum (`ADD --checksum=sha256:…`, or `RUN curl … && sha256sum -c`), or COPY a vendored file.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#add---checksum"},
	},
	{
		ID: IDSensitivePort, Title: "Sensitive port exposed", Severity: inventory.SeverityMedium,
		Description: "The image exposes a port of a remote shell or desktop (SSH, Telnet, RDP, VNC, X11), of file sharing, or of a control plane (the Docker API, the kubelet). Such services do not belong in an application container. (CIS Docker 5.8, a runtime recommendation, asks that only needed ports be open.)",
		Remediation: "Remove the service and its EXPOSE; debug a container with `docker exec` or `kubectl debug` rather than a server inside it.",
	},
	{
		ID: IDLatestBase, Title: "Base image not pinned: latest tag", Severity: inventory.SeverityMedium,
		Description: "The image's labels say it was built FROM a base image by the tag latest (or no tag). Rebuilding it may silently pull a different base.",
		Remediation: "Pin the base image's version, and preferably its digest, in FROM.",
		References:  []string{"https://github.com/opencontainers/image-spec/blob/main/annotations.md#pre-defined-annotation-keys"},
	},
	{
		ID: IDNoHealthcheck, Title: "No HEALTHCHECK", Severity: inventory.SeverityLow, CIS: "4.6",
		Description: "The image's config defines no health check, so Docker cannot tell a running but broken container from a healthy one. (A health check disabled with HEALTHCHECK NONE is a decision and is not reported.)",
		Remediation: "Add `HEALTHCHECK CMD <command that fails when the service is unhealthy>`, or `HEALTHCHECK NONE` where an orchestrator's probes do the job.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#healthcheck"},
	},
	{
		ID: IDSetID, Title: "setuid or setgid file", Severity: inventory.SeverityMedium, CIS: "4.8",
		Description: "A file has the setuid or setgid bit and is not one of the set-ID programs that Debian, Ubuntu, Alpine and Red Hat base images ship for account management (passwd, su, mount …). A set-ID program runs with its owner's rights whoever starts it, and is a classic way to regain root.",
		Remediation: "Remove the bit in the Dockerfile (`RUN chmod a-s <file>`), or remove the file; CIS suggests `find / -perm /6000 -type f -exec chmod a-s {} \\;`.",
	},
	{
		ID: IDWorldWritable, Title: "World-writable file or directory in a system directory", Severity: inventory.SeverityMedium,
		Description: "A file or directory under /bin, /boot, /etc, /lib, /opt, /root, /sbin, /usr or /var is writable by every user (and, for a directory, lacks the sticky bit that /tmp has). Any process in the container can then replace programs, libraries or configuration that others trust.",
		Remediation: "Remove the write permission for others (`chmod o-w`), or for a shared scratch directory add the sticky bit (`chmod +t`).",
	},
	{
		ID: IDRiskyPackage, Title: "sudo or an SSH server installed", Severity: inventory.SeverityMedium, CIS: "4.3",
		Description: "The image has sudo (or doas) installed, which lets a process regain root, or an SSH server, which opens a login into the container. Neither is needed to run an application in a container. (CIS Docker 5.6 also asks that sshd not run in containers.)",
		Remediation: "Remove the package. Run the process as the user it needs from the start; use `docker exec` or `kubectl exec` to get a shell.",
	},
	{
		ID: IDPackageCache, Title: "Package-manager cache left in a layer", Severity: inventory.SeverityLow,
		Description: "A layer holds a package manager's download cache or index. It makes every pull bigger, and deleting it in a later layer does not help: the bytes stay in the layer that added them.",
		Remediation: "Clean up in the same RUN that installs: `rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, `dnf clean all`, `pip install --no-cache-dir`, `npm cache clean --force`; or use `RUN --mount=type=cache`.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#apt-get"},
	},
}

var checkByID = func() map[string]*Check {
	m := map[string]*Check{}
	for i := range Checks {
		m[Checks[i].ID] = &Checks[i]
	}
	return m
}()

func finding(id, msg string) inventory.Finding {
	c := checkByID[id]
	f := inventory.Finding{
		ID:             c.ID,
		Kind:           inventory.KindMisconfiguration,
		Title:          c.Title,
		Details:        msg + "\n\n" + c.Description,
		Severity:       c.Severity,
		SeveritySource: "seawall",
		Remediation:    c.Remediation,
		References:     slices.Clone(c.References),
	}
	if c.CIS != "" {
		f.Controls = []string{"CIS Docker " + c.CIS}
	}
	return f
}

// Scanner runs the image checks: a FileScanner for file modes and caches
// during the walk, and an ImageScanner for the config, the history and
// the packages after it. It is safe for concurrent use.
type Scanner struct {
	mu     sync.Mutex
	caches map[cacheKey]*cacheStat
}

// New returns the image configuration scanner.
func New() *Scanner { return &Scanner{caches: map[cacheKey]*cacheStat{}} }

func (*Scanner) Name() string { return "config" }

// Wants takes set-ID files, world-writable entries in system directories,
// and files in package-manager caches; nothing else is ever read.
func (*Scanner) Wants(p string, mode fs.FileMode) bool {
	switch {
	case mode&fs.ModeSymlink != 0:
		return false
	case mode.IsRegular() && mode&(fs.ModeSetuid|fs.ModeSetgid) != 0:
		return true
	case mode.Perm()&0o002 != 0 && SystemDir(p):
		return true
	case mode.IsRegular() && cacheOf(p) != nil:
		return true
	}
	return false
}

// Scan judges one entry by its metadata; it never reads content.
func (s *Scanner) Scan(_ context.Context, f *image.File) ([]inventory.Finding, error) {
	var out []inventory.Finding
	mode := f.Mode
	if mode.IsRegular() && f.Linkname == "" && mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 && !setIDAllowed(f.Path) {
		bits := "setuid"
		switch {
		case mode&fs.ModeSetuid != 0 && mode&fs.ModeSetgid != 0:
			bits = "setuid and setgid"
		case mode&fs.ModeSetgid != 0:
			bits = "setgid"
		}
		fd := finding(IDSetID, fmt.Sprintf("%s is %s (mode %s).", f.Path, bits, modeText(mode)))
		fd.Snippet = modeText(mode) + " " + f.Path
		out = append(out, fd)
	}
	if mode.Perm()&0o002 != 0 && mode&fs.ModeSymlink == 0 && SystemDir(f.Path) && !(mode.IsDir() && mode&fs.ModeSticky != 0) {
		what := "file"
		if mode.IsDir() {
			what = "directory, without the sticky bit,"
		}
		fd := finding(IDWorldWritable, fmt.Sprintf("The %s %s is writable by every user (mode %s).", what, f.Path, modeText(mode)))
		fd.Snippet = modeText(mode) + " " + f.Path
		out = append(out, fd)
	}
	if mode.IsRegular() {
		if c := cacheOf(f.Path); c != nil {
			s.mu.Lock()
			k := cacheKey{layer: f.Layer, cache: c}
			st := s.caches[k]
			if st == nil {
				st = &cacheStat{}
				s.caches[k] = st
			}
			st.files++
			st.bytes += f.Size
			s.mu.Unlock()
		}
	}
	return out, nil
}

// modeText is ls's view of a mode: -rwsr-xr-x.
func modeText(m fs.FileMode) string {
	b := []byte("-rwxrwxrwx")
	if m.IsDir() {
		b[0] = 'd'
	}
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	set := func(i int, on bool, exec, noexec byte) {
		if !on {
			return
		}
		if b[i] == 'x' {
			b[i] = exec
		} else {
			b[i] = noexec
		}
	}
	set(3, m&fs.ModeSetuid != 0, 's', 'S')
	set(6, m&fs.ModeSetgid != 0, 's', 'S')
	set(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}

// systemDirs hold what every process trusts: programs, libraries,
// configuration and package state. /tmp, /var/tmp, /run and /dev are
// scratch space by design, and /home belongs to users.
var systemDirs = []string{"/bin", "/boot", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/root", "/sbin", "/usr", "/var"}

// scratchDirs are the shared scratch space under the system directories.
var scratchDirs = []string{"/var/tmp", "/var/lock", "/var/run", "/var/crash", "/var/mail", "/var/spool/mail"}

// SystemDir reports whether p (absolute and clean) is in a system
// directory: under /bin, /boot, /etc, /lib*, /opt, /root, /sbin, /usr or
// /var, but not in their scratch space (/var/tmp, /var/lock …). A
// world-writable entry there is a finding, for images and Dockerfiles.
func SystemDir(p string) bool {
	for _, d := range scratchDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return false
		}
	}
	for _, d := range systemDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// setIDAllowlist are the set-ID programs base images ship on purpose,
// for account management and mounting: Debian and Ubuntu (login, passwd,
// mount: chfn, chsh, gpasswd, newgrp, passwd, su, mount, umount setuid;
// chage, expiry, unix_chkpwd setgid shadow), Red Hat (the same, with
// unix_chkpwd and pam_timestamp_check setuid), and the helpers that
// openssh-client and libutempter install (ssh-keysign, used only for
// host-based authentication, which is off by default; utempter, setgid
// utmp). Alpine's base image has none. sudo is deliberately not listed:
// IDRiskyPackage reports it as well.
var setIDAllowlist = map[string]bool{}

func init() {
	for _, n := range []string{"chage", "chfn", "chsh", "expiry", "gpasswd", "mount", "newgrp", "passwd", "su", "umount"} {
		setIDAllowlist["/usr/bin/"+n] = true
		setIDAllowlist["/bin/"+n] = true
	}
	for _, n := range []string{"unix_chkpwd", "pam_timestamp_check"} {
		setIDAllowlist["/usr/sbin/"+n] = true
		setIDAllowlist["/sbin/"+n] = true
	}
	for _, p := range []string{"/usr/lib/openssh/ssh-keysign", "/usr/libexec/openssh/ssh-keysign", "/usr/libexec/utempter/utempter"} {
		setIDAllowlist[p] = true
	}
}

func setIDAllowed(p string) bool {
	if setIDAllowlist[p] {
		return true
	}
	// Debian's multiarch path: /usr/lib/<triplet>/utempter/utempter.
	return strings.HasPrefix(p, "/usr/lib/") && strings.HasSuffix(p, "/utempter/utempter") && strings.Count(p, "/") == 5
}

// cache is one package manager's cache directory.
type cache struct {
	Name string // for the report: "apt package lists"
	Dir  string // where it is, for the report
	// match reports whether a path is one of its files.
	match func(p string) bool
}

func under(dir string) func(string) bool {
	return func(p string) bool { return strings.HasPrefix(p, dir+"/") }
}

// underHome matches dir under /root and every /home/<user>.
func underHome(rel string) func(string) bool {
	return func(p string) bool {
		if strings.HasPrefix(p, "/root/"+rel+"/") {
			return true
		}
		if !strings.HasPrefix(p, "/home/") {
			return false
		}
		rest := p[len("/home/"):]
		i := strings.IndexByte(rest, '/')
		return i > 0 && strings.HasPrefix(rest[i:], "/"+rel+"/")
	}
}

var caches = []*cache{
	{Name: "apt package archives", Dir: "/var/cache/apt/archives", match: func(p string) bool {
		return strings.HasPrefix(p, "/var/cache/apt/archives/") && strings.HasSuffix(p, ".deb")
	}},
	{Name: "apt package lists", Dir: "/var/lib/apt/lists", match: func(p string) bool {
		return strings.HasPrefix(p, "/var/lib/apt/lists/") && p != "/var/lib/apt/lists/lock"
	}},
	{Name: "apk cache", Dir: "/var/cache/apk", match: under("/var/cache/apk")},
	{Name: "yum cache", Dir: "/var/cache/yum", match: under("/var/cache/yum")},
	{Name: "dnf cache", Dir: "/var/cache/dnf", match: under("/var/cache/dnf")},
	{Name: "dnf5 cache", Dir: "/var/cache/libdnf5", match: under("/var/cache/libdnf5")},
	{Name: "zypper cache", Dir: "/var/cache/zypp", match: under("/var/cache/zypp")},
	{Name: "pip cache", Dir: "~/.cache/pip", match: underHome(".cache/pip")},
	{Name: "npm cache", Dir: "~/.npm/_cacache", match: underHome(".npm/_cacache")},
	{Name: "yarn cache", Dir: "~/.cache/yarn", match: func(p string) bool {
		return underHome(".cache/yarn")(p) || strings.HasPrefix(p, "/usr/local/share/.cache/yarn/")
	}},
	{Name: "Go build cache", Dir: "~/.cache/go-build", match: underHome(".cache/go-build")},
	{Name: "Composer cache", Dir: "~/.composer/cache", match: func(p string) bool {
		return underHome(".composer/cache")(p) || underHome(".cache/composer")(p)
	}},
}

func cacheOf(p string) *cache {
	if !strings.HasPrefix(p, "/var/") && !strings.HasPrefix(p, "/root/") && !strings.HasPrefix(p, "/home/") && !strings.HasPrefix(p, "/usr/local/share/") {
		return nil // the common case, cheaply
	}
	for _, c := range caches {
		if c.match(p) {
			return c
		}
	}
	return nil
}

type cacheKey struct {
	layer int
	cache *cache
}

type cacheStat struct {
	files int
	bytes int64
}

// ScanImage checks the config, the history and the packages, and reports
// the caches the walk found.
func (s *Scanner) ScanImage(_ context.Context, img *image.Image, inv *inventory.Inventory) ([]inventory.Finding, error) {
	var out []inventory.Finding
	if img.Config != nil {
		out = append(out, checkConfig(img)...)
	}
	out = append(out, checkPackages(inv)...)
	out = append(out, s.cacheFindings(img)...)
	inventory.SortFindings(out)
	return out, nil
}

func (s *Scanner) cacheFindings(img *image.Image) []inventory.Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]cacheKey, 0, len(s.caches))
	for k := range s.caches {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].layer != keys[j].layer {
			return keys[i].layer < keys[j].layer
		}
		return keys[i].cache.Dir < keys[j].cache.Dir
	})
	var out []inventory.Finding
	for _, k := range keys {
		st := s.caches[k]
		msg := fmt.Sprintf("The %s (%s) holds %s, %s", k.cache.Name, k.cache.Dir, plural(st.files, "file"), sizeText(st.bytes))
		if k.layer < len(img.Layers) {
			l := img.Layers[k.layer]
			msg += fmt.Sprintf(", in layer %d", k.layer)
			if l.CreatedBy != "" {
				msg += fmt.Sprintf(" (created by: %s)", truncate(strings.TrimSpace(l.CreatedBy), 120))
			}
		}
		fd := finding(IDPackageCache, msg+".")
		dir := k.cache.Dir
		if strings.HasPrefix(dir, "~") {
			dir = "/root" + dir[1:]
		}
		fd.Location = inventory.Location{Path: dir, LayerIndex: k.layer}
		if k.layer < len(img.Layers) {
			fd.Location.LayerDigest = img.Layers[k.layer].Digest
			fd.Location.LayerDiffID = img.Layers[k.layer].DiffID
		}
		fd.Snippet = fmt.Sprintf("%s: %s, %s", k.cache.Dir, plural(st.files, "file"), sizeText(st.bytes))
		out = append(out, fd)
	}
	return out
}

// checkPackages reports sudo and SSH servers among the OS packages.
func checkPackages(inv *inventory.Inventory) []inventory.Finding {
	if inv == nil {
		return nil
	}
	var out []inventory.Finding
	for _, p := range inv.Packages {
		switch p.Type {
		case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		default:
			continue
		}
		var msg string
		switch RiskyPackage(p.Name) {
		case PackageSudo:
			msg = fmt.Sprintf("The %s package %s %s is installed: it lets a process regain root.", p.Type, p.Name, p.Version)
		case PackageSSH:
			msg = fmt.Sprintf("The %s package %s %s, an SSH server, is installed.", p.Type, p.Name, p.Version)
		default:
			continue
		}
		fd := finding(IDRiskyPackage, msg)
		if len(p.Locations) > 0 {
			fd.Location = p.Locations[0]
		}
		fd.Snippet = p.Name + " " + p.Version
		out = append(out, fd)
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var (
	_ catalog.FileScanner  = (*Scanner)(nil)
	_ catalog.ImageScanner = (*Scanner)(nil)
)
