package dockerfile

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/seawall-dev/seawall/internal/imgconf"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// Check is one Dockerfile check; it is the image checks' type, so both
// kinds render the same way in every report. Its ID is stable: ignore
// files and SARIF alerts refer to it.
type Check = imgconf.Check

// The checks' IDs.
const (
	IDRootUser       = "SW-DF-001"
	IDSecretArgEnv   = "SW-DF-002"
	IDAddURL         = "SW-DF-003"
	IDAddLocal       = "SW-DF-004"
	IDSensitivePort  = "SW-DF-005"
	IDUnpinnedBase   = "SW-DF-006"
	IDNoHealthcheck  = "SW-DF-007"
	IDRiskyPackage   = "SW-DF-008"
	IDSudo           = "SW-DF-009"
	IDPackageCache   = "SW-DF-010"
	IDUpdateAlone    = "SW-DF-011"
	IDSetuidChmod    = "SW-DF-012"
	IDWorldWritable  = "SW-DF-013"
	dockerReferences = "https://docs.docker.com/build/building/best-practices/"
)

// Checks lists every Dockerfile check.
var Checks = []Check{
	{
		ID: IDRootUser, Title: "Image runs as root", Severity: inventory.SeverityHigh, CIS: "4.1",
		Description: "The final stage sets no USER, or its last USER is root (or UID 0), so the container's processes run as root unless the runtime says otherwise. A process that breaks out of the application then holds root in the container, one step from the host.",
		Remediation: "Create an unprivileged user and end the final stage with `USER <name or UID>` (a numeric UID lets Kubernetes' runAsNonRoot verify it).",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#user"},
	},
	{
		ID: IDSecretArgEnv, Title: "Secret in ARG or ENV", Severity: inventory.SeverityHigh, CIS: "4.10",
		Description: "A build argument or environment variable is named like a secret. ENV values are stored in the image's config, and build arguments used by RUN are recorded in the image's history: anyone who can pull the image can read them.",
		Remediation: "Pass secrets with `RUN --mount=type=secret` (BuildKit) or at run time from a secret store, never with ARG or ENV.",
		References:  []string{"https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/", "https://docs.docker.com/build/building/secrets/"},
	},
	{
		ID: IDAddURL, Title: "ADD from a remote URL without a checksum", Severity: inventory.SeverityMedium, CIS: "4.9",
		Description: "ADD fetches a URL or Git repository at build time and puts whatever the server sends into the image, unverified. A compromised or changed download changes the image silently.",
		Remediation: "Download with a checksum: `ADD --checksum=sha256:<digest> <url> <dest>` (BuildKit), or `RUN curl … && sha256sum -c`, or COPY a vendored file.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#add---checksum"},
	},
	{
		ID: IDAddLocal, Title: "ADD used where COPY will do", Severity: inventory.SeverityLow, CIS: "4.9",
		Description: "ADD copies a local file that is not an archive. ADD also unpacks archives and fetches URLs, so a later change of the source can change what it does; COPY only copies.",
		Remediation: "Use COPY for local files; keep ADD for archives that must be unpacked.",
		References:  []string{dockerReferences + "#add-or-copy"},
	},
	{
		ID: IDSensitivePort, Title: "Sensitive port exposed", Severity: inventory.SeverityMedium,
		Description: "The image exposes a port of a remote shell or desktop (SSH, Telnet, RDP, VNC, X11), of file sharing, or of a control plane (the Docker API, the kubelet). Such services do not belong in an application container. (CIS Docker 5.8, a runtime recommendation, asks that only needed ports be open.)",
		Remediation: "Remove the service and its EXPOSE; debug a container with `docker exec` or `kubectl debug` rather than an SSH or VNC server inside it.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#expose"},
	},
	{
		ID: IDUnpinnedBase, Title: "Image not pinned: latest tag", Severity: inventory.SeverityMedium,
		Description: "FROM (or COPY --from) names an image by the tag latest, or by no tag, which means latest. Each build may then get a different image, and a compromised or broken push of latest reaches the build unnoticed.",
		Remediation: "Pin a version tag, and preferably the digest: `FROM debian:12.6-slim@sha256:…`.",
		References:  []string{dockerReferences + "#pin-base-image-versions"},
	},
	{
		ID: IDNoHealthcheck, Title: "No HEALTHCHECK", Severity: inventory.SeverityLow, CIS: "4.6",
		Description: "The final stage defines no HEALTHCHECK, so Docker cannot tell a running but broken container from a healthy one. (An explicit `HEALTHCHECK NONE` is a decision and is not reported.)",
		Remediation: "Add `HEALTHCHECK CMD <command that fails when the service is unhealthy>`, or `HEALTHCHECK NONE` where an orchestrator's probes do the job.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#healthcheck"},
	},
	{
		ID: IDRiskyPackage, Title: "sudo or an SSH server installed", Severity: inventory.SeverityMedium, CIS: "4.3",
		Description: "The image installs sudo (or doas), which lets a process regain root, or an SSH server, which opens a login into the container. Neither is needed to run an application in a container. (CIS Docker 5.6 also asks that sshd not run in containers.)",
		Remediation: "Remove the package. Run the process as the user it needs from the start; use `docker exec` or `kubectl exec` to get a shell.",
	},
	{
		ID: IDSudo, Title: "RUN uses sudo", Severity: inventory.SeverityMedium,
		Description: "A RUN command runs through sudo. Build steps run as the current USER; sudo in a Dockerfile means sudo is installed and configured in the image, and its behaviour without a terminal is unpredictable.",
		Remediation: "Switch users with USER around the steps that need root instead of sudo, and leave sudo out of the image.",
	},
	{
		ID: IDPackageCache, Title: "Package-manager cache left in the image", Severity: inventory.SeverityLow,
		Description: "A package manager's download cache or index is left in the layer that installed packages. It makes the image bigger, and a stale package index in the image can later install outdated packages.",
		Remediation: "Clean up in the same RUN: `rm -rf /var/lib/apt/lists/*` after apt-get, `apk add --no-cache`, `yum clean all`, `dnf clean all`, `zypper clean`, `pip install --no-cache-dir`; or use `RUN --mount=type=cache` for the cache directory.",
		References:  []string{dockerReferences + "#apt-get"},
	},
	{
		ID: IDUpdateAlone, Title: "Package index updated in a RUN of its own", Severity: inventory.SeverityMedium, CIS: "4.7",
		Description: "`apt-get update` (or `apk update`, `yum makecache` …) runs in its own RUN. Its layer is cached and reused, so later builds install from a stale index and miss security updates.",
		Remediation: "Update and install in the same RUN: `RUN apt-get update && apt-get install -y …`.",
		References:  []string{dockerReferences + "#apt-get"},
	},
	{
		ID: IDSetuidChmod, Title: "setuid or setgid bit set", Severity: inventory.SeverityMedium, CIS: "4.8",
		Description: "A RUN command sets the setuid or setgid bit on a file. A set-ID program runs with its owner's or group's rights whoever starts it, and is a classic way to regain root.",
		Remediation: "Do not set the bit; grant the one capability the program needs, or run it as the right user.",
	},
	{
		ID: IDWorldWritable, Title: "World-writable path in a system directory", Severity: inventory.SeverityMedium,
		Description: "A RUN command makes a file or directory under /bin, /boot, /etc, /lib, /opt, /root, /sbin, /usr or /var writable by every user (chmod 777, o+w …), without the sticky bit. Any process in the container can then replace programs, libraries or configuration that others trust.",
		Remediation: "Give the path to the user that needs it (`chown`, or `COPY --chown`) and keep it unwritable for others; for a shared scratch directory add the sticky bit (`chmod 1777`).",
	},
}

