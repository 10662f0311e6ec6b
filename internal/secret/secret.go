// Package secret finds secrets (keys, tokens, passwords) in an image's
// files and configuration. Rules are data (a Seawall YAML file or a
// gitleaks TOML config); one keyword pass over each file decides which
// rules' regular expressions run at all, and what is reported is masked.
package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/keyword"
)

// Options tune a Scanner. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// MaxFileSize skips files larger than this many bytes; 0 means
	// DefaultMaxFileSize and a negative value means no limit. Files are
	// streamed in chunks, so the limit bounds time, not memory.
	MaxFileSize int64
	// ScanBinaries scans files that look binary (a NUL byte in their first
	// 8000 bytes) as well; by default they are skipped, as gitleaks and
	// trivy do.
	ScanBinaries bool
	// ChunkSize is how much of a file is matched at once (default 1 MiB).
	// Matches may not be longer than ChunkOverlap (default 64 KiB).
	ChunkSize    int
	ChunkOverlap int
}

// DefaultMaxFileSize is the default for Options.MaxFileSize.
const DefaultMaxFileSize = 64 << 20

const (
	defaultChunk   = 1 << 20
	defaultOverlap = 64 << 10
	binarySniff    = 8000 // bytes checked for a NUL, as git does
)

// Scanner finds secrets in files. It implements catalog.FileScanner and is
// safe for concurrent use.
type Scanner struct {
	opts     Options
	log      *slog.Logger
	title    string
	rules    []*rule
	kw       *keyword.Matcher // nil when no rule has keywords
	kwRules  [][]int32        // keyword id → indexes of the rules that name it
	always   []int            // rules with a regex and no keywords
	pathOnly []int            // rules with a path and no regex
	global   []*allowlist     // allowlists of every rule
	skipPath []*allowlist     // global allowlists that skip a file on its path alone
	byID     map[string]int
	pool     sync.Pool // *state
	genericN int
	// forceFull runs every rule with FindAll over whole windows: the
	// reference the cheaper strategies are tested against.
	forceFull bool
}

// New compiles cfg (DefaultConfig when nil).
func New(cfg *Config, opts Options) (*Scanner, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := cfg.validate(false); err != nil { // compileRule checks the expressions
		return nil, fmt.Errorf("secret rules: %w", err)
	}
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = defaultChunk
	}
	if opts.ChunkOverlap <= 0 {
		opts.ChunkOverlap = defaultOverlap
	}
	if opts.ChunkOverlap > opts.ChunkSize {
		opts.ChunkOverlap = opts.ChunkSize
	}
	s := &Scanner{opts: opts, log: opts.Logger, title: cfg.Title, byID: map[string]int{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "secret")
	for _, w := range cfg.Warnings {
		s.log.Warn("secret config: " + w)
	}

	targeted := map[string][]*allowlist{}
	for i := range cfg.Allowlists {
		a, err := compileAllowlist(&cfg.Allowlists[i])
		if err != nil {
			return nil, fmt.Errorf("global allowlist %d: %w", i+1, err)
		}
		if len(cfg.Allowlists[i].TargetRules) > 0 {
			for _, id := range cfg.Allowlists[i].TargetRules {
				targeted[id] = append(targeted[id], a)
			}
			continue
		}
		s.global = append(s.global, a)
		if a.skipsPath() {
			s.skipPath = append(s.skipPath, a)
		}
	}

	var keywords []string
	kwIndex := map[string]int{}
	for i := range cfg.Rules {
		r, err := compileRule(&cfg.Rules[i])
		if err != nil {
			return nil, err
		}
		r.index = len(s.rules)
		r.allow = append(r.allow, targeted[r.ID]...)
		s.byID[r.ID] = r.index
		s.rules = append(s.rules, r)
		if r.generic {
			s.genericN++
		}
		if r.re == nil {
			s.pathOnly = append(s.pathOnly, r.index)
			continue
		}
		if r.SkipReport {
			continue // runs only as another rule's requirement
		}
		if len(r.kws) == 0 {
			s.always = append(s.always, r.index)
			continue
		}
		for _, k := range r.kws {
			id, ok := kwIndex[k]
			if !ok {
				id = len(keywords)
				kwIndex[k] = id
				keywords = append(keywords, k)
				s.kwRules = append(s.kwRules, nil)
			}
			s.kwRules[id] = append(s.kwRules[id], int32(r.index))
		}
	}
	for _, r := range s.rules {
		for _, req := range r.Required {
			j, ok := s.byID[req.RuleID]
			if !ok {
				return nil, fmt.Errorf("rule %s: required rule %q does not exist", r.ID, req.RuleID)
			}
			r.required = append(r.required, j)
		}
	}
	if len(keywords) > 0 {
		m, err := keyword.New(keywords)
		if err != nil {
			return nil, fmt.Errorf("secret keywords: %w", err)
		}
		s.kw = m
	}
	s.pool.New = func() any { return &state{} }
	return s, nil
}

