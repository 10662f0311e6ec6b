package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/osv"
)

// Input is one thing to import: a .json, .yaml or .yml OSV file (one
// record, a list, or an osv.dev API answer), a directory of them (walked
// recursively), an osv.dev-style all.zip, a signed bundle (.tar, see
// Bundle), or an http(s) URL of a file of any of these kinds.
type Input struct {
	Location string
	// Name identifies the source in the database's source list; a later
	// import under the same name replaces its entry. Default: Location.
	Name string

	// Set by Update for the archives it downloaded.
	origin  string // the URL, shown as the source's location
	fetched time.Time
	checked time.Time
	etag    string
	digest  string
}

// ImportOptions tune Import. The zero value is usable.
type ImportOptions struct {
	Logger *slog.Logger
	// OnWarning, when set, sees every warning as it happens; Stats keeps
	// the first MaxWarnings of them.
	OnWarning func(Warning)
	// HTTPClient fetches URL inputs. Default: a client with a 10-minute
	// timeout.
	HTTPClient *http.Client
	// VerifyKey is a PEM public key (cosign.pub) that bundle inputs must be
	// signed with. A bundle input without it is refused.
	VerifyKey []byte
	// Replace starts from an empty database instead of adding to the
	// existing one.
	Replace bool
	// Workers parse records in parallel. Default: GOMAXPROCS.
	Workers int
	// Bounds on hostile input; defaults in parentheses.
	MaxDownload int64 // bytes of one URL download (4 GiB)
	MaxInflated int64 // bytes inflated from one zip, all members (32 GiB)
	MaxMember   int64 // bytes of one zip member (64 MiB)
	// Now stamps the build and the sources. Default: time.Now.
	Now func() time.Time

	failAfter int // tests: fail the import after this many stored records
}

// MaxWarnings is how many warnings Stats keeps.
const MaxWarnings = 1000

const (
	defaultMaxDownload = 4 << 30
	defaultMaxInflated = 32 << 30
	defaultMaxMember   = 64 << 20
)