var checkByID = func() map[string]*Check {
	m := map[string]*Check{}
	for i := range Checks {
		m[Checks[i].ID] = &Checks[i]
	}
	return m
}()

// finding makes a finding of check id at line.
func (f *File) finding(id string, line int, msg, snippet string) inventory.Finding {
	c := checkByID[id]
	fd := inventory.Finding{
		ID:             c.ID,
		Kind:           inventory.KindMisconfiguration,
		Title:          c.Title,
		Details:        msg + "\n\n" + c.Description,
		Severity:       c.Severity,
		SeveritySource: "seawall",
		Line:           line,
		Snippet:        snippet,
		Remediation:    c.Remediation,
		References:     slices.Clone(c.References),
	}
	if c.CIS != "" {
		fd.Controls = []string{"CIS Docker " + c.CIS}
	}
	return fd
}

// snippet is the first line of an instruction, shortened.
func (f *File) snippet(line int) string {
	s := strings.TrimSpace(f.Line(line))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Check runs every check on the file.
func (f *File) Check() []inventory.Finding {
	var out []inventory.Finding
	out = append(out, f.checkUser()...)
	out = append(out, f.checkHealthcheck()...)
	out = append(out, f.checkSecrets()...)
	chain := map[*Stage]bool{}
	for _, s := range f.Chain() {
		chain[s] = true
	}
	for _, s := range f.Stages {
		out = append(out, f.checkStage(s, chain[s])...)
	}
	inventory.SortFindings(out)
	return out
}

func lineOf(c instructions.Command) int {
	if l, ok := c.(interface{ Location() []parser.Range }); ok {
		if r := l.Location(); len(r) > 0 {
			return r[0].Start.Line
		}
	}
	return 0
}

// stageEnv is the variables a stage's instructions see: its ARGs (with
// the meta ARGs' defaults they redeclare) and ENVs, in order.
type stageEnv struct {
	lex  *shell.Lex
	meta env
	vars env
}

func (f *File) newStageEnv() *stageEnv {
	return &stageEnv{lex: shell.NewLex(f.Escape), meta: f.metaEnv(), vars: env{}}
}

func (e *stageEnv) apply(c instructions.Command) {
	switch c := c.(type) {
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			switch {
			case kv.Value != nil:
				e.vars[kv.Key] = expandAny(e.lex, *kv.Value, e.vars)
			default:
				// A build argument may set it; a meta ARG's default is used
				// when the stage redeclares it.
				if v, ok := e.meta[kv.Key]; ok {
					e.vars[kv.Key] = v
				} else {
					e.vars[kv.Key] = unknown
				}
			}
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			e.vars[kv.Key] = expandAny(e.lex, kv.Value, e.vars)
		}
	}
}