// Name is the scanner's name in warnings and reports.
func (s *Scanner) Name() string { return "secret" }

// Rules returns the IDs of the compiled rules, in configuration order.
func (s *Scanner) Rules() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.ID
	}
	return out
}

// Wants takes every regular file that no global allowlist skips by path
// and whose name does not say it is binary.
func (s *Scanner) Wants(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	if s.pathSkipped(path) {
		return false
	}
	if binaryName(path) && !s.opts.ScanBinaries {
		for _, i := range s.pathOnly {
			if s.rules[i].path.MatchString(path) {
				return true
			}
		}
		return false
	}
	return true
}

func (s *Scanner) pathSkipped(path string) bool {
	for _, a := range s.skipPath {
		if a.paths.MatchString(path) {
			return true
		}
	}
	return false
}

// ErrTooLarge marks a file skipped for its size.
var ErrTooLarge = errors.New("file larger than the secret scanner's size limit")

// Scan looks for secrets in one file.
func (s *Scanner) Scan(ctx context.Context, f *image.File) ([]inventory.Finding, error) {
	if !f.Mode.IsRegular() || f.Linkname != "" || f.Size == 0 {
		return nil, nil // hard links share the content of a file scanned on its own
	}
	if s.pathSkipped(f.Path) {
		return nil, nil
	}
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)
	st.reset(s, f.Path)

	var out []inventory.Finding
	for _, i := range s.pathOnly {
		if c, ok := s.pathFinding(st, s.rules[i]); ok {
			out = append(out, c)
		}
	}
	if s.kw == nil && len(s.always) == 0 {
		return out, nil
	}
	if s.opts.MaxFileSize > 0 && f.Size > s.opts.MaxFileSize {
		s.log.Debug("skipped: larger than the size limit", "path", f.Path, "size", f.Size, "limit", s.opts.MaxFileSize)
		return out, nil
	}
	r, err := f.Open()
	if err != nil {
		return out, err
	}
	if err := s.scanStream(ctx, st, r); err != nil {
		return out, err
	}
	return append(out, st.findings()...), nil
}

// scanStream reads r in overlapping windows and matches each.
func (s *Scanner) scanStream(ctx context.Context, st *state, r io.Reader) error {
	c, o := s.opts.ChunkSize, s.opts.ChunkOverlap
	size := c + 2*o
	if cap(st.buf) < size {
		st.buf = make([]byte, size)
	}
	buf := st.buf[:size]
	n, err := io.ReadFull(r, buf)
	eof := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !eof {
		return err
	}
	if n == 0 {
		return nil
	}
	if !s.opts.ScanBinaries && looksBinary(buf[:n]) {
		return nil
	}
	var base int64 // offset in the file of buf[0]
	lineBase := 0  // newlines before buf[0]
	zoneLo := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		zoneHi := n
		if !eof {
			zoneHi = n - o
		}
		s.scanWindow(st, buf[:n], base, lineBase, zoneLo, zoneHi)
		if eof {
			return nil
		}
		keep := zoneHi - o // the next window starts with o bytes of context
		lineBase += countNL(buf[:keep])
		copy(buf, buf[keep:n])
		n -= keep
		base += int64(keep)
		zoneLo = o
		m, err := io.ReadFull(r, buf[n:])
		n += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return err
		}
	}
}

// looksBinary reports whether data starts like a binary file: a NUL byte
// in the first 8000 bytes.
func looksBinary(data []byte) bool {
	if len(data) > binarySniff {
		data = data[:binarySniff]
	}
	return strings.IndexByte(string(data), 0) >= 0
}

