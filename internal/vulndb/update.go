package vulndb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SourcesFile is the list of sources `update` fetches, kept beside the
// database. Without it, DefaultSources are used.
const SourcesFile = "sources.json"

// downloadsDir holds the downloaded archives (kept, so that a source that
// answers 304 can still take part in a rebuild) and partial downloads.
const downloadsDir = "downloads"

// OSVBucket is where osv.dev publishes its per-ecosystem exports.
const OSVBucket = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are fetched by default: the distributions container
// images are built on and the language ecosystems Seawall catalogs.
var DefaultEcosystems = []string{
	"AlmaLinux", "Alpine", "Chainguard", "Debian", "Red Hat", "Rocky Linux", "SUSE", "openSUSE", "Ubuntu", "Wolfi",
	"Go", "Maven", "npm", "NuGet", "Packagist", "PyPI", "RubyGems", "crates.io",
}

// SourceConfig is one source `update` fetches: an all.zip URL.
type SourceConfig struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// DefaultSources are osv.dev's all.zip exports of DefaultEcosystems.
func DefaultSources() []SourceConfig {
	out := make([]SourceConfig, 0, len(DefaultEcosystems))
	for _, e := range DefaultEcosystems {
		out = append(out, SourceConfig{Name: e, URL: OSVBucket + "/" + url.PathEscape(e) + "/all.zip"})
	}
	return out
}

