package dockerfile

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/seawall-dev/seawall/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// TestChecksGolden runs every check on the Dockerfiles in testdata, good
// and bad, and compares the findings with testdata/dockerfiles.golden.
// docs/ACCURACY.md compares the same files with trivy config.
func TestChecksGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/dockerfiles/*")
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 Dockerfiles in testdata/dockerfiles, found %d (%v)", len(files), err)
	}
	var b strings.Builder
	for _, p := range files {
		out, err := CheckFile(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		fmt.Fprintf(&b, "%s: %d\n", filepath.Base(p), len(out))
		for _, f := range out {
			if f.Kind != inventory.KindMisconfiguration || f.Location.Path != p || f.Line <= 0 || f.Remediation == "" {
				t.Errorf("%s: malformed finding %+v", p, f)
			}
			msg, _, _ := strings.Cut(f.Details, "\n")
			fmt.Fprintf(&b, "  %d %s %s %s | %s\n", f.Line, f.ID, f.Severity, msg, f.Snippet)
		}
	}
	golden := "testdata/dockerfiles.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("findings differ from %s (-want +got; go test -update to accept):\n%s", golden, diff)
	}
}

func TestChecksListed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "SW-DF-") || c.Title == "" || c.Description == "" || c.Remediation == "" {
			t.Errorf("check %+v: duplicate or incomplete", c)
		}
		seen[c.ID] = true
	}
}

// parseOK parses src or fails the test.
func parseOK(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return f
}

func ids(fs []inventory.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s@%d", f.ID, f.Line))
	}
	return out
}

// TestSyntax checks the parts of Dockerfile syntax that change what the
// checks see, each with the findings it must produce.
func TestSyntax(t *testing.T) {
	const tail = "USER 1000\nHEALTHCHECK NONE\n"
	tests := []struct {
		name, src string
		want      []string
	}{
		{"continuation with comments and blank lines",
			"FROM debian:12\nRUN apt-get update && \\\n# a comment\n\n    apt-get install -y \\\n      sudo \\\n && rm -rf /var/lib/apt/lists/*\n" + tail,
			[]string{"SW-DF-008@2"}},
		{"escape directive",
			"# escape=`\nFROM debian:12\nRUN apt-get update && `\n    apt-get install -y openssh-server && `\n    rm -rf /var/lib/apt/lists/*\n" + tail,
			[]string{"SW-DF-008@3"}},
		{"backslash is literal with the backtick escape",
			"# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY app\\ C:\\app\\\nUSER ContainerUser\nHEALTHCHECK NONE\n",
			nil},
		{"directive after a comment is a comment",
			"# hello\n# escape=`\nFROM debian:12\nRUN apt-get update && `\n    apt-get install -y sudo\n" + tail,
			// The backtick is not the escape: the RUN ends at the first line,
			// and the second line is an instruction "APT-GET" that fails.
			nil},
		{"heredoc script",
			"# syntax=docker/dockerfile:1\nFROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y sudo\nEOF\n" + tail,
			[]string{"SW-DF-008@3", "SW-DF-010@3"}},
		{"heredoc with tabs stripped, and a second heredoc",
			"FROM debian:12\nRUN <<-ONE bash && <<TWO sh\n\tapt-get update\n\tapt-get install -y dropbear\n\tONE\nrm -rf /var/lib/apt/lists/*\nTWO\n" + tail,
			[]string{"SW-DF-008@2"}},
		{"heredoc file content is not a script",
			"FROM debian:12\nRUN <<EOF cat > /etc/motd\napt-get install -y sudo\nEOF\n" + tail,
			nil},
		{"COPY heredoc",
			"FROM debian:12\nCOPY <<EOF /app/run.sh\nsudo rm -rf /\nEOF\n" + tail,
			nil},
		{"exec form",
			"FROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"openssh-server\"]\n" + tail,
			[]string{"SW-DF-008@2", "SW-DF-010@2"}},
		{"sh -c inside exec form",
			"FROM alpine:3.20\nRUN [\"/bin/sh\", \"-c\", \"apk add sudo && rm -rf /var/cache/apk/*\"]\n" + tail,
			[]string{"SW-DF-008@2"}},
		{"ARG in FROM, default latest",
			"ARG TAG=latest\nARG IMG=debian\nFROM ${IMG}:${TAG}\n" + tail,
			[]string{"SW-DF-006@3"}},
		{"ARG in FROM, pinned default",
			"ARG TAG=12.6\nFROM debian:$TAG\n" + tail,
			nil},
		{"ARG in FROM without default is not guessed",
			"ARG BASE\nFROM ${BASE}\n" + tail,
			nil},
		{"ARG declared after FROM is not seen by FROM",
			"FROM debian:${TAG:-latest}\nARG TAG=12\n" + tail,
			[]string{"SW-DF-006@1"}},
		{"stage base is not an image",
			"FROM debian:12.6 AS base\nFROM base AS final\nFROM final\n" + tail,
			nil},
		{"stage referenced by index",
			"FROM golang:1.22 AS build\nFROM debian:12.6\nCOPY --from=0 /x /x\nCOPY --from=build /y /y\n" + tail,
			nil},
		{"USER root in a build stage, non-root in the final",
			"FROM debian:12.6 AS build\nUSER root\nRUN true\nFROM debian:12.6\nUSER app\nHEALTHCHECK NONE\n",
			nil},
		{"USER inherited from the parent stage",
			"FROM debian:12.6 AS base\nUSER app\nHEALTHCHECK NONE\nFROM base\nRUN true\n",
			nil},
		{"USER root inherited from the parent stage",
			"FROM debian:12.6 AS base\nUSER app\nUSER root\nFROM base\nHEALTHCHECK NONE\n",
			[]string{"SW-DF-001@3"}},
		{"USER from an ARG",
			"FROM debian:12.6\nARG UID=0\nUSER ${UID}\nHEALTHCHECK NONE\n",
			[]string{"SW-DF-001@3"}},
		{"USER from an ARG without a value is not guessed",
			"FROM debian:12.6\nARG UID\nUSER ${UID}\nHEALTHCHECK NONE\n",
			nil},
		{"lowercase instructions and CRLF",
			"from debian:12.6\r\nrun apt-get install -y sudo && rm -rf /var/lib/apt/lists/*\r\nuser app\r\nhealthcheck none\r\n",
			[]string{"SW-DF-008@2"}},
		{"cache mount counts as clean",
			"FROM debian:12.6\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y curl\n" + tail,
			nil},
		{"install in a build stage leaves nothing in the image",
			"FROM debian:12.6 AS build\nRUN apt-get update && apt-get install -y sudo openssh-server\nFROM debian:12.6\n" + tail,
			nil},
		{"EXPOSE in a build stage does not reach the image",
			"FROM debian:12.6 AS build\nEXPOSE 22\nFROM debian:12.6\n" + tail,
			nil},
		{"EXPOSE with a variable",
			"FROM debian:12.6\nENV PORT=22\nEXPOSE ${PORT}/tcp\n" + tail,
			[]string{"SW-DF-005@3"}},
		{"secret names follow Docker's rule",
			"FROM debian:12.6\nARG PUBLIC_KEY=x\nENV PASSWORD_FILE=/run/secrets/p KEYCLOAK_URL=x MY_TOKEN=abc\nENV EMPTY_SECRET=\"\"\n" + tail,
			[]string{"SW-DF-002@3"}},
		{"ADD with a checksum, archives and heredocs",
			"FROM debian:12.6\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a.tgz /a\nADD rootfs.tar.gz /\nADD <<EOF /etc/x\nhello\nEOF\n" + tail,
			nil},
		{"ADD from a URL with a password",
			"FROM debian:12.6\nADD https://user:hunter2@example.com/a.tgz /a\n" + tail,
			[]string{"SW-DF-003@2"}},
		{"chmod setgid in the final stage",
			"FROM debian:12.6\nRUN chmod g+s /srv && chmod 0755 /x && chmod 2755 /y\n" + tail,
			[]string{"SW-DF-012@2", "SW-DF-012@2"}},
		{"chmod world-writable on system paths only",
			"FROM debian:12.6\nRUN chmod -R 777 /usr/local/app/ && chmod 1777 /var/scratch && chmod 777 /tmp/x && chmod o+w relative && chmod 0755 /etc\n" + tail,
			[]string{"SW-DF-013@2"}},
		{"chmod world-writable through a variable",
			"FROM debian:12.6\nENV D=/etc/app\nRUN chmod a+rwx,o-x ${D}\n" + tail,
			[]string{"SW-DF-013@3"}},
		{"COPY and ADD --chmod",
			"FROM debian:12.6\nCOPY --chmod=777 a /etc/a\nADD --chmod=o+w b.tgz /srv/b\nCOPY --chmod=u+s c /usr/bin/c\nARG M=0666\nCOPY --chmod=$M d /etc/d\n" + tail,
			[]string{"SW-DF-013@2", "SW-DF-012@4", "SW-DF-013@6"}},
		{"chmod world-writable in a build stage does not reach the image",
			"FROM debian:12.6 AS b\nRUN chmod 666 /etc/x\nFROM debian:12.6\n" + tail,
			nil},
		{"update and install with options before the verb",
			"FROM debian:12.6\nRUN apt-get -q update && apt-get -y install curl && rm -rf /var/lib/apt/lists/*\n" + tail,
			nil},
		{"update alone in a build stage still counts",
			"FROM debian:12.6 AS b\nRUN apk update\nFROM debian:12.6\n" + tail,
			[]string{"SW-DF-011@2"}},
		{"pip with the cache disabled by ENV",
			"FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN python -m pip install flask\n" + tail,
			nil},
		{"pip through python -m",
			"FROM python:3.12\nRUN python3 -m pip install flask\n" + tail,
			[]string{"SW-DF-010@2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.src))
			if err != nil {
				if tc.want == nil {
					return // a Dockerfile docker build rejects too
				}
				t.Fatal(err)
			}
			got := ids(f.Check())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%s", diff, tc.src)
			}
		})
	}
}

func TestParseStages(t *testing.T) {
	f := parseOK(t, "ARG V=1.22\nFROM golang:${V} AS Build\nFROM build AS test\nFROM debian:12.6\nFROM test\n")
	var got []string
	for _, s := range f.Stages {
		parent := ""
		if s.Parent != nil {
			parent = s.Parent.Name
		}
		got = append(got, fmt.Sprintf("%d %s %s parent=%s line=%d", s.Index, s.Name, s.Base, parent, s.Line))
	}
	want := []string{
		"0 build golang:1.22 parent= line=2",
		"1 test build parent=build line=3",
		"2  debian:12.6 parent= line=4",
		"3  test parent=test line=5",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var chain []int
	for _, s := range f.Chain() {
		chain = append(chain, s.Index)
	}
	if diff := cmp.Diff([]int{0, 1, 3}, chain); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no FROM":             "RUN true\n",
		"empty":               "",
		"unknown instruction": "FROM x\nFORM y\n",
		"too large":           "FROM x\n" + strings.Repeat("#", MaxSize),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(src)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"apt-get update && apt-get install -y curl", []string{"apt-get update", "apt-get install -y curl"}},
		{`DEBIAN_FRONTEND=noninteractive apt-get install -y "a b" 'c d'`, []string{"apt-get install -y a b c d"}},
		{"sudo -u nobody -E id; doas ls", []string{"sudo -u nobody -E id", "doas ls"}},
		{"apt-get install -y x > /dev/null 2>&1 || true", []string{"apt-get install -y x", "true"}},
		{"make &>/dev/null & wait", []string{"make", "wait"}},
		{"if true; then apk add sudo; fi", []string{"true", "apk add sudo"}},
		{"bash -c 'apk add a && apk add b' | tee log", []string{"apk add a", "apk add b", "tee log"}},
		{"sudo sh -c \"apt-get install -y x\"", []string{"sudo apt-get install -y x"}},
		{"echo $(apt-get install z) # apt-get install comment", []string{"echo $(apt-get install z)"}},
		{"a \\\n b\\ c", []string{"a b c"}},
		{"env -i FOO=1 pip install x", []string{"pip install x"}},
		{"echo 'unterminated", []string{"echo unterminated"}},
		{"echo \"unterminated \\\" quote", []string{`echo unterminated " quote`}},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, c := range commands(tc.in) {
			got = append(got, c.String())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("commands(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestIsDockerfile(t *testing.T) {
	for p, want := range map[string]bool{
		"/Dockerfile": true, "/src/dockerfile": true, "/x/Dockerfile.prod": true, "/x/api.Dockerfile": true,
		"/Containerfile": true, "/x/Containerfile.debug": true, "/x/app.containerfile": true,
		"/x/Dockerfile.dockerignore": false, "/internal/dockerfile/dockerfile.go": false, "/docs/Dockerfile.md": false,
		"/x/Dockerfiles": false, "/x/mydockerfile": false, "/x/Makefile": false,
	} {
		if got := IsDockerfile(p); got != want {
			t.Errorf("IsDockerfile(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestHostile feeds inputs built to be slow or to break a parser. Each
// must finish quickly, without a panic.
func TestHostile(t *testing.T) {
	big := MaxSize - 1024
	tests := map[string]string{
		"one long continued RUN":    "FROM x\nRUN a" + strings.Repeat(" \\\n b", big/5) + "\n",
		"many instructions":         "FROM x\n" + strings.Repeat("RUN apt-get update\n", big/19),
		"many stages":               strings.Repeat("FROM a AS b\n", big/12),
		"many heredocs":             "FROM x\nRUN " + strings.Repeat("<<A ", 2000) + "\n" + strings.Repeat("A\n", 2000),
		"unterminated heredoc":      "FROM x\nRUN <<EOF\n" + strings.Repeat("apt-get install sudo\n", big/22),
		"deep sh -c":                "FROM x\nRUN " + strings.Repeat("sh -c '", 1000) + "sudo true" + strings.Repeat("'", 1000) + "\n",
		"deep parentheses":          "FROM x\nRUN echo $(" + strings.Repeat("(", big/2) + "\n",
		"wide EXPOSE range":         "FROM x\nEXPOSE 0-65535 1-2-3 99999 -5 " + strings.Repeat("22 ", 10000) + "\n",
		"long single line":          "FROM x\nRUN " + strings.Repeat("a", 60000) + "\n",
		"line over the scanner max": "FROM x\nRUN " + strings.Repeat("a", 70000) + "\n",
		"nested variables":          "ARG A=" + strings.Repeat("${A:-", 5000) + "x" + strings.Repeat("}", 5000) + "\nFROM $A\n",
		"binary":                    "FROM x\n" + strings.Repeat("\x00\xff\xfe", 10000),
		"invalid UTF-8 everywhere":  "FROM \xff\xfe\nUSER \xc3\x28\nENV \xe2\x82=1\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			// CPU time, not wall time: a shared CI machine may be loaded
			// many times over, which says nothing about the parser.
			start := cpuTime(t)
			f, err := Parse([]byte(src))
			if err == nil {
				f.Check()
			}
			if d := cpuTime(t) - start; d > 10*time.Second {
				t.Errorf("took %s of CPU", d)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/dockerfiles/*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("FROM a\nRUN <<A <<-B\nx\nA\n\tB\n"))
	f.Add([]byte("# escape=`\nFROM a\nRUN x `\n y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		df, err := Parse(b)
		if err != nil {
			return
		}
		for _, fd := range df.Check() {
			if fd.ID == "" || fd.Line < 0 {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}

var _ = instructions.Parse

func TestOthersWrite(t *testing.T) {
	for mode, want := range map[string]bool{
		"777": true, "0666": true, "0776": true, "1777": false, "3777": false, "755": false, "0644": false, "775": false,
		"o+w": true, "a+rw": true, "ugo=rwx": true, "a=rwx,o-w": false, "o+w,+t": false, "+w": false, "u+w": false,
		"go-w": false, "a+x": false, "o=r": false, "-w": false, "": false, "77777": false, "abc": false,
	} {
		if got := othersWrite(mode); got != want {
			t.Errorf("othersWrite(%q) = %v, want %v", mode, got, want)
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestADDURLRedacted: a password in an ADD URL never reaches the report.
func TestADDURLRedacted(t *testing.T) {
	fs := parseOK(t, "FROM debian:12.6\nADD https://user:hunter2@example.com/a.tgz /a\nUSER 1\nHEALTHCHECK NONE\n").Check()
	if len(fs) != 1 || fs[0].ID != IDAddURL {
		t.Fatalf("findings %v", ids(fs))
	}
	if f := fs[0]; strings.Contains(f.Details+f.Snippet, "hunter2") || f.Snippet != "ADD https://****@example.com/a.tgz" {
		t.Errorf("details %q snippet %q", f.Details, f.Snippet)
	}
}