// binaryExt are extensions of files that hold no text worth matching.
var binaryExt = map[string]bool{
	// images, fonts, media
	"png": true, "jpg": true, "jpeg": true, "gif": true, "bmp": true, "ico": true, "webp": true, "tif": true, "tiff": true,
	"psd": true, "ttf": true, "otf": true, "woff": true, "woff2": true, "eot": true, "mp3": true, "mp4": true, "ogg": true,
	"wav": true, "flac": true, "avi": true, "mov": true, "mkv": true, "webm": true,
	// archives and packages (not unpacked)
	"zip": true, "gz": true, "tgz": true, "bz2": true, "xz": true, "zst": true, "lz4": true, "7z": true, "rar": true,
	"jar": true, "war": true, "ear": true, "whl": true, "egg": true, "deb": true, "rpm": true, "apk": true, "gem": true,
	// compiled code and data
	"so": true, "a": true, "o": true, "dll": true, "exe": true, "dylib": true, "pyc": true, "pyo": true, "class": true,
	"wasm": true, "mo": true, "db": true, "sqlite": true, "sqlite3": true, "pdf": true, "doc": true, "docx": true,
	"xls": true, "xlsx": true, "ppt": true, "pptx": true, "odt": true, "bin": true,
}

// binaryName reports whether a file's name says it is binary.
func binaryName(path string) bool {
	base := path[strings.LastIndexByte(path, '/')+1:]
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return false
	}
	ext := strings.ToLower(base[dot+1:])
	if binaryExt[ext] {
		return true
	}
	// libfoo.so.1.2
	return strings.Contains(base, ".so.")
}

// A compiled rule.
type rule struct {
	Rule
	index int
	re    *regexp.Regexp
	// anch and anchCtx are re anchored at the start of the text, and at
	// its second rune (the first is left context for \b and the like),
	// compiled on first use.
	anchOnce      sync.Once
	anch, anchCtx *regexp.Regexp
	// coreAnch and coreCtx are the plan's core, anchored the same ways.
	coreOnce          sync.Once
	coreAnch, coreCtx *regexp.Regexp
	restAnch, restCtx *regexp.Regexp
	path              *regexp.Regexp
	kws               []string // lower-cased
	plan              plan
	allow             []*allowlist
	// fileAllow are the allowlists that may exclude a whole file.
	fileAllow []*allowlist
	generic   bool
	required  []int
}

func compileRule(r *Rule) (*rule, error) {
	cr := &rule{Rule: *r, generic: strings.Contains(strings.ToLower(r.ID), "generic")}
	if cr.Severity == inventory.SeverityUnknown {
		cr.Severity = inventory.SeverityHigh
	}
	var err error
	if r.Regex != "" {
		if cr.re, err = regexp.Compile(r.Regex); err != nil {
			return nil, fmt.Errorf("rule %s: regex: %w", r.ID, err)
		}
	}
	if r.Path != "" {
		if cr.path, err = regexp.Compile(r.Path); err != nil {
			return nil, fmt.Errorf("rule %s: path: %w", r.ID, err)
		}
	}
	seen := map[string]bool{}
	for _, k := range r.Keywords {
		k = strings.ToLower(k)
		if k != "" && !seen[k] {
			seen[k] = true
			cr.kws = append(cr.kws, k)
		}
	}
	for i := range r.Allowlists {
		a, err := compileAllowlist(&r.Allowlists[i])
		if err != nil {
			return nil, fmt.Errorf("rule %s: allowlist %d: %w", r.ID, i+1, err)
		}
		cr.allow = append(cr.allow, a)
	}
	if cr.re != nil {
		cr.plan = planFor(r.Regex, cr.kws)
	}
	return cr, nil
}

func (r *rule) anchoredRegexps() (*regexp.Regexp, *regexp.Regexp) {
	r.anchOnce.Do(func() {
		r.anch = regexp.MustCompile(`^(?:` + r.Regex + `)`)
		r.anchCtx = regexp.MustCompile(`^(?s:.)(?:` + r.Regex + `)`)
	})
	return r.anch, r.anchCtx
}