func (e *stageEnv) expand(w string) (string, bool) { return expand(e.lex, w, e.vars) }

// checkUser: the last USER of the final stage and the stages it is built
// on decides who the container runs as.
func (f *File) checkUser() []inventory.Finding {
	var last *instructions.UserCommand
	var user string
	known := true
	for _, s := range f.Chain() {
		e := f.newStageEnv()
		for _, c := range s.Commands {
			e.apply(c)
			if u, ok := c.(*instructions.UserCommand); ok {
				last = u
				user, known = e.expand(u.User)
			}
		}
	}
	final := f.Final()
	if last == nil {
		return []inventory.Finding{f.finding(IDRootUser, final.Line,
			fmt.Sprintf("The final stage (FROM %s) and the stages it is built on set no USER: the container runs as the base image's user, root unless the base image says otherwise.", final.Base),
			f.snippet(final.Line))}
	}
	if !known {
		return nil // USER $UID with no default: not knowable here
	}
	name, _, _ := strings.Cut(user, ":")
	if name == "root" || name == "0" {
		l := lineOf(last)
		return []inventory.Finding{f.finding(IDRootUser, l, fmt.Sprintf("The last USER of the final stage is %q: the container runs as root.", user), f.snippet(l))}
	}
	return nil
}

func (f *File) checkHealthcheck() []inventory.Finding {
	for _, s := range f.Chain() {
		for _, c := range s.Commands {
			if _, ok := c.(*instructions.HealthCheckCommand); ok {
				return nil // present, or disabled on purpose with NONE
			}
		}
	}
	final := f.Final()
	return []inventory.Finding{f.finding(IDNoHealthcheck, final.Line,
		fmt.Sprintf("The final stage (FROM %s) defines no HEALTHCHECK.", final.Base), f.snippet(final.Line))}
}

// checkSecrets reports ARGs and ENVs named like secrets, in every stage
// (a build stage's arguments are in its history and the build cache) and
// before the first FROM. Values are never shown.
func (f *File) checkSecrets() []inventory.Finding {
	var out []inventory.Finding
	seen := map[string]bool{}
	report := func(kind, key string, hasValue bool, line int) {
		if !imgconf.SecretName(key) || seen[fmt.Sprint(line, key)] {
			return
		}
		seen[fmt.Sprint(line, key)] = true
		msg := fmt.Sprintf("%s %s is named like a secret", kind, key)
		snip := kind + " " + key
		if hasValue {
			msg += " and is given a value in the Dockerfile"
			snip += "=****"
		}
		out = append(out, f.finding(IDSecretArgEnv, line, msg+".", snip))
	}
	lex := shell.NewLex(f.Escape)
	// Quotes only: what matters is whether a value is written at all.
	value := func(v string) string { return expandAny(lex, v, env{}) }
	args := func(a *instructions.ArgCommand) {
		for _, kv := range a.Args {
			report("ARG", kv.Key, kv.Value != nil && value(*kv.Value) != "", lineOf(a))
		}
	}
	for i := range f.MetaArgs {
		args(&f.MetaArgs[i])
	}
	for _, s := range f.Stages {
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				args(c)
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if kv.Value != "" && value(kv.Value) != "" || strings.Contains(kv.Value, "$") {
						report("ENV", kv.Key, true, lineOf(c))
					}
				}
			}
		}
	}
	return out
}

