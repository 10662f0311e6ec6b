package vulndb

// Storage benchmarks on all the staged OSV data (../shared/data/osv):
//
//	go test ./internal/vulndb -run '^$' -bench . -benchtime 5x
//
// BenchmarkImport is the whole import (read, parse, validate, encode,
// store). The Store*, Open* and Lookup* benchmarks compare two storage
// candidates on the same pre-encoded records: "sqlite" (the one Seawall
// uses, the production code) and "sorted" (a custom read-only file:
// records, then a sorted key index, mmapped on open). bench/vulndb.sh
// runs them and prints the table for docs/BENCHMARKS.md.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/osv"
)

// stagedDirs are the staged OSV collections the issue counts (~14k records).
var stagedDirs = []string{"go-vulndb", "pypa-advisory-database", "rustsec-osv", "almalinux", "ghsa-selected",
	"osvdev-export-from-osv-scalibr", "debian12-changelog-derived", "osv-dev-testdata"}

func stagedInputs(tb testing.TB) []Input {
	root := filepath.Join(imagetest.SharedData(tb), "osv")
	var in []Input
	for _, d := range stagedDirs {
		in = append(in, Input{Location: filepath.Join(root, d), Name: d})
	}
	return in
}

type encoded struct {
	id   string
	mod  int64
	blob []byte
	keys []key
	vuln *osv.Vulnerability
}

var (
	stagedOnce sync.Once
	stagedRecs []encoded
)

// stagedRecords parses and encodes the staged data once per process.
func stagedRecords(tb testing.TB) []encoded {
	inputs := stagedInputs(tb)
	stagedOnce.Do(func() {
		enc, _ := newEncoder()
		seen := map[string]bool{}
		for _, in := range inputs {
			filepath.WalkDir(in.Location, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !isRecordFile(p) {
					return nil
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return nil
				}
				rs, err := osv.ParseAll(data, p)
				if err != nil {
					return nil
				}
				for _, r := range rs {
					if r.Err != nil || seen[r.Vuln.ID] {
						continue
					}
					seen[r.Vuln.ID] = true
					blob, _ := encodeRecord(enc, r.Vuln)
					stagedRecs = append(stagedRecs, encoded{r.Vuln.ID, r.Vuln.Modified.UnixNano(), blob, indexKeys(r.Vuln), r.Vuln})
				}
				return nil
			})
		}
	})
	if len(stagedRecs) == 0 {
		tb.Skip("no staged records")
	}
	return stagedRecs
}

// lookupKeys are every (ecosystem, name) in the staged data, in a fixed
// order, so a lookup benchmark visits small and large posting lists.
func lookupKeys(recs []encoded) []key {
	set := map[key]bool{}
	for _, r := range recs {
		for _, k := range r.keys {
			set[k] = true
		}
	}
	keys := make([]key, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ecosystem != keys[j].ecosystem {
			return keys[i].ecosystem < keys[j].ecosystem
		}
		return keys[i].name < keys[j].name
	})
	return keys
}

func BenchmarkImport(b *testing.B) {
	inputs := stagedInputs(b)
	var st Stats
	for b.Loop() {
		dir := b.TempDir()
		var err error
		if st, err = Import(context.Background(), dir, inputs, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Records)/(b.Elapsed().Seconds()/float64(b.N)), "records/s")
	b.ReportMetric(float64(st.Records), "records")
}

// candidate is one storage design under test.
type candidate struct {
	name  string
	build func(path string, recs []encoded) error
	open  func(path string) (reader, error)
}

type reader interface {
	lookup(k key) ([][]byte, error)
	close() error
}

var candidates = []candidate{
	{"sqlite", buildSQLite, openSQLite},
	{"sorted", buildSorted, openSorted},
}

func buildSQLite(path string, recs []encoded) error {
	ctx := context.Background()
	bl, err := newBuilder(ctx, path, false)
	if err != nil {
		return err
	}
	defer bl.abort()
	for i, r := range recs {
		if _, err := bl.put(ctx, r.vuln, r.blob, r.keys, i); err != nil {
			return err
		}
	}
	if _, err := bl.finish(ctx, nil, fixedTime); err != nil {
		return err
	}
	return bl.commit(path)
}

type sqliteReader struct{ db *DB }

func openSQLite(path string) (reader, error) {
	db, err := Open(path)
	return sqliteReader{db}, err
}

func (r sqliteReader) lookup(k key) ([][]byte, error) {
	rows, err := r.db.lookup.Query(k.ecosystem, k.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, err
		}
		out = append(out, blob)
	}
	return out, rows.Err()
}

func (r sqliteReader) close() error { return r.db.Close() }

// The sorted file: "SWSORT01", record count, index count, index offset;
// the record blobs; then the index: entries sorted by key, each
// (key length u16, key, posting count u32, postings of (offset u64,
// length u32)). A table of entry offsets ends the file for binary search.
const sortedMagic = "SWSORT01"

