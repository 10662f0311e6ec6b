// Package dockerfile parses Dockerfiles and Containerfiles and checks them
// for risky configuration: root users, secrets in ENV and ARG, remote ADD,
// sensitive ports, unpinned bases, missing health checks, package-manager
// caches and more. Parsing is BuildKit's own parser, so continuations, the
// escape directive, heredocs and multi-stage builds read exactly as
// `docker build` reads them.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// MaxSize is the largest Dockerfile parsed. Real ones are a few KiB; a
// bigger file is not a Dockerfile, or is hostile.
const MaxSize = 1 << 20

// ErrTooLarge is returned for files over MaxSize.
var ErrTooLarge = fmt.Errorf("larger than %d KiB: not read as a Dockerfile", MaxSize>>10)

// File is a parsed Dockerfile.
type File struct {
	Stages []*Stage
	// MetaArgs are the ARGs declared before the first FROM, with their
	// defaults (nil: none). Only they are visible to FROM.
	MetaArgs []instructions.ArgCommand
	Escape   rune
	// Lines are the file's lines, for snippets.
	Lines []string
}

// Stage is one build stage.
type Stage struct {
	instructions.Stage
	Index int
	// Base is the FROM image with the meta ARGs' defaults expanded; it is
	// the raw text when something in it cannot be expanded.
	Base     string
	Resolved bool // Base has no variables left in it
	// Parent is the earlier stage this one is built FROM, if any.
	Parent *Stage
	Line   int
}

// Parse parses a Dockerfile. It never panics: a parser failure on hostile
// input is returned as an error.
func Parse(data []byte) (f *File, err error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("dockerfile parser failed (%v); please report it: %s", r, firstLines(string(debug.Stack()), 8))
		}
	}()
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, errors.New("no FROM instruction: not a Dockerfile")
	}
	f = &File{MetaArgs: metaArgs, Escape: res.EscapeToken, Lines: strings.Split(string(data), "\n")}
	lex := shell.NewLex(res.EscapeToken)
	meta := f.metaEnv()
	byName := map[string]*Stage{}
	for i := range stages {
		s := &Stage{Stage: stages[i], Index: i}
		if len(s.Location) > 0 {
			s.Line = s.Location[0].Start.Line
		}
		s.Base, s.Resolved = expand(lex, s.BaseName, meta)
		if p, ok := byName[strings.ToLower(s.Base)]; ok && s.Resolved {
			s.Parent = p
		} else if n, err := strconv.Atoi(s.Base); err == nil && n >= 0 && n < i {
			s.Parent = f.Stages[n]
		}
		if s.Name != "" {
			byName[strings.ToLower(s.Name)] = s
		}
		f.Stages = append(f.Stages, s)
	}
	for _, s := range f.Stages {
		for _, c := range s.Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				// Fills in the --mount flags; words are taken as written.
				_ = r.Expand(func(w string) (string, error) { return w, nil })
			}
		}
	}
	return f, nil
}

// Final is the stage `docker build` builds by default: the last one.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// Chain is the final stage and the stages it is built FROM, base first:
// what ends up in the image. Other stages only contribute what is copied
// out of them.
func (f *File) Chain() []*Stage {
	var out []*Stage
	seen := map[*Stage]bool{}
	for s := f.Final(); s != nil && !seen[s]; s = s.Parent {
		seen[s] = true
		out = append([]*Stage{s}, out...)
	}
	return out
}

// StageNamed finds an earlier stage by name or index, as COPY --from
// names it.
func (f *File) StageNamed(name string, before int) *Stage {
	if n, err := strconv.Atoi(name); err == nil {
		if n >= 0 && n < before {
			return f.Stages[n]
		}
		return nil
	}
	for _, s := range f.Stages[:before] {
		if s.Name != "" && strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Line returns line n (1-based) of the file, or "".
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.Lines) {
		return ""
	}
	return strings.TrimRight(f.Lines[n-1], "\r")
}

// env is a variable scope for expansion. A variable whose value cannot be
// known here (an ARG without a default, which a build argument may set)
// holds unknown.
type env map[string]string

// unknown marks a value that only the build knows. It cannot occur in a
// Dockerfile's text, so a result that contains it was affected by one.
const unknown = "\x00?\x00"

func (e env) Get(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

func (e env) Keys() []string {
	out := make([]string, 0, len(e))
	for k := range e {
		out = append(out, k)
	}
	return out
}

// metaEnv is what FROM sees: the meta ARGs' defaults. A variable no meta
// ARG declares is empty for FROM, whatever the build arguments say.
func (f *File) metaEnv() env {
	e := env{}
	lex := shell.NewLex(f.Escape)
	for _, a := range f.MetaArgs {
		for _, kv := range a.Args {
			if kv.Value == nil {
				e[kv.Key] = unknown
				continue
			}
			e[kv.Key] = expandAny(lex, *kv.Value, e)
		}
	}
	return e
}

// expand expands variables in word. ok is false when the result depends
// on a value only the build knows, or the word does not parse: then the
// raw word is returned, and checks must not guess.
func expand(lex *shell.Lex, word string, e env) (string, bool) {
	v := expandAny(lex, word, e)
	if strings.Contains(v, unknown) || strings.ContainsRune(v, 0) {
		return word, false
	}
	return v, true
}

// expandAny expands word, keeping unknown markers in the result.
func expandAny(lex *shell.Lex, word string, e env) string {
	if !strings.ContainsAny(word, "$\\\"'`") {
		return word
	}
	v, _, err := lex.ProcessWord(word, e)
	if err != nil {
		return unknown
	}
	return v
}

// IsDockerfile reports whether a file name is one `seawall scan config`
// and the scans of source trees check: Dockerfile, Containerfile, and
// those names with a suffix or prefix (Dockerfile.prod, app.Dockerfile),
// in any case.
func IsDockerfile(p string) bool {
	base := strings.ToLower(path.Base(p))
	if notDockerfile[path.Ext(base)] {
		return false
	}
	for _, n := range []string{"dockerfile", "containerfile"} {
		switch {
		case base == n,
			strings.HasPrefix(base, n+"."),
			strings.HasSuffix(base, "."+n):
			return true
		}
	}
	return false
}

// notDockerfile are extensions of files whose names start with
// "dockerfile." but are something else: a build's ignore file, and the
// source code of tools that handle Dockerfiles.
var notDockerfile = map[string]bool{
	".dockerignore": true, ".go": true, ".py": true, ".js": true, ".ts": true, ".rb": true,
	".rs": true, ".java": true, ".md": true, ".rst": true, ".txt": true, ".json": true,
	".yaml": true, ".yml": true, ".toml": true, ".sh": true, ".golden": true, ".swp": true,
	".orig": true, ".rej": true, ".html": true, ".tmpl": true, ".j2": true,
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