// checkStage runs the per-instruction checks. inImage is set for the
// final stage and the stages it is built on: only their files, users and
// ports end up in the image.
func (f *File) checkStage(s *Stage, inImage bool) []inventory.Finding {
	var out []inventory.Finding
	if ref := s.Base; s.Resolved && s.Parent == nil {
		if why := imgconf.UnpinnedRef(ref); why != "" {
			out = append(out, f.finding(IDUnpinnedBase, s.Line, fmt.Sprintf("FROM %s %s.", ref, why), f.snippet(s.Line)))
		}
	}
	e := f.newStageEnv()
	for _, c := range s.Commands {
		e.apply(c)
		line := lineOf(c)
		switch c := c.(type) {
		case *instructions.CopyCommand:
			if inImage {
				out = append(out, f.checkChmodFlag(c.Chmod, c.DestPath, line, e)...)
			}
			if c.From == "" || f.StageNamed(c.From, s.Index) != nil {
				continue
			}
			if ref, ok := e.expand(c.From); ok && f.StageNamed(ref, s.Index) == nil {
				if why := imgconf.UnpinnedRef(ref); why != "" {
					out = append(out, f.finding(IDUnpinnedBase, line, fmt.Sprintf("COPY --from=%s %s.", ref, why), f.snippet(line)))
				}
			}
		case *instructions.AddCommand:
			out = append(out, f.checkAdd(c, line)...)
			if inImage {
				out = append(out, f.checkChmodFlag(c.Chmod, c.DestPath, line, e)...)
			}
		case *instructions.ExposeCommand:
			if !inImage {
				continue
			}
			for _, p := range c.Ports {
				spec, ok := e.expand(p)
				if !ok {
					continue
				}
				for _, sp := range imgconf.SensitivePorts(spec) {
					fd := f.finding(IDSensitivePort, line, fmt.Sprintf("EXPOSE %s exposes port %d (%s).", spec, sp.Number, sp.Service), f.snippet(line))
					fd.Severity = sp.Severity
					out = append(out, fd)
				}
			}
		case *instructions.RunCommand:
			out = append(out, f.checkRun(c, line, inImage, e)...)
		}
	}
	return out
}

var archiveExt = regexp.MustCompile(`(?i)\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz|zst)$`)

func (f *File) checkAdd(c *instructions.AddCommand, line int) []inventory.Finding {
	var out []inventory.Finding
	remote := 0
	for _, src := range c.SourcePaths {
		if isRemote(src) {
			remote++
			if c.Checksum == "" {
				out = append(out, f.finding(IDAddURL, line, fmt.Sprintf("ADD fetches %s without --checksum.", imgconf.RedactURL(src)), "ADD "+imgconf.RedactURL(src)))
			}
		}
	}
	if remote == 0 && len(c.SourceContents) == 0 {
		local := 0
		for _, src := range c.SourcePaths {
			if !archiveExt.MatchString(src) {
				local++
			}
		}
		if local > 0 {
			out = append(out, f.finding(IDAddLocal, line, "ADD copies a local file that is not an archive; COPY does the same with less surprise.", f.snippet(line)))
		}
	}
	return out
}

func isRemote(src string) bool {
	s := strings.ToLower(src)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") ||
		strings.HasPrefix(s, "git@") || strings.HasPrefix(s, "git://") || strings.HasPrefix(s, "ssh://")
}

// updateOnly are the commands that refresh a package index without
// installing anything.
func isUpdate(c command) bool {
	w := c.words
	if len(w) < 2 {
		return false
	}
	switch baseName(w[0]) {
	case "apt-get", "apt", "aptitude", "apk":
		return w[1] == "update"
	case "yum", "dnf", "microdnf", "tdnf":
		return w[1] == "makecache"
	case "zypper":
		return w[1] == "refresh" || w[1] == "ref"
	}
	return false
}

