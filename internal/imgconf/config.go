package imgconf

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// checkConfig runs the checks on the image's config and history.
func checkConfig(img *image.Image) []inventory.Finding {
	cfg := img.Config
	var out []inventory.Finding
	// at places a finding on a setting of the config, named as the
	// secret scanner names the settings it reports on.
	at := func(f inventory.Finding, setting, snippet string) inventory.Finding {
		f.Location = inventory.Location{Path: PathConfig + ": " + setting, LayerIndex: -1}
		f.Snippet = snippet
		return f
	}
	windows := strings.EqualFold(cfg.OS, "windows")

	if !windows {
		user := strings.TrimSpace(cfg.Config.User)
		name, _, _ := strings.Cut(user, ":")
		switch {
		case user == "":
			out = append(out, at(finding(IDRootUser, "The image's config sets no user: its processes run as root."), "USER", "User: (none)"))
		case name == "root" || name == "0":
			out = append(out, at(finding(IDRootUser, fmt.Sprintf("The image's config sets the user %q: its processes run as root.", user)), "USER", "User: "+user))
		}
	}

	for _, kv := range cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		if v != "" && SecretName(k) {
			out = append(out, at(finding(IDSecretEnv, fmt.Sprintf("The environment variable %s is named like a secret and has a value in the image's config.", k)), "ENV "+k, "ENV "+k+"=****"))
		}
	}

	ports := make([]string, 0, len(cfg.Config.ExposedPorts))
	for p := range cfg.Config.ExposedPorts {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	for _, p := range ports {
		for _, sp := range SensitivePorts(p) {
			f := at(finding(IDSensitivePort, fmt.Sprintf("The image exposes port %s (%s).", p, sp.Service)), "EXPOSE "+p, fmt.Sprintf("EXPOSE %s (port %d)", p, sp.Number))
			f.Severity = sp.Severity
			out = append(out, f)
		}
	}

	if base := cfg.Config.Labels["org.opencontainers.image.base.name"]; base != "" {
		if why := UnpinnedRef(base); why != "" {
			out = append(out, at(finding(IDLatestBase, fmt.Sprintf("The label org.opencontainers.image.base.name says the image was built FROM %s, which %s.", base, why)), "LABEL org.opencontainers.image.base.name", "org.opencontainers.image.base.name="+base))
		}
	}

	if hc := cfg.Config.Healthcheck; hc == nil || len(hc.Test) == 0 {
		out = append(out, at(finding(IDNoHealthcheck, "The image's config defines no health check."), "HEALTHCHECK", "Healthcheck: (none)"))
	}

	out = append(out, checkHistory(img)...)
	return out
}

// UnpinnedRef says why an image reference is not pinned to a digest and
// may move ("has no tag, which means latest", "uses the tag latest"), or
// "" when it is pinned, is a fixed tag, or is scratch. Dockerfile checks
// use it too, so FROM lines and base-image labels read the same way.
func UnpinnedRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.EqualFold(ref, "scratch") || strings.Contains(ref, "@") {
		return ""
	}
	name := ref
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		name = ref[i+1:]
	}
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok:
		return "has no tag, which means latest"
	case tag == "latest":
		return "uses the tag latest"
	}
	return ""
}

// checkHistory looks at how each layer was made: build arguments that
// RUN steps recorded, and ADD from URLs.
func checkHistory(img *image.Image) []inventory.Finding {
	var out []inventory.Finding
	layer := 0
	for i, h := range img.Config.History {
		loc := inventory.Location{Path: fmt.Sprintf("%s: step %d", PathHistory, i+1), LayerIndex: -1}
		if !h.EmptyLayer {
			if layer < len(img.Layers) {
				loc.LayerIndex = layer
				loc.LayerDigest = img.Layers[layer].Digest
				loc.LayerDiffID = img.Layers[layer].DiffID
			}
			layer++
		}
		for _, fd := range historyStep(h) {
			fd.Location = loc
			out = append(out, fd)
		}
	}
	return out
}

func historyStep(h v1.History) []inventory.Finding {
	var out []inventory.Finding
	cmd := strings.TrimSpace(h.CreatedBy)
	for _, a := range buildArgs(cmd) {
		if a.value != "" && SecretName(a.name) {
			f := finding(IDSecretEnv, fmt.Sprintf("The build argument %s is named like a secret, and the history records its value.", a.name))
			f.Snippet = "ARG " + a.name + "=****"
			out = append(out, f)
		}
	}
	if src, ok := addURL(cmd); ok {
		f := finding(IDAddURL, fmt.Sprintf("The image's history records ADD %s without --checksum.", src))
		f.Snippet = "ADD " + src
		out = append(out, f)
	}
	return out
}

type buildArg struct{ name, value string }

// buildArgs reads the build arguments a RUN step records in its history:
// "|2 A=1 B=2 /bin/sh -c …" (the classic builder) and "RUN |2 A=1 B=2
// /bin/sh -c …" (BuildKit).
func buildArgs(cmd string) []buildArg {
	cmd = strings.TrimPrefix(cmd, "RUN ")
	if !strings.HasPrefix(cmd, "|") {
		return nil
	}
	fields := strings.Fields(cmd[1:])
	if len(fields) == 0 {
		return nil
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 || n >= len(fields) {
		return nil
	}
	var out []buildArg
	for _, f := range fields[1 : 1+n] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			break
		}
		out = append(out, buildArg{k, v})
	}
	return out
}

// addURL finds an ADD of a URL without a checksum in a history step:
// BuildKit records the instruction as written ("ADD https://… /x #
// buildkit"); the classic builder records "/bin/sh -c #(nop) ADD …".
func addURL(cmd string) (string, bool) {
	i := strings.Index(cmd, "ADD ")
	if i < 0 || (i > 0 && cmd[i-1] != ' ') {
		return "", false
	}
	rest := strings.Fields(cmd[i+4:])
	checksum := false
	for _, w := range rest {
		if strings.HasPrefix(w, "--checksum") {
			checksum = true
			continue
		}
		if strings.HasPrefix(w, "--") {
			continue
		}
		lw := strings.ToLower(w)
		if strings.HasPrefix(lw, "http://") || strings.HasPrefix(lw, "https://") || strings.HasPrefix(lw, "git@") || strings.HasPrefix(lw, "git://") {
			if checksum {
				return "", false
			}
			return RedactURL(w), true
		}
		break
	}
	return "", false
}

// RedactURL hides a URL's user information, which may hold a password:
// https://user:pw@host/x becomes https://****@host/x.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.Scheme + "://****@" + strings.TrimPrefix(u.String(), u.Scheme+"://")
}
