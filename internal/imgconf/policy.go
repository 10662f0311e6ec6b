package imgconf

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// What counts as risky is shared by the image checks and the Dockerfile
// checks (internal/dockerfile), so that both say the same of the same
// setting.

// Port is a port that should not be exposed from a container.
type Port struct {
	Number   int
	Service  string
	Severity inventory.Severity
}

// sensitivePorts are remote shells and desktops, unencrypted logins,
// file sharing and control planes: a container that exposes one either
// runs a service that does not belong in a container (sshd, telnetd,
// VNC), or offers its host to whoever reaches the port (the Docker API,
// the kubelet). 2375 (Docker without TLS) and 23 (telnet) are HIGH; the
// rest MEDIUM.
var sensitivePorts = map[int]Port{}

func init() {
	for _, p := range []Port{
		{21, "FTP", inventory.SeverityMedium},
		{22, "SSH", inventory.SeverityMedium},
		{23, "Telnet", inventory.SeverityHigh},
		{69, "TFTP", inventory.SeverityMedium},
		{111, "rpcbind", inventory.SeverityMedium},
		{135, "MS RPC", inventory.SeverityMedium},
		{139, "NetBIOS/SMB", inventory.SeverityMedium},
		{445, "SMB", inventory.SeverityMedium},
		{512, "rexec", inventory.SeverityHigh},
		{513, "rlogin", inventory.SeverityHigh},
		{514, "rsh", inventory.SeverityHigh},
		{2375, "Docker API without TLS", inventory.SeverityHigh},
		{2376, "Docker API", inventory.SeverityMedium},
		{3389, "RDP", inventory.SeverityMedium},
		{5800, "VNC over HTTP", inventory.SeverityMedium},
		{5900, "VNC", inventory.SeverityMedium},
		{5901, "VNC", inventory.SeverityMedium},
		{5985, "WinRM", inventory.SeverityMedium},
		{5986, "WinRM", inventory.SeverityMedium},
		{6000, "X11", inventory.SeverityMedium},
		{10250, "kubelet API", inventory.SeverityHigh},
	} {
		sensitivePorts[p.Number] = p
	}
}

// SensitivePorts returns the sensitive ports in an EXPOSE value or an
// image config's ExposedPorts key: "22", "22/tcp", "5900-5910/tcp".
// Ranges are bounded, so a hostile "1-65535" costs nothing.
func SensitivePorts(spec string) []Port {
	spec = strings.TrimSpace(spec)
	if i := strings.IndexByte(spec, '/'); i >= 0 {
		spec = spec[:i]
	}
	lo, hi := spec, spec
	if i := strings.IndexByte(spec, '-'); i >= 0 {
		lo, hi = spec[:i], spec[i+1:]
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 0 || b > 65535 || a > b {
		return nil
	}
	var out []Port
	for _, n := range sortedPorts {
		if n >= a && n <= b {
			out = append(out, sensitivePorts[n])
		}
	}
	return out
}

var sortedPorts = []int{21, 22, 23, 69, 111, 135, 139, 445, 512, 513, 514, 2375, 2376, 3389, 5800, 5900, 5901, 5985, 5986, 6000, 10250}

// The names of build arguments and environment variables that hold
// secrets: Docker's own SecretsUsedInArgOrEnv build check (BuildKit,
// frontend/dockerfile/dockerfile2llb/validations.go, Apache-2.0) matches
// the same words, so Seawall and `docker build --check` agree.
var (
	secretName = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	// Names that say the value is not the secret itself.
	notSecretName = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
)

// SecretName reports whether a variable's name says it holds a secret.
func SecretName(name string) bool {
	return secretName.MatchString(name) && !notSecretName.MatchString(name)
}

// Package kinds that should not be in a container image.
const (
	PackageSudo = "sudo"
	PackageSSH  = "ssh-server"
)

// riskyPackages maps package names (deb, apk and rpm alike) to what they are.
var riskyPackages = map[string]string{
	"sudo":               PackageSudo,
	"sudo-ldap":          PackageSudo,
	"sudo-rs":            PackageSudo,
	"doas":               PackageSudo,
	"opendoas":           PackageSudo,
	"openssh-server":     PackageSSH,
	"openssh-server-pam": PackageSSH,
	"dropbear":           PackageSSH,
	"dropbear-bin":       PackageSSH,
	"dropbear-run":       PackageSSH,
	"tinysshd":           PackageSSH,
}

// RiskyPackage says whether a package is sudo (PackageSudo) or an SSH
// server (PackageSSH), and "" otherwise.
func RiskyPackage(name string) string {
	return riskyPackages[strings.ToLower(name)]
}