func (o *ImportOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Minute}
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = defaultMaxDownload
	}
	if o.MaxInflated <= 0 {
		o.MaxInflated = defaultMaxInflated
	}
	if o.MaxMember <= 0 {
		o.MaxMember = defaultMaxMember
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Warning is a problem with one record or file. Rejected says that the
// record (or the whole file) was left out; otherwise only the part named
// by Field was dropped or tolerated (see osv.Parse).
type Warning struct {
	// Source is the file, or "archive.zip!member.json" for a zip member.
	Source   string `json:"source"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	Rejected bool   `json:"rejected"`
}

func (w Warning) String() string {
	s := w.Source
	if w.Field != "" {
		s += ": " + w.Field
	}
	return s + ": " + w.Message
}

// Stats describes an import.
type Stats struct {
	Files     int `json:"files"`     // files and zip members read
	Records   int `json:"records"`   // valid records read
	Added     int `json:"added"`     // new IDs
	Updated   int `json:"updated"`   // IDs whose stored record was older
	Unchanged int `json:"unchanged"` // IDs whose stored record was as new or newer
	Rejected  int `json:"rejected"`  // records or files left out
	Total     int `json:"total"`     // records in the database afterwards

	WarningCount int           `json:"warningCount"`
	Warnings     []Warning     `json:"warnings,omitempty"` // the first MaxWarnings
	Duration     time.Duration `json:"duration"`
}

// RecordsPerSecond is the import rate.
func (s Stats) RecordsPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Records) / s.Duration.Seconds()
}

// job is one file's bytes to parse, or records already parsed (from a
// bundle's database).
type job struct {
	name  string // for warnings
	path  string // a file the worker reads, when data is nil
	data  []byte
	vulns []*osv.Vulnerability
	src   int // index into the import's sources
	seq   int // input order
}

// parsed is one record ready to store, or a warning.
type parsed struct {
	vuln  *osv.Vulnerability
	blob  []byte
	keys  []key
	src   int
	seq   int
	warns []Warning
	err   error // fatal for the import
}

// Import adds records to the database at dbPath (created if missing). A
// record whose ID is already stored replaces it only when its modified
// time is newer. The import is atomic: it builds a new file beside the
// old one, fsyncs it and renames it over; an error, a cancelled ctx or a
// crash leaves the previous database as it was. Malformed records are
// warnings (in Stats and to OnWarning) and are never stored; they do not
// fail the import. Input-level failures (a missing file, a download that
// fails, a bundle that does not verify) do.
func Import(ctx context.Context, dbPath string, inputs []Input, opts ImportOptions) (Stats, error) {
	opts.defaults()
	start := time.Now()
	var st Stats
	if len(inputs) == 0 {
		return st, errors.New("nothing to import: name OSV files, directories, all.zip archives, bundles or URLs")
	}
	dbPath = Path(dbPath)
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, fmt.Errorf("vulnerability database directory: %w", err)
	}
	unlock, err := lockDir(ctx, dbPath)
	if err != nil {
		return st, err
	}
	defer unlock()
	removeStaleTemps(dir, filepath.Base(dbPath))

	inputs = append([]Input(nil), inputs...)
	for i := range inputs {
		if inputs[i].Name == "" {
			inputs[i].Name = inputs[i].Location
		}
	}
	local, cleanup, err := fetchInputs(ctx, dir, inputs, &opts)
	defer cleanup()
	if err != nil {
		return st, err
	}
	// Verify every bundle before anything is written.
	var verified []*verifiedBundle
	for i, in := range local {
		if kindOf(in) == kindBundle {
			vb, err := verifyBundle(in, opts.VerifyKey)
			if err != nil {
				return st, fmt.Errorf("bundle %s: %w", inputs[i].Location, err)
			}
			verified = append(verified, vb)
		} else {
			verified = append(verified, nil)
		}
	}

	b, err := newBuilder(ctx, dbPath, !opts.Replace)
	if err != nil {
		return st, err
	}
	defer b.abort()
	existing, err := b.sources(ctx)
	if err != nil {
		return st, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, opts.Workers*2)
	results := make(chan parsed, opts.Workers*4)
	counts := make([]int, len(inputs))

	var readErr error
	go func() {
		defer close(jobs)
		readErr = readInputs(ctx, dir, inputs, local, verified, jobs, &opts, &st.Files, func(w Warning) {
			results <- parsed{warns: []Warning{w}}
		})
	}()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parseWorker(ctx, jobs, results)
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	warn := func(w Warning) {
		st.WarningCount++
		if len(st.Warnings) < MaxWarnings {
			st.Warnings = append(st.Warnings, w)
		}
		if opts.OnWarning != nil {
			opts.OnWarning(w)
		}
	}
	var storeErr error
	for p := range results {
		if storeErr != nil {
			continue // drain
		}
		for _, w := range p.warns {
			if w.Rejected {
				st.Rejected++
			}
			warn(w)
		}
		if p.err != nil {
			storeErr = p.err
			cancel()
			continue
		}
		if p.vuln == nil {
			continue
		}
		st.Records++
		counts[p.src]++
		outcome, err := b.put(ctx, p.vuln, p.blob, p.keys, p.seq)
		if err != nil {
			storeErr = err
			cancel()
			continue
		}
		switch outcome {
		case added:
			st.Added++
		case updated:
			st.Updated++
		default:
			st.Unchanged++
		}
		if opts.failAfter > 0 && st.Added+st.Updated+st.Unchanged >= opts.failAfter {
			storeErr = errors.New("injected failure")
			cancel()
		}
	}
	if storeErr != nil {
		return st, fmt.Errorf("vulnerability database import: %w (the previous database is unchanged)", storeErr)
	}
	if readErr != nil {
		return st, fmt.Errorf("vulnerability database import: %w (the previous database is unchanged)", readErr)
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("vulnerability database import: %w (the previous database is unchanged)", err)
	}

	now := opts.Now().UTC()
	sources := mergeSources(existing, inputs, counts, verified, now, opts.Replace)
	info, err := b.finish(ctx, sources, now)
	if err != nil {
		return st, err
	}
	if err := b.commit(dbPath); err != nil {
		return st, err
	}
	st.Total = info.Records
	st.Duration = time.Since(start)
	opts.Logger.Info("vulnerability database import", "db", dbPath, "records", st.Records, "added", st.Added,
		"updated", st.Updated, "rejected", st.Rejected, "warnings", st.WarningCount, "total", st.Total,
		"duration", st.Duration.Round(time.Millisecond))
	return st, nil
}

func mergeSources(existing []Source, inputs []Input, counts []int, verified []*verifiedBundle, now time.Time, replace bool) []Source {
	byName := map[string]Source{}
	if !replace {
		for _, s := range existing {
			byName[s.Name] = s
		}
	}
	for i, in := range inputs {
		s := Source{Name: in.Name, Location: in.Location, Records: counts[i], Fetched: now, Checked: now, ETag: in.etag, Digest: in.digest}
		if in.origin != "" {
			s.Location = in.origin
		}
		if !in.fetched.IsZero() {
			s.Fetched = in.fetched
		}
		if !in.checked.IsZero() {
			s.Checked = in.checked
		}
		if vb := verified[i]; vb != nil {
			s.Verified = vb.keyID
			s.Digest = vb.manifest.DB.SHA256
			s.Fetched = vb.manifest.BuiltAt
		}
		byName[s.Name] = s
	}
	out := make([]Source, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	return out
}

func parseWorker(ctx context.Context, jobs <-chan job, results chan<- parsed) {
	enc, err := newEncoder()
	if err != nil {
		results <- parsed{err: err}
		return
	}
	defer enc.Close()
	for j := range jobs {
		if ctx.Err() != nil {
			continue
		}
		emit := func(v *osv.Vulnerability, warns []Warning) {
			blob, err := encodeRecord(enc, v)
			if err != nil {
				results <- parsed{err: err}
				return
			}
			results <- parsed{vuln: v, blob: blob, keys: indexKeys(v), src: j.src, seq: j.seq, warns: warns}
		}
		if j.vulns != nil {
			for _, v := range j.vulns {
				emit(v, nil)
			}
			continue
		}
		if j.path != "" {
			data, err := readFileLimited(j.path, osv.MaxFileSize)
			if err != nil {
				results <- parsed{warns: []Warning{{Source: j.name, Message: err.Error() + "; left out", Rejected: true}}}
				continue
			}
			j.data = data
		}
		rs, err := osv.ParseAll(j.data, j.name)
		if err != nil {
			results <- parsed{warns: []Warning{errWarning(j.name, err)}}
			continue
		}
		for _, r := range rs {
			if r.Err != nil {
				results <- parsed{warns: []Warning{errWarning(j.name, r.Err)}}
				continue
			}
			var warns []Warning
			for _, w := range r.Warnings {
				warns = append(warns, Warning{Source: j.name, Field: w.Field, Message: w.Message})
			}
			emit(r.Vuln, warns)
		}
	}
}

func errWarning(name string, err error) Warning {
	var pe *osv.Error
	if errors.As(err, &pe) {
		return Warning{Source: name, Field: pe.Field, Message: pe.Msg + "; record left out", Rejected: true}
	}
	return Warning{Source: name, Message: err.Error() + "; left out", Rejected: true}
}

type inputKind int

const (
	kindRecords inputKind = iota
	kindDir
	kindZip
	kindBundle
	kindUnknown
)

// kindOf tells what a local input is, by its contents where the name
// does not say.
func kindOf(p string) inputKind {
	st, err := os.Stat(p)
	if err == nil && st.IsDir() {
		return kindDir
	}
	switch strings.ToLower(filepath.Ext(p)) {
	case ".json", ".yaml", ".yml":
		return kindRecords
	case ".zip":
		return kindZip
	case ".tar":
		return kindBundle
	}
	f, err := os.Open(p)
	if err != nil {
		return kindUnknown
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip
	case n >= 262 && string(head[257:262]) == "ustar":
		return kindBundle
	case len(bytes.TrimLeft(head, " \t\r\n")) > 0 && strings.ContainsRune("{[", rune(bytes.TrimLeft(head, " \t\r\n")[0])):
		return kindRecords
	}
	return kindUnknown
}

// fetchInputs downloads URL inputs into dir and returns the local path of
// every input. cleanup removes the downloads.
func fetchInputs(ctx context.Context, dir string, inputs []Input, opts *ImportOptions) ([]string, func(), error) {
	var tmps []string
	cleanup := func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	local := make([]string, len(inputs))
	for i, in := range inputs {
		u, err := url.Parse(in.Location)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			if _, err := os.Stat(in.Location); err != nil {
				return nil, cleanup, fmt.Errorf("import %s: %w", in.Location, err)
			}
			local[i] = in.Location
			continue
		}
		ext := strings.ToLower(path.Ext(u.Path))
		f, err := os.CreateTemp(dir, ".download-*"+ext)
		if err != nil {
			return nil, cleanup, err
		}
		tmps = append(tmps, f.Name())
		err = download(ctx, opts.HTTPClient, in.Location, f, opts.MaxDownload)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("import %s: %w", in.Location, err)
		}
		local[i] = f.Name()
	}
	return local, cleanup, nil
}

func download(ctx context.Context, client *http.Client, loc string, w io.Writer, max int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent())
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return err
	}
	if n > max {
		return fmt.Errorf("more than %d bytes: refused", max)
	}
	return nil
}

// readInputs feeds jobs from every input, in order.
func readInputs(ctx context.Context, dir string, inputs []Input, local []string, verified []*verifiedBundle, jobs chan<- job, opts *ImportOptions, files *int, warn func(Warning)) error {
	seq := 0
	send := func(j job) error {
		j.seq = seq
		seq++
		*files++
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i, p := range local {
		display := inputs[i].Location
		var err error
		switch kindOf(p) {
		case kindDir:
			err = readDir(ctx, p, i, send, warn)
		case kindZip:
			err = readZip(ctx, p, display, i, opts, send, warn)
		case kindBundle:
			err = readBundle(ctx, dir, p, verified[i], i, send)
		case kindRecords:
			err = send(job{name: display, path: p, src: i})
		default:
			err = fmt.Errorf("%s: not an OSV file (.json, .yaml, .yml), directory, .zip or bundle (.tar)", display)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readFileLimited(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Size() > 0 && st.Size() <= max {
		size = st.Size() + 1 // +1 so that growth past the stat size shows at once
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", p, osv.ErrTooLarge, max)
	}
	return data, nil
}

func isRecordFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

func readDir(ctx context.Context, root string, src int, send func(job) error, warn func(Warning)) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			warn(Warning{Source: p, Message: err.Error() + "; skipped", Rejected: true})
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isRecordFile(p) {
			return nil
		}
		return send(job{name: p, path: p, src: src})
	})
}

// readZip reads the record files of a zip. It trusts no header: each
// member is read through a limit, and the total inflated is bounded, so
// a zip bomb costs at most MaxInflated bytes of reading. Member names
// are only labels (nothing is written to disk), but names that try to
// leave the archive (absolute, "..", backslashes, NUL) are refused.
func readZip(ctx context.Context, p, display string, src int, opts *ImportOptions, send func(job) error, warn func(Warning)) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("%s: not a readable zip: %w", display, err)
	}
	defer zr.Close()
	var total int64
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := display + "!" + f.Name
		if f.FileInfo().IsDir() || !isRecordFile(f.Name) {
			continue
		}
		if !f.Mode().IsRegular() {
			warn(Warning{Source: name, Message: "not a regular file; left out", Rejected: true})
			continue
		}
		if !safeMemberName(f.Name) {
			warn(Warning{Source: name, Message: "member name leaves the archive (absolute, .., backslash or NUL); left out", Rejected: true})
			continue
		}
		rc, err := f.Open()
		if err != nil {
			warn(Warning{Source: name, Message: err.Error() + "; left out", Rejected: true})
			continue
		}
		limit := opts.MaxMember
		if rest := opts.MaxInflated - total; rest < limit {
			limit = rest
		}
		data, err := io.ReadAll(io.LimitReader(rc, limit+1))
		rc.Close()
		total += int64(len(data))
		if int64(len(data)) > limit {
			if total > opts.MaxInflated {
				return fmt.Errorf("%s: inflates to more than %d bytes: refused as a zip bomb", display, opts.MaxInflated)
			}
			warn(Warning{Source: name, Message: fmt.Sprintf("inflates to more than %d bytes; left out", opts.MaxMember), Rejected: true})
			continue
		}
		if err != nil {
			warn(Warning{Source: name, Message: err.Error() + "; left out", Rejected: true})
			continue
		}
		if err := send(job{name: name, data: data, src: src}); err != nil {
			return err
		}
	}
	return nil
}

func safeMemberName(n string) bool {
	if n == "" || strings.ContainsAny(n, "\\\x00") || strings.HasPrefix(n, "/") || filepath.VolumeName(n) != "" {
		return false
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// readBundle streams the records of a verified bundle's database.
func readBundle(ctx context.Context, dir, p string, vb *verifiedBundle, src int, send func(job) error) error {
	tmp, err := vb.extract(dir)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	db, err := Open(tmp)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", p, err)
	}
	defer db.Close()
	const batch = 256
	var vs []*osv.Vulnerability
	err = db.All(ctx, func(v *osv.Vulnerability) error {
		vs = append(vs, v)
		if len(vs) == batch {
			err := send(job{name: p, vulns: vs, src: src})
			vs = nil
			return err
		}
		return nil
	})
	if err == nil && len(vs) > 0 {
		err = send(job{name: p, vulns: vs, src: src})
	}
	return err
}

func userAgent() string { return "seawall/" + buildinfo.Version() + " (vulnerability database)" }