// install is what one package-manager command installs.
type install struct {
	manager string
	pkgs    []string
	cmd     command
	flags   []string
}

// installVerbs are the package managers' verbs that install packages.
var installVerbs = map[string][]string{
	"apt-get": {"install", "reinstall"}, "apt": {"install", "reinstall"}, "aptitude": {"install"},
	"apk": {"add"}, "yum": {"install", "reinstall"}, "dnf": {"install", "reinstall"},
	"microdnf": {"install"}, "tdnf": {"install"}, "zypper": {"install", "in"},
	"pip": {"install"}, "pip3": {"install"},
}

// valuedOptions take a value, so that the value is not read as a package.
var valuedOptions = map[string]bool{"-o": true, "-t": true, "-c": true, "--target-release": true, "--option": true,
	"--virtual": true, "-X": true, "--repository": true, "--repo": true, "--enablerepo": true, "--disablerepo": true,
	"--setopt": true, "--installroot": true, "-r": true, "--requirement": true, "-i": true, "--index-url": true,
	"--extra-index-url": true, "--prefix": true, "--root": true, "--target": true, "-e": true, "--constraint": true}

func parseInstall(c command) (install, bool) {
	w := c.words
	if len(w) < 2 {
		return install{}, false
	}
	mgr := baseName(w[0])
	i := 1
	if strings.HasPrefix(mgr, "python") && len(w) > 3 && w[1] == "-m" && strings.HasPrefix(w[2], "pip") {
		mgr, i = "pip", 3
	}
	// Options before the verb: apt-get -y install, pip --quiet install.
	var flags []string
	for i < len(w) && strings.HasPrefix(w[i], "-") {
		flags = append(flags, w[i])
		i++
	}
	if i >= len(w) || !slices.Contains(installVerbs[mgr], w[i]) {
		return install{}, false
	}
	in := install{manager: mgr, cmd: c, flags: flags}
	for i++; i < len(w); i++ {
		a := w[i]
		if strings.HasPrefix(a, "-") {
			in.flags = append(in.flags, a)
			if valuedOptions[a] && i+1 < len(w) {
				i++
			}
			continue
		}
		in.pkgs = append(in.pkgs, pkgName(a))
	}
	return in, true
}

// pkgName drops a version, architecture or release from a package
// argument: curl=7.88.1-10, libc6:amd64, nginx/bookworm, sudo-1.9.
func pkgName(a string) string {
	if i := strings.IndexAny(a, "=:/<>"); i > 0 {
		a = a[:i]
	}
	return a
}

func (in install) has(flag string) bool {
	for _, f := range in.flags {
		if f == flag || strings.HasPrefix(f, flag+"=") {
			return true
		}
	}
	return false
}

var setidMode = regexp.MustCompile(`^(?:[ugoa]*[+=][rwxXt]*s[rwxXst]*|[0-7]*[2-7][0-7]{3})$`)

