package rpm

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// fixture is one real database and the file that says what it holds.
type fixture struct {
	name string
	file string // under testdata; ".gz" is decompressed
	path string // where the database lives in an image
	want string // rpm -qa output, or a peer's table for NDB
}

var fixtures = []fixture{
	{"BerkeleyDB RHEL 8 libuuid", "libuuid/Packages", "/var/lib/rpm/Packages", "libuuid/rpm-qa.tsv"},
	{"BerkeleyDB with epoch", "scalibr-epoch/Packages", "/var/lib/rpm/Packages", "scalibr-epoch/rpm-qa.tsv"},
	{"BerkeleyDB syft", "syft-redhat/Packages", "/var/lib/rpm/Packages", "syft-redhat/rpm-qa.tsv"},
	{"SQLite CBL-Mariner 2.0", "cbl-mariner-2.0/rpmdb.sqlite.gz", "/var/lib/rpm/rpmdb.sqlite", "cbl-mariner-2.0/rpm-qa.tsv"},
	{"NDB SLE 15 BCI", "sle15-bci/Packages.db.gz", "/usr/lib/sysimage/rpm/Packages.db", "sle15-bci/expected.tsv"},
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// row is one line of rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}'.
type row struct {
	Name, Epoch, Version, Release, Arch, SourceRPM string
}

func readRows(t *testing.T, name string) []row {
	t.Helper()
	var out []row
	for i, line := range strings.Split(strings.TrimRight(string(readTestdata(t, name)), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 {
			t.Fatalf("%s:%d: %d columns, want at least 6", name, i+1, len(f))
		}
		out = append(out, row{f[0], f[1], f[2], f[3], f[4], f[5]})
	}
	sortRows(out)
	return out
}

func sortRows(rs []row) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Name != rs[j].Name {
			return rs[i].Name < rs[j].Name
		}
		return rs[i].Arch < rs[j].Arch
	})
}

// rows renders packages the way rpm -qa prints them. The source rpm is
// rebuilt from the source name and version, so a wrong split shows.
func rows(t *testing.T, pkgs []inventory.Package) []row {
	t.Helper()
	out := make([]row, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Type != inventory.TypeRPM {
			t.Errorf("%s: type %q, want %q", p.Name, p.Type, inventory.TypeRPM)
		}
		v, r, ok := strings.Cut(p.Version, "-")
		if !ok || strings.Contains(r, "-") {
			t.Errorf("%s: version %q is not version-release", p.Name, p.Version)
		}
		if strings.Count(p.SourceVersion, "-") != 1 {
			t.Errorf("%s: source version %q is not version-release", p.Name, p.SourceVersion)
		}
		out = append(out, row{p.Name, fmt.Sprint(p.Epoch), v, r, p.Arch, p.SourceName + "-" + p.SourceVersion + ".src.rpm"})
	}
	sortRows(out)
	return out
}