func (r *rule) coreRegexps() (*regexp.Regexp, *regexp.Regexp) {
	r.coreOnce.Do(func() {
		r.coreAnch = regexp.MustCompile(`^(?:` + r.plan.core + `)`)
		r.coreCtx = regexp.MustCompile(`^(?s:.)(?:` + r.plan.core + `)`)
		if r.plan.rest != "" {
			r.restAnch = regexp.MustCompile(`^(?:` + r.plan.rest + `)`)
			r.restCtx = regexp.MustCompile(`^(?s:.)(?:` + r.plan.rest + `)`)
		}
	})
	return r.coreAnch, r.coreCtx
}

// Strategy says how the rule's expression runs (for tests and -debug).
func (s *Scanner) Strategy(id string) string {
	i, ok := s.byID[id]
	if !ok || s.rules[i].re == nil {
		return ""
	}
	return s.rules[i].plan.strategy.String()
}

// allowlist is a compiled Allowlist.
type allowlist struct {
	and       bool
	target    string
	paths     *regexp.Regexp
	regexes   *regexp.Regexp
	stopwords *keyword.Matcher
	commits   bool
}

func compileAllowlist(a *Allowlist) (*allowlist, error) {
	ca := &allowlist{and: a.and(), target: a.RegexTarget, commits: len(a.Commits) > 0}
	if ca.target == "secret" {
		ca.target = ""
	}
	var err error
	if len(a.Paths) > 0 {
		if ca.paths, err = joinOr(a.Paths); err != nil {
			return nil, fmt.Errorf("paths: %w", err)
		}
	}
	if len(a.Regexes) > 0 {
		if ca.regexes, err = joinOr(a.Regexes); err != nil {
			return nil, fmt.Errorf("regexes: %w", err)
		}
	}
	var words []string
	for _, w := range a.StopWords {
		if w != "" {
			words = append(words, strings.ToLower(w))
		}
	}
	if len(words) > 0 {
		if ca.stopwords, err = keyword.New(words); err != nil {
			return nil, fmt.Errorf("stopwords: %w", err)
		}
	}
	return ca, nil
}

// joinOr combines patterns into one alternation exactly as gitleaks does,
// so that an inline flag in one pattern reaches the next ones the same way.
func joinOr(pats []string) (*regexp.Regexp, error) {
	for _, p := range pats {
		if _, err := regexp.Compile(p); err != nil {
			return nil, err
		}
	}
	return regexp.Compile("(?:" + strings.Join(pats, "|") + ")")
}

// skipsPath reports whether the allowlist decides on a file's path alone
// (gitleaks skips such files before reading them).
func (a *allowlist) skipsPath() bool {
	if a.paths == nil {
		return false
	}
	if !a.and {
		return true
	}
	return a.regexes == nil && a.stopwords == nil && !a.commits
}

// allowsFile reports whether the allowlist excludes the file at path for
// its rule (gitleaks' checkCommitOrPathAllowed; there are no commits).
func (a *allowlist) allowsFile(path string) bool {
	if a.paths == nil {
		return false
	}
	if !a.and {
		return a.paths.MatchString(path)
	}
	if a.regexes != nil || a.stopwords != nil || a.commits {
		return false // decided per finding
	}
	return a.paths.MatchString(path)
}

// allowsFinding reports whether the allowlist excludes a finding
// (gitleaks' checkFindingAllowed).
func (a *allowlist) allowsFinding(path string, secret, match, line []byte) bool {
	target := secret
	switch a.target {
	case "match":
		target = match
	case "line":
		target = line
	}
	regexOK := a.regexes != nil && len(target) > 0 && a.regexes.Match(target)
	stopOK := a.stopwords != nil && len(secret) > 0 && a.stopwords.Contains(secret)
	if !a.and {
		return regexOK || stopOK
	}
	checks := 0
	if a.commits {
		return false // no commit to match
	}
	if a.paths != nil {
		if !a.paths.MatchString(path) {
			return false
		}
		checks++
	}
	if a.regexes != nil {
		if !regexOK {
			return false
		}
		checks++
	}
	if a.stopwords != nil {
		if !stopOK {
			return false
		}
		checks++
	}
	return checks > 0
}

var _ catalog.FileScanner = (*Scanner)(nil)