func (f *File) checkRun(r *instructions.RunCommand, line int, inImage bool, e *stageEnv) []inventory.Finding {
	script := strings.Join(r.CmdLine, " ")
	if !r.PrependShell {
		// The exec form: the words are the command.
		script = shellQuoteJoin(r.CmdLine)
	}
	for _, h := range r.Files {
		if heredocIsScript(script, h.Name) {
			script += "\n" + h.Data
		}
	}
	cmds := commands(script)
	var out []inventory.Finding
	snippet := func(c command) string {
		s := c.String()
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return s
	}

	hasInstall, updates := false, []command{}
	var installs []install
	sudoReported := false
	for _, c := range cmds {
		if c.sudo && !sudoReported {
			sudoReported = true
			out = append(out, f.finding(IDSudo, line, "RUN runs a command with sudo: "+truncate(c.String(), 80), snippet(c)))
		}
		if isUpdate(c) {
			updates = append(updates, c)
		}
		if in, ok := parseInstall(c); ok {
			installs = append(installs, in)
			if in.manager != "pip" && in.manager != "pip3" {
				hasInstall = true
			}
		}
		if inImage && len(c.words) > 2 && baseName(c.words[0]) == "chmod" {
			if p, ok := worldWritable(c.words[1:], e); ok {
				out = append(out, f.finding(IDWorldWritable, line, fmt.Sprintf("chmod makes %s writable by every user.", p), snippet(c)))
			}
			for _, a := range c.words[1:] {
				for _, m := range strings.Split(a, ",") {
					if setidMode.MatchString(m) {
						out = append(out, f.finding(IDSetuidChmod, line, fmt.Sprintf("chmod %s sets the setuid or setgid bit.", a), snippet(c)))
						goto nextCmd
					}
				}
			}
		}
	nextCmd:
	}
	if len(updates) > 0 && !hasInstall {
		out = append(out, f.finding(IDUpdateAlone, line, fmt.Sprintf("`%s` runs without installing anything in the same RUN.", updates[0]), snippet(updates[0])))
	}
	if !inImage {
		return out
	}
	for _, in := range installs {
		for _, p := range in.pkgs {
			switch imgconf.RiskyPackage(p) {
			case imgconf.PackageSudo:
				out = append(out, f.finding(IDRiskyPackage, line, fmt.Sprintf("%s installs %s, which lets a process regain root.", in.manager, p), snippet(in.cmd)))
			case imgconf.PackageSSH:
				fd := f.finding(IDRiskyPackage, line, fmt.Sprintf("%s installs the SSH server %s.", in.manager, p), snippet(in.cmd))
				out = append(out, fd)
			}
		}
	}
	if why := cacheLeft(installs, cmds, instructionsMounts(r), e); why != "" {
		out = append(out, f.finding(IDPackageCache, line, why, snippet(installs[0].cmd)))
	}
	return out
}

func instructionsMounts(r *instructions.RunCommand) []string {
	var out []string
	for _, m := range instructions.GetMounts(r) {
		if m != nil && (m.Type == instructions.MountTypeCache || m.Type == instructions.MountTypeTmpfs) {
			out = append(out, path.Clean(m.Target))
		}
	}
	return out
}

// cacheLeft says which package manager leaves its cache in the layer, or
// "". A cleanup anywhere in the same RUN, or a cache or tmpfs mount over
// the directory, counts.
func cacheLeft(installs []install, cmds []command, mounts []string, e *stageEnv) string {
	removed := func(dirs ...string) bool {
		for _, m := range mounts {
			for _, d := range dirs {
				if m == d || strings.HasPrefix(d, m+"/") {
					return true
				}
			}
		}
		for _, c := range cmds {
			if len(c.words) < 2 || baseName(c.words[0]) != "rm" {
				continue
			}
			for _, a := range c.words[1:] {
				for _, d := range dirs {
					if strings.HasPrefix(strings.TrimRight(a, "/*"), d) || strings.HasPrefix(d, strings.TrimRight(a, "/*")+"/") && strings.TrimRight(a, "/*") != "" {
						return true
					}
				}
			}
		}
		return false
	}
	ran := func(mgr string, verbs ...string) bool {
		for _, c := range cmds {
			if len(c.words) >= 2 && baseName(c.words[0]) == mgr && slices.Contains(verbs, c.words[1]) {
				return true
			}
		}
		return false
	}
	for _, in := range installs {
		switch in.manager {
		case "apt-get", "apt", "aptitude":
			if !removed("/var/lib/apt/lists") {
				return fmt.Sprintf("`%s` leaves the package lists in /var/lib/apt/lists: remove them in the same RUN.", truncate(in.cmd.String(), 80))
			}
		case "apk":
			if !in.has("--no-cache") && !removed("/var/cache/apk") {
				return fmt.Sprintf("`%s` keeps its cache in /var/cache/apk: use apk add --no-cache.", truncate(in.cmd.String(), 80))
			}
		case "yum":
			if !ran("yum", "clean") && !removed("/var/cache/yum") {
				return fmt.Sprintf("`%s` leaves its cache in /var/cache/yum: run yum clean all in the same RUN.", truncate(in.cmd.String(), 80))
			}
		case "dnf", "microdnf", "tdnf":
			if !ran(in.manager, "clean") && !removed("/var/cache/dnf", "/var/cache/yum", "/var/cache/tdnf") {
				return fmt.Sprintf("`%s` leaves its cache in /var/cache: run %s clean all in the same RUN.", truncate(in.cmd.String(), 80), in.manager)
			}
		case "zypper":
			if !ran("zypper", "clean", "cc") && !removed("/var/cache/zypp") {
				return fmt.Sprintf("`%s` leaves its cache in /var/cache/zypp: run zypper clean in the same RUN.", truncate(in.cmd.String(), 80))
			}
		case "pip", "pip3":
			if v, ok := e.vars["PIP_NO_CACHE_DIR"]; ok && v != "" && v != "0" && !strings.EqualFold(v, "false") {
				continue
			}
			if !in.has("--no-cache-dir") && !removed("/root/.cache/pip", "/root/.cache") {
				return fmt.Sprintf("`%s` keeps downloaded packages in ~/.cache/pip: use pip install --no-cache-dir.", truncate(in.cmd.String(), 80))
			}
		}
	}
	return ""
}