func catalogFixture(t *testing.T, fx fixture) []inventory.Package {
	t.Helper()
	f := image.NewFileTemp(fx.path, 0o644, readTestdata(t, fx.file), image.NewTempDir(t.TempDir()))
	pkgs, err := New().Catalog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestGroundTruth checks every real database against what rpm -qa (rpm
// 4.18) reported on it. Debian's rpm has no NDB backend, so the SLE 15
// database is checked against go-rpmdb's own expected table instead.
func TestGroundTruth(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			if diff := cmp.Diff(readRows(t, fx.want), rows(t, catalogFixture(t, fx))); diff != "" {
				t.Errorf("packages differ from rpm -qa (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLicenses checks the License tag against rpm -qa --qf '%{NAME}\t%{ARCH}\t%{LICENSE}'.
func TestLicenses(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			type lic struct{ Name, Arch, License string }
			var want []lic
			if fx.file == "sle15-bci/Packages.db.gz" {
				for _, line := range strings.Split(strings.TrimRight(string(readTestdata(t, fx.want)), "\n"), "\n") {
					f := strings.Split(line, "\t")
					want = append(want, lic{f[0], f[4], f[6]})
				}
			} else {
				for _, line := range strings.Split(strings.TrimRight(string(readTestdata(t, filepath.Dir(fx.file)+"/rpm-qa-license.tsv")), "\n"), "\n") {
					f := strings.Split(line, "\t")
					want = append(want, lic{f[0], f[1], f[2]})
				}
			}
			var got []lic
			for _, p := range catalogFixture(t, fx) {
				if len(p.Licenses) != 1 {
					t.Errorf("%s: licenses %q, want one", p.Name, p.Licenses)
					continue
				}
				got = append(got, lic{p.Name, p.Arch, p.Licenses[0]})
			}
			less := func(a, b lic) bool { return a.Name+"\x00"+a.Arch < b.Name+"\x00"+b.Arch }
			sort.Slice(want, func(i, j int) bool { return less(want[i], want[j]) })
			sort.Slice(got, func(i, j int) bool { return less(got[i], got[j]) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("licenses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEpochAndMetadata(t *testing.T) {
	pkgs := catalogFixture(t, fixtures[1])
	want := inventory.Package{
		Type: inventory.TypeRPM, Name: "hello", Version: "0.0.1-rls", Epoch: 1, Arch: "x86_64",
		SourceName: "hello", SourceVersion: "0.0.1-rls", Licenses: []string{"GPL"},
	}
	if diff := cmp.Diff([]inventory.Package{want}, pkgs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	for _, p := range catalogFixture(t, fixtures[4]) {
		if p.Name == "bash" {
			if diff := cmp.Diff(map[string]string{"vendor": "SUSE LLC <https://www.suse.com/>"}, p.Metadata); diff != "" {
				t.Errorf("bash metadata (-want +got):\n%s", diff)
			}
		}
	}
}

func TestParseSourceRPM(t *testing.T) {
	tests := []struct {
		in, name, version string
		ok                bool
	}{
		{"glibc-2.34-2.cm2.src.rpm", "glibc", "2.34-2.cm2", true},
		{"util-linux-2.32.1-42.el8_8.src.rpm", "util-linux", "2.32.1-42.el8_8", true},
		{"python-setuptools-59.6.0-3.el9.src.rpm", "python-setuptools", "59.6.0-3.el9", true},
		{"gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610-1.3.9", true},
		{"foo-bar-baz-1-2.nosrc.rpm", "foo-bar-baz", "1-2", true},
		{"", "", "", false},
		{"(none)", "", "", false},
		{"foo-1.0-1.rpm", "", "", false},
		{"foo-1.0.src.rpm", "", "", false},
		{"-1.0-1.src.rpm", "", "", false},
		{"foo--1.src.rpm", "", "", false},
		{"foo-1.0-.src.rpm", "", "", false},
		{".src.rpm", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, version, ok := parseSourceRPM(tt.in)
			if name != tt.name || version != tt.version || ok != tt.ok {
				t.Errorf("parseSourceRPM(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, version, ok, tt.name, tt.version, tt.ok)
			}
		})
	}
}

// entry is one tag of a header built by makeHeader.
type entry struct {
	tag, typ uint32
	count    uint32
	data     []byte
}

func str(tag uint32, s string) entry { return entry{tag, typeString, 1, append([]byte(s), 0)} }

func i32(tag uint32, v int32) entry {
	return entry{tag, typeInt32, 1, binary.BigEndian.AppendUint32(nil, uint32(v))}
}

// makeHeader builds a header blob as rpm stores it, without a region tag.
func makeHeader(es ...entry) []byte {
	var index, data []byte
	for _, e := range es {
		if e.typ == typeInt32 {
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
		}
		index = binary.BigEndian.AppendUint32(index, e.tag)
		index = binary.BigEndian.AppendUint32(index, e.typ)
		index = binary.BigEndian.AppendUint32(index, uint32(len(data)))
		index = binary.BigEndian.AppendUint32(index, e.count)
		data = append(data, e.data...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(es)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(append(b, index...), data...)
}

func TestParseHeader(t *testing.T) {
	full := makeHeader(
		str(tagName, "bash"), str(tagVersion, "5.1.8"), str(tagRelease, "1.cm2"), i32(tagEpoch, 2),
		str(tagArch, "x86_64"), str(tagSourceRPM, "bash-5.1.8-1.cm2.src.rpm"), str(tagLicense, "GPLv3+"),
		str(tagVendor, "Microsoft Corporation"), str(tagModularityLabel, "perl:5.30:8040020210302123000:9fe1d287"),
		str(1004, "The GNU Bourne Again shell"),
	)
	tests := []struct {
		name    string
		blob    []byte
		want    *header
		wantErr bool
	}{
		{
			name: "all tags",
			blob: full,
			want: &header{
				name: "bash", version: "5.1.8", release: "1.cm2", arch: "x86_64", sourceRPM: "bash-5.1.8-1.cm2.src.rpm",
				license: "GPLv3+", vendor: "Microsoft Corporation", modularityLabel: "perl:5.30:8040020210302123000:9fe1d287",
				epoch: 2, hasEpoch: true,
			},
		},
		{
			name: "a later entry replaces an earlier one",
			blob: makeHeader(str(tagName, "old"), str(tagVersion, "1"), str(tagName, "new")),
			want: &header{name: "new", version: "1"},
		},
		{
			name: "first value of a string array and of an i18n string",
			blob: makeHeader(
				entry{tagName, typeStringArray, 2, []byte("a\x00b\x00")},
				entry{tagVersion, typeI18NString, 1, []byte("1\x00")},
			),
			want: &header{name: "a", version: "1"},
		},
		{name: "empty", blob: nil, wantErr: true},
		{name: "no entries", blob: makeHeader(), wantErr: true},
		{name: "no name", blob: makeHeader(str(tagVersion, "1")), wantErr: true},
		{name: "name is a number", blob: makeHeader(i32(tagName, 1), str(tagVersion, "1")), wantErr: true},
		{name: "epoch is a string", blob: makeHeader(str(tagName, "a"), str(tagVersion, "1"), str(tagEpoch, "1")), wantErr: true},
		{name: "string without NUL", blob: makeHeader(str(tagVersion, "1"), entry{tagName, typeString, 1, []byte("abc")}), wantErr: true},
		{name: "truncated", blob: full[:len(full)-10], wantErr: true},
		{name: "huge entry count", blob: append([]byte{0x7f, 0xff, 0xff, 0xff}, full[4:]...), wantErr: true},
		{name: "negative entry count", blob: append([]byte{0xff, 0xff, 0xff, 0xff}, full[4:]...), wantErr: true},
		{name: "entry count that overflows when multiplied", blob: append([]byte{0x10, 0, 0, 0}, full[4:]...), wantErr: true},
		{name: "huge data length", blob: append(append([]byte{}, full[:4]...), append([]byte{0x7f, 0xff, 0xff, 0xff}, full[8:]...)...), wantErr: true},
		{name: "negative data length", blob: append(append([]byte{}, full[:4]...), append([]byte{0xff, 0xff, 0xff, 0xf0}, full[8:]...)...), wantErr: true},
		{name: "offset outside the data", blob: func() []byte {
			b := bytes.Clone(full)
			binary.BigEndian.PutUint32(b[8+8:], 1<<30) // first entry's offset
			return b
		}(), wantErr: true},
		{name: "negative offset", blob: func() []byte {
			b := bytes.Clone(full)
			binary.BigEndian.PutUint32(b[8+8:], 0xfffffff0)
			return b
		}(), wantErr: true},
		{name: "epoch at the end of the data", blob: func() []byte {
			b := makeHeader(str(tagName, "a"), str(tagVersion, "1"), i32(tagEpoch, 1))
			binary.BigEndian.PutUint32(b[8+32+8:], uint32(len(b)-8-48-2))
			return b
		}(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHeader(tt.blob)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseHeader error = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errHeader) {
				t.Errorf("error %v does not wrap errHeader", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(header{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollector(t *testing.T) {
	c := &collector{}
	for _, blob := range [][]byte{
		makeHeader(str(tagName, "gpg-pubkey"), str(tagVersion, "fd431d51"), str(tagRelease, "4ae0493b")),
		makeHeader(str(tagName, "bash"), str(tagVersion, "5.1"), str(tagRelease, "1"), i32(tagEpoch, 0), str(tagSourceRPM, "(none)"), str(tagLicense, "(none)")),
		[]byte("junk"),
	} {
		if err := c.add(blob, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.add(nil, errors.New("unreadable blob")); err != nil {
		t.Fatal(err)
	}
	// gpg-pubkey is not software; a package without a source rpm is its
	// own source; epoch 0 is no epoch.
	want := []inventory.Package{{Type: inventory.TypeRPM, Name: "bash", Version: "5.1-1", SourceName: "bash", SourceVersion: "5.1-1"}}
	if diff := cmp.Diff(want, c.pkgs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := c.err(); err == nil || !strings.Contains(err.Error(), "2 unreadable") {
		t.Errorf("err() = %v, want a count of 2 unreadable records", err)
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		want bool
	}{
		{"/var/lib/rpm/Packages", 0o644, true},
		{"/var/lib/rpm/Packages.db", 0o644, true},
		{"/var/lib/rpm/rpmdb.sqlite", 0o644, true},
		{"/usr/lib/sysimage/rpm/Packages", 0o644, true},
		{"/usr/lib/sysimage/rpm/Packages.db", 0o644, true},
		{"/usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644, true},
		{"/var/lib/rpm/rpmdb.sqlite-wal", 0o644, false},
		{"/var/lib/rpm/rpmdb.sqlite-shm", 0o644, false},
		{"/var/lib/rpm/Name", 0o644, false},
		{"/var/lib/rpm/Index.db", 0o644, false},
		{"/home/u/var/lib/rpm/Packages", 0o644, false},
		{"/var/lib/rpm/x/Packages", 0o644, false},
		{"var/lib/rpm/Packages", 0o644, false},
		{"/var/lib/rpm/Packages", fs.ModeSymlink | 0o777, false},
		{"/var/lib/rpm/Packages", fs.ModeDir | 0o755, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
			}
		})
	}
}

// within fails the test if fn does not return in time: a corrupt
// database must give an error, not a hang.
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}

// readAny reads a database the way Catalog does, but without its
// recover, so that a panic fails the test.
func readAny(t *testing.T, fx fixture, data []byte) ([]inventory.Package, error) {
	t.Helper()
	c := &collector{}
	var err error
	if strings.HasSuffix(fx.path, "rpmdb.sqlite") {
		p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
		if err := os.WriteFile(p, data, 0o444); err != nil {
			t.Fatal(err)
		}
		err = readSQLite(context.Background(), p, c.add)
	} else {
		err = readPackages(context.Background(), bytes.NewReader(data), int64(len(data)), c.add)
	}
	if err == nil {
		err = c.err()
	}
	return c.pkgs, err
}

// TestTruncated cuts each real database short: every cut must give an
// error, promptly.
func TestTruncated(t *testing.T) {
	for _, fx := range fixtures {
		data := readTestdata(t, fx.file)
		cuts := []int{0, 1, 15, 16, 100, 511, 4096, len(data) / 3, len(data) / 2, len(data) - 4096}
		if !strings.HasSuffix(fx.path, "rpmdb.sqlite") {
			// SQLite reads a database whose last page lost only unused
			// bytes, correctly; the other formats check lengths exactly.
			cuts = append(cuts, len(data)-1)
		}
		for _, n := range cuts {
			if n < 0 || n >= len(data) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", fx.name, n), func(t *testing.T) {
				within(t, 30*time.Second, func() {
					pkgs, err := readAny(t, fx, data[:n])
					if err == nil {
						t.Errorf("no error from a database cut to %d of %d bytes (%d packages)", n, len(data), len(pkgs))
					}
				})
			})
		}
	}
}

// TestCorrupted flips bytes all over each real database. Errors are
// expected but not required (a flip may hit unused space); panics,
// hangs and packages without a name or version are failures.
func TestCorrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, fx := range fixtures {
		data := readTestdata(t, fx.file)
		rounds := 40
		if strings.HasSuffix(fx.path, "rpmdb.sqlite") {
			rounds = 10 // each round writes a file
		}
		t.Run(fx.name, func(t *testing.T) {
			for round := 0; round < rounds; round++ {
				b := bytes.Clone(data)
				for i := 0; i < 1+round%20; i++ {
					b[rng.IntN(len(b))] = byte(rng.IntN(256))
				}
				within(t, 30*time.Second, func() {
					pkgs, _ := readAny(t, fx, b)
					for _, p := range pkgs {
						if p.Name == "" || p.Version == "" {
							t.Errorf("round %d: package without name or version: %+v", round, p)
						}
					}
				})
			}
		})
	}
}

// page returns page n of a Berkeley DB file (little-endian, 4 KiB pages).
func page(b []byte, n int) []byte { return b[n*4096 : (n+1)*4096] }

// TestHostileBDB patches the libuuid database in the ways that make
// go-rpmdb panic in its own goroutine or loop forever.
func TestHostileBDB(t *testing.T) {
	orig := readTestdata(t, "libuuid/Packages")
	// Page 2 is the hash page whose second item is the off-page header;
	// its chain starts at page 3.
	const hashPage, firstOverflow = 2, 3
	le := binary.LittleEndian
	valueOff := int(le.Uint16(page(orig, hashPage)[26+2:]))
	if page(orig, hashPage)[valueOff] != bdbItemOffPage || le.Uint32(page(orig, hashPage)[valueOff+4:]) != firstOverflow {
		t.Fatal("fixture layout changed")
	}
	tests := []struct {
		name  string
		patch func(b []byte)
	}{
		{"index entry past the page", func(b []byte) { le.PutUint16(page(b, hashPage)[26+2:], 0xfff0) }},
		{"odd index count", func(b []byte) { le.PutUint16(page(b, hashPage)[20:], 3) }},
		{"index count larger than the page", func(b []byte) { le.PutUint16(page(b, hashPage)[20:], 0xfffe) }},
		{"off-page item overlapping its key", func(b []byte) {
			le.PutUint16(page(b, hashPage)[26+2:], 4085)
			page(b, hashPage)[4085] = bdbItemOffPage
		}},
		{"chain into a hash page", func(b []byte) { page(b, firstOverflow)[25] = bdbPageHash }},
		{"chain that loops", func(b []byte) { le.PutUint32(page(b, firstOverflow)[16:], firstOverflow) }},
		{"chain past the file", func(b []byte) { le.PutUint32(page(b, firstOverflow)[16:], 1<<30) }},
		{"chain to the metadata page", func(b []byte) { le.PutUint32(page(b, hashPage)[valueOff+4:], 0) }},
		{"huge item length", func(b []byte) { le.PutUint32(page(b, hashPage)[valueOff+8:], 0xffffffff) }},
		{"overflow page claims more than a page", func(b []byte) { le.PutUint16(page(b, firstOverflow)[22:], 0xffff) }},
		{"last page beyond the file", func(b []byte) { le.PutUint32(b[32:], 1<<20) }},
		{"page size not a power of two", func(b []byte) { le.PutUint32(b[20:], 5000) }},
		{"encrypted", func(b []byte) { b[24] = 1 }},
		{"wrong magic", func(b []byte) { le.PutUint32(b[12:], 0x12345678) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			tt.patch(b)
			within(t, 10*time.Second, func() {
				pkgs, err := readAny(t, fixtures[0], b)
				if err == nil {
					t.Errorf("no error (%d packages)", len(pkgs))
				}
				t.Log(err)
			})
		})
	}
}

func TestHostileNDB(t *testing.T) {
	orig := readTestdata(t, "sle15-bci/Packages.db.gz")
	le := binary.LittleEndian
	slot := func(b []byte) []byte { return b[2*16 : 3*16] } // the first package slot
	blob := func(b []byte) []byte { return b[int(le.Uint32(slot(b)[8:]))*16:] }
	tests := []struct {
		name  string
		patch func(b []byte)
	}{
		{"slot pages beyond the file", func(b []byte) { le.PutUint32(b[12:], 1<<20) }},
		{"no slot pages", func(b []byte) { le.PutUint32(b[12:], 0) }},
		{"bad version", func(b []byte) { le.PutUint32(b[4:], 1) }},
		{"bad slot magic", func(b []byte) { le.PutUint32(slot(b)[0:], 0) }},
		{"blob past the file", func(b []byte) { le.PutUint32(slot(b)[8:], 1<<28) }},
		{"blob over the slot pages", func(b []byte) { le.PutUint32(slot(b)[8:], 0) }},
		{"huge block count", func(b []byte) { le.PutUint32(slot(b)[12:], 0xffffffff) }},
		{"blob head of another package", func(b []byte) { le.PutUint32(blob(b)[4:], 9999) }},
		{"blob length disagrees with blocks", func(b []byte) { le.PutUint32(blob(b)[12:], 0xffffff) }},
		{"checksum mismatch", func(b []byte) { blob(b)[100] ^= 0xff }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			tt.patch(b)
			within(t, 10*time.Second, func() {
				pkgs, err := readAny(t, fixtures[4], b)
				if err == nil {
					t.Errorf("no error (%d packages)", len(pkgs))
				}
				t.Log(err)
			})
		})
	}

	// Slots that all point at one blob may not multiply the work.
	b := bytes.Clone(orig)
	first := slot(b)
	for i := 3; i < 256; i++ {
		s := b[i*16 : (i+1)*16]
		copy(s, first)
	}
	within(t, 10*time.Second, func() {
		if _, err := readAny(t, fixtures[4], b); err == nil {
			t.Error("no error for slots sharing one blob")
		}
	})
}

// TestHostileSQLite builds databases whose schema would make the query
// expensive, and checks that they are refused before it runs.
func TestHostileSQLite(t *testing.T) {
	tests := []struct {
		name   string
		schema string
	}{
		{"no Packages table", `CREATE TABLE Other (blob BLOB)`},
		{"Packages is an endless view", `CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT randomblob(1000) AS blob FROM c`},
		{"blob is a generated column", `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, seed INT, blob BLOB GENERATED ALWAYS AS (zeroblob(100000000)) VIRTUAL); INSERT INTO Packages (seed) VALUES (1)`},
		{"no blob column", `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, data BLOB)`},
		{"Packages is a virtual table", `CREATE VIRTUAL TABLE Packages USING fts5(blob)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
			db, err := sql.Open("sqlite", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tt.schema); err != nil {
				t.Fatal(err)
			}
			db.Close()
			within(t, 10*time.Second, func() {
				err := readSQLite(context.Background(), p, func([]byte, error) error { return nil })
				if err == nil {
					t.Error("no error")
				}
				t.Log(err)
			})
		})
	}

	t.Run("not a database", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
		if err := os.WriteFile(p, []byte("SQLite format 3\x00 and then junk"), 0o444); err != nil {
			t.Fatal(err)
		}
		if err := readSQLite(context.Background(), p, func([]byte, error) error { return nil }); err == nil {
			t.Error("no error")
		}
	})
}

// TestSQLiteLeavesTreeAlone reads a WAL-mode database in place, as a
// scan of a directory does, and checks that nothing beside it was
// created or changed.
func TestSQLiteLeavesTreeAlone(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rpmdb.sqlite")
	data := readTestdata(t, "cbl-mariner-2.0/rpmdb.sqlite.gz")
	if data[18] != 2 || data[19] != 2 {
		t.Fatal("fixture is not a WAL-mode database")
	}
	if err := os.WriteFile(p, data, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	c := &collector{}
	if err := readSQLite(context.Background(), p, c.add); err != nil {
		t.Fatal(err)
	}
	if len(c.pkgs) != 129 {
		t.Errorf("%d packages, want 129", len(c.pkgs))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q after the read, want only rpmdb.sqlite", names)
	}
	after, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(after) != sha256.Sum256(data) {
		t.Error("the database file changed")
	}
}

func TestCatalogErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("SQLite content under a Berkeley DB name", func(t *testing.T) {
		f := image.NewFile("/var/lib/rpm/Packages", 0o644, readTestdata(t, "cbl-mariner-2.0/rpmdb.sqlite.gz"))
		if _, err := New().Catalog(ctx, f); err == nil {
			t.Error("no error")
		}
	})
	t.Run("SQLite without a temporary directory", func(t *testing.T) {
		f := image.NewFile("/var/lib/rpm/rpmdb.sqlite", 0o644, readTestdata(t, "cbl-mariner-2.0/rpmdb.sqlite.gz"))
		if _, err := New().Catalog(ctx, f); err == nil {
			t.Error("no error")
		}
	})
	t.Run("too large", func(t *testing.T) {
		f := image.NewFile("/var/lib/rpm/Packages", 0o644, nil)
		f.Size = maxDB + 1
		if _, err := New().Catalog(ctx, f); !errors.Is(err, image.ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		f := image.NewFile("/usr/lib/sysimage/rpm/Packages.db", 0o644, readTestdata(t, "sle15-bci/Packages.db.gz"))
		if _, err := New().Catalog(ctx, f); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("one bad record among good ones", func(t *testing.T) {
		b := readTestdata(t, "sle15-bci/Packages.db.gz")
		le := binary.LittleEndian
		blob := b[int(le.Uint32(b[2*16+8:]))*16:]
		blob[100] ^= 0xff // breaks the first package's checksum
		pkgs, err := New().Catalog(ctx, image.NewFile("/usr/lib/sysimage/rpm/Packages.db", 0o644, b))
		if err == nil || len(pkgs) != 34 {
			t.Errorf("got %d packages and error %v; want the other 34 and an error", len(pkgs), err)
		}
	})
}

// TestSharedData runs the cataloger on every rpm database in the shared
// data folder, when it is present, and checks it against the rpm -qa
// golden files there.
func TestSharedData(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..", "shared", "data")
	if _, err := os.Stat(root); err != nil {
		t.Skip("shared data not present")
	}
	golden := map[string]string{
		"pkgdb/rpm/go-rpmdb/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite":                   "go-rpmdb_cbl-mariner-2.0_rpmdb.sqlite.rpm-qa.tsv",
		"pkgdb/rpm/go-rpmdb/pkg/testdata/libuuid/Packages":                               "go-rpmdb_libuuid_Packages.rpm-qa.tsv",
		"pkgdb/osv-scalibr-fixtures/extractor/filesystem/os/rpm/testdata/Packages_epoch": "osv-scalibr-fixtures_Packages_epoch.rpm-qa.tsv",
		"pkgdb/syft-fixtures/syft/pkg/cataloger/redhat/testdata/Packages":                "syft-fixtures_Packages.rpm-qa.tsv",
	}
	for db, g := range golden {
		t.Run(g, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, db))
			if err != nil {
				t.Fatal(err)
			}
			name := "/var/lib/rpm/" + filepath.Base(db)
			if strings.HasSuffix(name, "_epoch") {
				name = "/var/lib/rpm/Packages"
			}
			f := image.NewFileTemp(name, 0o644, b, image.NewTempDir(t.TempDir()))
			pkgs, err := New().Catalog(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			wb, err := os.ReadFile(filepath.Join(root, "golden", "rpm-cli-queries", g))
			if err != nil {
				t.Fatal(err)
			}
			var want []row
			for _, line := range strings.Split(strings.TrimRight(string(wb), "\n"), "\n") {
				f := strings.Split(line, "\t")
				if f[0] == "gpg-pubkey" {
					continue
				}
				want = append(want, row{f[0], f[1], f[2], f[3], f[4], f[5]})
			}
			sortRows(want)
			if diff := cmp.Diff(want, rows(t, pkgs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"scalibr-epoch/Packages", "syft-redhat/Packages"} {
		f.Add(readTestdata(f, name))
	}
	// The NDB fixture is large; its first slot page and first blob make
	// a small, valid seed.
	ndb := readTestdata(f, "sle15-bci/Packages.db.gz")
	le := binary.LittleEndian
	off, n := le.Uint32(ndb[2*16+8:])*16, le.Uint32(ndb[2*16+12:])*16
	seed := bytes.Clone(ndb[:4096])
	for i := 3; i < 256; i++ {
		le.PutUint32(seed[i*16+4:], 0) // free every other slot
	}
	le.PutUint32(seed[2*16+8:], 4096/16)
	f.Add(append(seed, ndb[off:off+n]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &collector{}
		_ = readPackages(context.Background(), bytes.NewReader(b), int64(len(b)), c.add)
		for _, p := range c.pkgs {
			if p.Name == "" || p.Type != inventory.TypeRPM {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzHeader(f *testing.F) {
	f.Add(makeHeader(str(tagName, "bash"), str(tagVersion, "5.1"), str(tagRelease, "1"), i32(tagEpoch, 1), str(tagSourceRPM, "bash-5.1-1.src.rpm")))
	f.Add(makeHeader(entry{tagName, typeStringArray, 2, []byte("a\x00b\x00")}, str(tagVersion, "1")))
	c := &collector{}
	if err := readBDB(context.Background(), bytes.NewReader(readTestdata(f, "scalibr-epoch/Packages")), 20480, func(b []byte, err error) error {
		if err == nil {
			f.Add(b)
		}
		return c.add(b, err)
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err == nil && (h.name == "" || h.version == "") {
			t.Fatalf("header without name or version: %+v", h)
		}
	})
}