// LoadSources reads dbDir/sources.json ({"sources": [{"name", "url"}]}),
// or returns DefaultSources when there is none.
func LoadSources(dbDir string) ([]SourceConfig, error) {
	data, err := os.ReadFile(filepath.Join(dbDir, SourcesFile))
	if errors.Is(err, os.ErrNotExist) {
		return DefaultSources(), nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Sources []SourceConfig `json:"sources"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dbDir, SourcesFile), err)
	}
	seen := map[string]bool{}
	for i, s := range f.Sources {
		u, err := url.Parse(s.URL)
		if s.Name == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%s: sources[%d]: each source needs a name and an http(s) url", SourcesFile, i)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%s: sources[%d]: name %q used twice", SourcesFile, i, s.Name)
		}
		seen[s.Name] = true
	}
	return f.Sources, nil
}

// SaveSources writes dbDir/sources.json.
func SaveSources(dbDir string, sources []SourceConfig) error {
	data, err := json.MarshalIndent(struct {
		Sources []SourceConfig `json:"sources"`
	}{sources}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dbDir, SourcesFile), append(data, '\n'))
}

// UpdateOptions tune Update. The zero value is usable.
type UpdateOptions struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	OnWarning  func(Warning)
	// Sources override dbDir/sources.json.
	Sources []SourceConfig
	// Attempts per source; a dropped connection resumes where it stopped.
	// Default 3.
	Attempts int
	// Rebuild makes a new database from every downloaded archive instead
	// of merging the changed ones into the existing database (which never
	// removes a record).
	Rebuild bool
	// MaxDownload bounds one archive (default 4 GiB).
	MaxDownload int64
	Now         func() time.Time
	// RetryWait is the pause between attempts (default 1 s).
	RetryWait time.Duration
}

// UpdateStats describes an update.
type UpdateStats struct {
	Sources []SourceUpdate `json:"sources"`
	Import  *Stats         `json:"import,omitempty"` // nil when nothing changed
}

// SourceUpdate is what happened to one source.
type SourceUpdate struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Status  string `json:"status"` // "downloaded", "not-modified" or "failed"
	Bytes   int64  `json:"bytes"`  // received in this update
	Resumed bool   `json:"resumed"`
	Error   string `json:"error,omitempty"`
}

// downloadState is what Update remembers about a source between runs.
type downloadState struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Fetched      time.Time `json:"fetched"`
	Checked      time.Time `json:"checked"`
	SHA256       string    `json:"sha256"`
	Size         int64     `json:"size"`
}

// partialState is the validator a partial download was started under;
// a resume sends it as If-Range so a changed file restarts from zero.
type partialState struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// Update re-fetches the configured sources into dbDir and merges what
// changed into the database there (dbDir/vulndb.sqlite), atomically.
// Each download is conditional (If-None-Match / If-Modified-Since on the
// archive it already has) and resumable (a partial archive is kept in
// dbDir/downloads and continued with Range + If-Range; a server that
// ignores the Range gets a fresh download). Sources that fail are
// reported in the stats and the returned error; the others are still
// imported.
func Update(ctx context.Context, dbDir string, opts UpdateOptions) (UpdateStats, error) {
	var st UpdateStats
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Minute}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.MaxDownload <= 0 {
		opts.MaxDownload = defaultMaxDownload
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = time.Second
	}
	sources := opts.Sources
	if sources == nil {
		var err error
		if sources, err = LoadSources(dbDir); err != nil {
			return st, err
		}
	}
	dl := filepath.Join(dbDir, downloadsDir)
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return st, fmt.Errorf("vulnerability database downloads: %w", err)
	}
	dbPath := filepath.Join(dbDir, FileName)
	_, statErr := os.Stat(dbPath)
	rebuild := opts.Rebuild || errors.Is(statErr, os.ErrNotExist)

	var failed []error
	var inputs []Input
	var checked []string
	for _, src := range sources {
		up, state, changed, err := fetchSource(ctx, dl, src, &opts)
		st.Sources = append(st.Sources, up)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s (%s): %w", src.Name, src.URL, err))
			opts.Logger.Warn("vulnerability source failed", "source", src.Name, "url", src.URL, "err", err)
			if ctx.Err() != nil {
				return st, errors.Join(failed...)
			}
			// A rebuild keeps the last good archive of a source that failed
			// now, rather than dropping its records.
			if rebuild && state.SHA256 != "" {
				inputs = append(inputs, Input{Location: archivePath(dl, src.Name), Name: src.Name,
					origin: src.URL, fetched: state.Fetched, checked: state.Checked, etag: state.ETag, digest: state.SHA256})
			}
			continue
		}
		checked = append(checked, src.Name)
		if changed || rebuild {
			inputs = append(inputs, Input{Location: archivePath(dl, src.Name), Name: src.Name,
				origin: src.URL, fetched: state.Fetched, checked: state.Checked, etag: state.ETag, digest: state.SHA256})
		}
	}
	switch {
	case len(inputs) > 0:
		is, err := Import(ctx, dbPath, inputs, ImportOptions{Logger: opts.Logger, OnWarning: opts.OnWarning, HTTPClient: opts.HTTPClient, Replace: rebuild, Now: opts.Now})
		st.Import = &is
		if err != nil {
			return st, errors.Join(append(failed, err)...)
		}
	case len(checked) > 0 && statErr == nil:
		// Nothing new: record that the sources were confirmed current, so
		// the database's age reflects the check.
		if err := touchSources(ctx, dbPath, checked, opts.Now().UTC()); err != nil {
			return st, errors.Join(append(failed, err)...)
		}
	}
	return st, errors.Join(failed...)
}

func archivePath(dl, name string) string { return filepath.Join(dl, safeName(name)+".zip") }

// safeName makes a source name a file name.
func safeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		s = "source"
	}
	sum := sha256.Sum256([]byte(name))
	return s + "-" + hex.EncodeToString(sum[:4])
}

func readJSON(p string, v any) bool {
	data, err := os.ReadFile(p)
	return err == nil && json.Unmarshal(data, v) == nil
}

func writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(p, data)
}

func writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

// fetchSource brings one source's archive up to date. changed reports a
// new archive.
func fetchSource(ctx context.Context, dl string, src SourceConfig, opts *UpdateOptions) (SourceUpdate, downloadState, bool, error) {
	up := SourceUpdate{Name: src.Name, URL: src.URL, Status: "failed"}
	complete := archivePath(dl, src.Name)
	statePath := complete + ".json"
	partial := complete + ".partial"
	partialMeta := partial + ".json"

	var state downloadState
	haveComplete := false
	if readJSON(statePath, &state) && state.URL == src.URL {
		if fi, err := os.Stat(complete); err == nil && fi.Size() == state.Size {
			haveComplete = true
		}
	}
	if !haveComplete {
		state = downloadState{URL: src.URL}
	}

	var lastErr error
	for attempt := 0; attempt < opts.Attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				up.Error = ctx.Err().Error()
				return up, state, false, ctx.Err()
			case <-time.After(opts.RetryWait):
			}
		}
		res, err := fetchOnce(ctx, src, haveComplete, state, partial, partialMeta, opts)
		up.Bytes += res.bytes
		up.Resumed = up.Resumed || res.resumed
		if err == nil && res.notModified {
			state.Checked = opts.Now().UTC()
			if err := writeJSON(statePath, state); err != nil {
				return up, state, false, err
			}
			up.Status = "not-modified"
			return up, state, false, nil
		}
		if err == nil {
			sum, size, err := hashFile(partial)
			if err != nil {
				return up, state, false, err
			}
			if err := os.Rename(partial, complete); err != nil {
				return up, state, false, err
			}
			os.Remove(partialMeta)
			now := opts.Now().UTC()
			state = downloadState{URL: src.URL, ETag: res.etag, LastModified: res.lastModified, Fetched: now, Checked: now, SHA256: sum, Size: size}
			if err := writeJSON(statePath, state); err != nil {
				return up, state, false, err
			}
			up.Status = "downloaded"
			return up, state, true, nil
		}
		lastErr = err
		if ctx.Err() != nil || errors.Is(err, errPermanent) {
			break
		}
		opts.Logger.Info("download interrupted; resuming", "source", src.Name, "attempt", attempt+1, "err", err)
	}
	up.Error = lastErr.Error()
	return up, state, false, lastErr
}

var errPermanent = errors.New("not retried")

type fetchResult struct {
	notModified  bool
	resumed      bool
	bytes        int64
	etag         string
	lastModified string
}

// fetchOnce makes one request: conditional on the complete archive, and
// a resume of the partial one when there is one.
func fetchOnce(ctx context.Context, src SourceConfig, haveComplete bool, state downloadState, partial, partialMeta string, opts *UpdateOptions) (fetchResult, error) {
	var res fetchResult
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return res, fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("User-Agent", userAgent())
	if haveComplete {
		if state.ETag != "" {
			req.Header.Set("If-None-Match", state.ETag)
		}
		if state.LastModified != "" {
			req.Header.Set("If-Modified-Since", state.LastModified)
		}
	}
	var offset int64
	var pm partialState
	if fi, err := os.Stat(partial); err == nil && fi.Size() > 0 && readJSON(partialMeta, &pm) && pm.URL == src.URL {
		validator := pm.ETag
		if validator == "" || strings.HasPrefix(validator, "W/") {
			validator = pm.LastModified // a weak ETag may not be used in If-Range
		}
		if validator != "" {
			offset = fi.Size()
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
			req.Header.Set("If-Range", validator)
		}
	}
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()

	var f *os.File
	switch resp.StatusCode {
	case http.StatusNotModified:
		if !haveComplete {
			return res, fmt.Errorf("%w: HTTP 304 to an unconditional request", errPermanent)
		}
		res.notModified = true
		return res, nil
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if offset == 0 || !ok || start != offset {
			os.Remove(partial)
			return res, fmt.Errorf("server sent the range %q, not from byte %d; restarting", resp.Header.Get("Content-Range"), offset)
		}
		if f, err = os.OpenFile(partial, os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return res, err
		}
		res.resumed = true
		res.etag, res.lastModified = pm.ETag, pm.LastModified
	case http.StatusOK:
		// A fresh download: the server has a new file, ignored the Range,
		// or there was nothing to resume.
		res.etag, res.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if err := writeJSON(partialMeta, partialState{URL: src.URL, ETag: res.etag, LastModified: res.lastModified}); err != nil {
			return res, err
		}
		if f, err = os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			return res, err
		}
		offset = 0
	case http.StatusRequestedRangeNotSatisfiable:
		os.Remove(partial)
		os.Remove(partialMeta)
		return res, errors.New("HTTP 416 for the resume; restarting from zero")
	default:
		err := fmt.Errorf("HTTP %s", resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			err = fmt.Errorf("%w: %v", errPermanent, err)
		}
		return res, err
	}
	limit := opts.MaxDownload - offset
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	res.bytes = n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("download stopped after %d bytes (kept for a resume): %w", offset+n, err)
	}
	if n > limit {
		os.Remove(partial)
		os.Remove(partialMeta)
		return res, fmt.Errorf("%w: more than %d bytes", errPermanent, opts.MaxDownload)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return res, fmt.Errorf("download stopped after %d of %d bytes (kept for a resume)", offset+n, offset+resp.ContentLength)
	}
	return res, nil
}

// contentRangeStart reads the first byte position of "bytes a-b/c".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// touchSources records in the database that sources were confirmed
// current, rewriting it atomically like an import does.
func touchSources(ctx context.Context, dbPath string, names []string, checked time.Time) error {
	unlock, err := lockDir(ctx, dbPath)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := newBuilder(ctx, dbPath, true)
	if err != nil {
		return err
	}
	defer b.abort()
	sources, err := b.sources(ctx)
	if err != nil {
		return err
	}
	var builtAt time.Time
	var raw string
	if err := b.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'info'`).Scan(&raw); err == nil {
		var info struct {
			BuiltAt time.Time `json:"builtAt"`
		}
		if json.Unmarshal([]byte(raw), &info) == nil {
			builtAt = info.BuiltAt
		}
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for i := range sources {
		if want[sources[i].Name] {
			sources[i].Checked = checked
		}
	}
	if _, err := b.finish(ctx, sources, builtAt); err != nil {
		return err
	}
	return b.commit(dbPath)
}