// heredocIsScript reports whether a RUN heredoc is a script (RUN <<EOF,
// RUN <<EOF bash) rather than a file's content fed to another command
// (RUN <<EOF cat > /etc/conf).
func heredocIsScript(cmdline, name string) bool {
	for _, marker := range []string{"<<" + name, "<<-" + name, "<<'" + name + "'", "<<-'" + name + "'", `<<"` + name + `"`, `<<-"` + name + `"`} {
		i := strings.Index(cmdline, marker)
		if i < 0 {
			continue
		}
		rest := strings.Fields(cmdline[i+len(marker):])
		if len(rest) == 0 || rest[0] == "&&" || rest[0] == ";" || rest[0] == "||" || shellName(rest[0]) {
			return true
		}
		return false
	}
	return false
}

// shellQuoteJoin joins exec-form words so that commands() splits them
// back into the same words.
func shellQuoteJoin(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(w, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkChmodFlag checks the mode that COPY --chmod or ADD --chmod gives
// the files it writes to dest: set-ID bits anywhere, and write for others
// in a system directory.
func (f *File) checkChmodFlag(mode, dest string, line int, e *stageEnv) []inventory.Finding {
	if mode == "" {
		return nil
	}
	m, ok := e.expand(mode)
	if !ok {
		return nil
	}
	var out []inventory.Finding
	if setidMode.MatchString(m) {
		out = append(out, f.finding(IDSetuidChmod, line, fmt.Sprintf("--chmod=%s sets the setuid or setgid bit.", m), f.snippet(line)))
	}
	if p, ok := worldWritable([]string{m, dest}, e); ok {
		out = append(out, f.finding(IDWorldWritable, line, fmt.Sprintf("--chmod=%s makes %s writable by every user.", m, p), f.snippet(line)))
	}
	return out
}

// worldWritable reads chmod's arguments and returns the first system path
// it makes writable by others without the sticky bit. Relative paths
// (which depend on WORKDIR) and paths only the build knows are not
// guessed.
func worldWritable(args []string, e *stageEnv) (string, bool) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") && !chmodMode.MatchString(args[i]) {
		i++ // -R, -v, --recursive
	}
	if i >= len(args) || !othersWrite(args[i]) {
		return "", false
	}
	for _, a := range args[i+1:] {
		p, ok := e.expand(a)
		if !ok || !strings.HasPrefix(p, "/") {
			continue
		}
		p = path.Clean(strings.TrimRight(p, "*"))
		if imgconf.SystemDir(p) {
			return p, true
		}
	}
	return "", false
}

// chmodMode is a symbolic mode that starts with a minus ("-w"), which is
// a mode, not an option.
var chmodMode = regexp.MustCompile(`^-[rwxXst]+$`)

// othersWrite reports whether a chmod mode gives others write permission
// and no sticky bit: 777, 0666, o+w, a=rwx, go+rw. A mode with no "who"
// (+w) follows the umask, which keeps others out.
func othersWrite(mode string) bool {
	if n := len(mode); n >= 3 && n <= 4 && strings.Trim(mode, "01234567") == "" {
		d := mode[n-1] - '0'
		sticky := n == 4 && (mode[0]-'0')&1 != 0
		return d&2 != 0 && !sticky
	}
	w, sticky := false, false
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			continue
		}
		who, op, perm := clause[:i], clause[i], clause[i+1:]
		if strings.Contains(perm, "t") {
			sticky = op != '-'
		}
		if !strings.ContainsAny(who, "oa") {
			continue
		}
		switch op {
		case '+':
			w = w || strings.Contains(perm, "w")
		case '=':
			w = strings.Contains(perm, "w")
		case '-':
			w = w && !strings.Contains(perm, "w")
		}
	}
	return w && !sticky
}