func buildSorted(path string, recs []encoded) error {
	var buf bytes.Buffer
	buf.WriteString(sortedMagic)
	buf.Write(make([]byte, 24))
	type posting struct{ off, n uint64 }
	idx := map[string][]posting{}
	for _, r := range recs {
		p := posting{uint64(buf.Len()), uint64(len(r.blob))}
		buf.Write(r.blob)
		for _, k := range r.keys {
			s := k.ecosystem + "\x00" + k.name
			idx[s] = append(idx[s], p)
		}
	}
	keys := make([]string, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	indexOff := buf.Len()
	offs := make([]uint64, 0, len(keys))
	var tmp [12]byte
	for _, k := range keys {
		offs = append(offs, uint64(buf.Len()))
		binary.LittleEndian.PutUint16(tmp[:2], uint16(len(k)))
		buf.Write(tmp[:2])
		buf.WriteString(k)
		binary.LittleEndian.PutUint32(tmp[:4], uint32(len(idx[k])))
		buf.Write(tmp[:4])
		for _, p := range idx[k] {
			binary.LittleEndian.PutUint64(tmp[:8], p.off)
			binary.LittleEndian.PutUint32(tmp[8:12], uint32(p.n))
			buf.Write(tmp[:12])
		}
	}
	tableOff := buf.Len()
	for _, o := range offs {
		binary.LittleEndian.PutUint64(tmp[:8], o)
		buf.Write(tmp[:8])
	}
	b := buf.Bytes()
	binary.LittleEndian.PutUint64(b[8:], uint64(len(recs)))
	binary.LittleEndian.PutUint64(b[16:], uint64(len(keys)))
	binary.LittleEndian.PutUint64(b[24:], uint64(tableOff))
	_ = indexOff
	tmpPath := path + ".tmp"
	if err := os.WriteFile(tmpPath, b, 0o644); err != nil {
		return err
	}
	f, err := os.Open(tmpPath)
	if err != nil {
		return err
	}
	f.Sync()
	f.Close()
	return os.Rename(tmpPath, path)
}

type sortedReader struct {
	data  []byte
	n     int
	table []byte
}

func openSorted(path string) (reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	if len(data) < 32 || string(data[:8]) != sortedMagic {
		unix.Munmap(data)
		return nil, errors.New("not a sorted file")
	}
	n := int(binary.LittleEndian.Uint64(data[16:]))
	tableOff := int(binary.LittleEndian.Uint64(data[24:]))
	return &sortedReader{data: data, n: n, table: data[tableOff : tableOff+8*n]}, nil
}

func (r *sortedReader) entry(i int) (string, []byte) {
	off := int(binary.LittleEndian.Uint64(r.table[8*i:]))
	kl := int(binary.LittleEndian.Uint16(r.data[off:]))
	return string(r.data[off+2 : off+2+kl]), r.data[off+2+kl:]
}

func (r *sortedReader) lookup(k key) ([][]byte, error) {
	want := k.ecosystem + "\x00" + k.name
	i := sort.Search(r.n, func(i int) bool { s, _ := r.entry(i); return s >= want })
	if i == r.n {
		return nil, nil
	}
	s, rest := r.entry(i)
	if s != want {
		return nil, nil
	}
	cnt := int(binary.LittleEndian.Uint32(rest))
	out := make([][]byte, 0, cnt)
	for j := 0; j < cnt; j++ {
		p := rest[4+12*j:]
		off := binary.LittleEndian.Uint64(p)
		n := binary.LittleEndian.Uint32(p[8:])
		out = append(out, r.data[off:off+uint64(n)])
	}
	return out, nil
}

func (r *sortedReader) close() error { return unix.Munmap(r.data) }

func BenchmarkStore(b *testing.B) {
	recs := stagedRecords(b)
	for _, c := range candidates {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			for b.Loop() {
				p := filepath.Join(b.TempDir(), "vulndb.sqlite")
				if err := c.build(p, recs); err != nil {
					b.Fatal(err)
				}
				st, _ := os.Stat(p)
				size = st.Size()
			}
			b.ReportMetric(float64(len(recs))/(b.Elapsed().Seconds()/float64(b.N)), "records/s")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	recs := stagedRecords(b)
	for _, c := range candidates {
		b.Run(c.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "vulndb.sqlite")
			if err := c.build(p, recs); err != nil {
				b.Fatal(err)
			}
			k := recs[0].keys[0]
			for b.Loop() {
				// Open and answer one lookup: what a scan pays before
				// its first match.
				r, err := c.open(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.lookup(k); err != nil {
					b.Fatal(err)
				}
				r.close()
			}
		})
	}
}

// BenchmarkLookup cycles through every staged (ecosystem, name). "raw"
// fetches the stored blobs; "decoded" also decompresses and parses them
// into records, which is what DB.Lookup returns.
func BenchmarkLookup(b *testing.B) {
	recs := stagedRecords(b)
	keys := lookupKeys(recs)
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	for _, c := range candidates {
		p := filepath.Join(b.TempDir(), "vulndb.sqlite")
		if err := c.build(p, recs); err != nil {
			b.Fatal(err)
		}
		r, err := c.open(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"raw", "decoded"} {
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				i, n := 0, 0
				var buf []byte
				for b.Loop() {
					blobs, err := r.lookup(keys[i%len(keys)])
					if err != nil {
						b.Fatal(err)
					}
					n += len(blobs)
					if mode == "decoded" {
						for _, bl := range blobs {
							if _, err := decodeRecord(dec, bl, &buf); err != nil {
								b.Fatal(err)
							}
						}
					}
					i++
				}
				b.ReportMetric(float64(n)/float64(b.N), "records/op")
			})
		}
		r.close()
	}
}

// BenchmarkDBLookup is the public API on the production store, for the
// biggest Go and PyPI packages and for a miss.
func BenchmarkDBLookup(b *testing.B) {
	recs := stagedRecords(b)
	p := filepath.Join(b.TempDir(), "vulndb.sqlite")
	if err := buildSQLite(p, recs); err != nil {
		b.Fatal(err)
	}
	db, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, k := range []key{{"Go", "stdlib"}, {"PyPI", "django"}, {"Go", "golang.org/x/net"}, {"crates.io", "openssl"}, {"npm", "no-such-package"}} {
		b.Run(k.ecosystem+"/"+k.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				vs, err := db.Lookup(ctx, k.ecosystem, k.name)
				if err != nil {
					b.Fatal(err)
				}
				n = len(vs)
			}
			b.ReportMetric(float64(n), "records")
		})
	}
}

var fixedTime = mustTime("2026-01-01T00:00:00Z")
