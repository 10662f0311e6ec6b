package rustbinary

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/gobinary"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// fixtureWant is what testdata/dep-v0.json records, less its build
// dependencies (argh_derive, proc-macro2, quote, serde_derive, syn,
// unicode-ident): the root crate hello_world from a local path, argh,
// which the root depends on directly, and argh_shared and serde below it.
var fixtureWant = []inventory.Package{
	{Type: inventory.TypeCargo, Name: "argh", Version: "0.1.12", Direct: true, Metadata: map[string]string{"source": "crates.io"}},
	{Type: inventory.TypeCargo, Name: "argh_shared", Version: "0.1.12", Metadata: map[string]string{"source": "crates.io"}},
	{Type: inventory.TypeCargo, Name: "hello_world", Version: "0.1.0", Metadata: map[string]string{"source": "local", "root": "true"}},
	{Type: inventory.TypeCargo, Name: "serde", Version: "1.0.215", Metadata: map[string]string{"source": "crates.io"}},
}

func sortPkgs(p []inventory.Package) []inventory.Package {
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
	return p
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compress(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "executable", path: "/usr/local/bin/app", mode: 0o755, want: true},
		{name: "owner-only executable", path: "/app/server", mode: 0o700, want: true},
		{name: "windows exe without execute bit", path: "/Files/app.exe", mode: 0o644, want: true},
		{name: "plain file", path: "/app/Cargo.lock", mode: 0o644},
		{name: "directory", path: "/usr/bin", mode: fs.ModeDir | 0o755},
		{name: "symlink", path: "/usr/bin/app", mode: fs.ModeSymlink | 0o777},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
			}
		})
	}
}

// TestFixture reads the committed rustc-built binary (testdata/README.md).
func TestFixture(t *testing.T) {
	bin := readFixture(t, "hello-auditable")
	got, err := New().Catalog(context.Background(), image.NewFile("/usr/local/bin/hello_world", 0o755, bin))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureWant, sortPkgs(got)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "fixture JSON", json: string(readFixture(t, "dep-v0.json")), want: fixtureWant},
		{
			name: "kind absent means runtime; sources of every shape",
			json: `{"packages":[
				{"name":"a","version":"1.0.0","source":"git"},
				{"name":"b","version":"2.0.0","source":{"Other":"sparse+https://example.com/index/"},"kind":"runtime"},
				{"name":"c","version":"3.0.0","source":"registry"},
				{"name":"d","version":"4.0.0"}]}`,
			want: []inventory.Package{
				{Type: inventory.TypeCargo, Name: "a", Version: "1.0.0", Metadata: map[string]string{"source": "git"}},
				{Type: inventory.TypeCargo, Name: "b", Version: "2.0.0", Metadata: map[string]string{"source": "sparse+https://example.com/index/"}},
				{Type: inventory.TypeCargo, Name: "c", Version: "3.0.0", Metadata: map[string]string{"source": "registry"}},
				{Type: inventory.TypeCargo, Name: "d", Version: "4.0.0"},
			},
		},
		{
			name: "dependency indices out of range are ignored",
			json: `{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true,"dependencies":[1,7,-1]},{"name":"x","version":"1.0.0","source":"crates.io"}]}`,
			want: []inventory.Package{
				{Type: inventory.TypeCargo, Name: "app", Version: "0.1.0", Metadata: map[string]string{"source": "local", "root": "true"}},
				{Type: inventory.TypeCargo, Name: "x", Version: "1.0.0", Direct: true, Metadata: map[string]string{"source": "crates.io"}},
			},
		},
		{
			name: "entries without name or version are skipped",
			json: `{"packages":[{"name":"","version":"1.0.0"},{"name":"x"},{"name":"y","version":"1.0.0","source":"crates.io"}]}`,
			want: []inventory.Package{{Type: inventory.TypeCargo, Name: "y", Version: "1.0.0", Metadata: map[string]string{"source": "crates.io"}}},
		},
		{name: "newer format field", json: `{"format":1,"packages":[]}`},
		{name: "empty object", json: `{}`},
		{name: "not JSON", json: `{"packages":[`, wantErr: true},
		{name: "wrong shape", json: `{"packages":{"name":"x"}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, sortPkgs(got)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFormats puts the fixture's audit data in each executable format
// cargo-auditable writes, built by hand below.
func TestFormats(t *testing.T) {
	z := compress(t, readFixture(t, "dep-v0.json"))
	tests := []struct {
		name string
		bin  []byte
	}{
		{name: "ELF", bin: elfWithSection(".dep-v0", z, false)},
		{name: "ELF rust-audit 0.1 section", bin: elfWithSection(".rust-deps-v0", z, false)},
		{name: "PE", bin: peWithSection(".dep-v0", z)},
		{name: "PE rust-audit 0.1 section", bin: peWithSection("rdep-v0", z)},
		{name: "Mach-O", bin: machoWithSection(".dep-v0", z, macho.CpuArm64)},
		{name: "Mach-O universal", bin: fat(machoWithSection(".dep-v0", z, macho.CpuArm64), machoWithSection(".dep-v0", z, macho.CpuAmd64))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile("/app/x", 0o755, tt.bin))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fixtureWant, sortPkgs(got)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestObjcopy injects audit data into a system executable with objcopy,
// the other way such sections get into binaries (as a non-loaded section).
func TestObjcopy(t *testing.T) {
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("objcopy (binutils) not on PATH")
	}
	var src string
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, []byte("\x7fELF")) {
			src = p
			break
		}
	}
	if src == "" {
		t.Skip("no ELF /bin/true to inject into")
	}
	dir := t.TempDir()
	zfile := filepath.Join(dir, "dep-v0.zlib")
	if err := os.WriteFile(zfile, compress(t, readFixture(t, "dep-v0.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "true")
	if b, err := exec.Command(objcopy, "--add-section", ".dep-v0="+zfile, src, out).CombinedOutput(); err != nil {
		t.Skipf("objcopy cannot rewrite %s: %v\n%s", src, err, b)
	}
	got, err := New().Catalog(context.Background(), image.NewFile("/bin/true", 0o755, readFixtureAbs(t, out)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureWant, sortPkgs(got)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func readFixtureAbs(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNotRust checks that executables without audit data yield nothing
// and no error: the cataloger sees every executable.
func TestNotRust(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{name: "shell script", data: []byte("#!/bin/sh\necho hi\n")},
		{name: "empty", data: nil},
		{name: "short", data: []byte("MZ")},
		{name: "ELF header only", data: elfWithSection(".text", nil, false)[:64]},
		{name: "ELF without audit section", data: elfWithSection(".data", []byte("data"), false)},
		{name: "PE without audit section", data: peWithSection(".data", []byte("data"))},
		{name: "Mach-O without audit section", data: machoWithSection("__data", []byte("data"), macho.CpuAmd64)},
		{name: "Java class", data: []byte("\xca\xfe\xba\xbe\x00\x00\x00\x34rest of a class file")},
		{name: "MZ text", data: []byte("MZ but not a PE file at all")},
	}
	for _, p := range []string{"/bin/true", "/usr/bin/true", "/bin/sh"} {
		if b, err := os.ReadFile(p); err == nil {
			tests = append(tests, struct {
				name string
				data []byte
			}{name: "system " + p, data: b})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile("/bin/x", 0o755, tt.data))
			if err != nil || len(got) != 0 {
				t.Errorf("got %d packages and error %v, want neither", len(got), err)
			}
		})
	}
}

// TestHostile checks that damaged or oversized audit data gives a clear
// error and bounded work.
func TestHostile(t *testing.T) {
	good := compress(t, readFixture(t, "dep-v0.json"))
	bomb := compress(t, bytes.Repeat([]byte(" "), maxJSON+1)) // about 9 KiB, inflating past the limit
	tests := []struct {
		name    string
		bin     []byte
		wantErr error
		errText string
	}{
		{name: "zlib bomb", bin: elfWithSection(".dep-v0", bomb, false), wantErr: ErrTooLarge},
		{name: "section larger than the limit", bin: elfWithSection(".dep-v0", make([]byte, maxSection+1), false), wantErr: ErrTooLarge},
		{name: "section size past the end of the file", bin: elfWithSection(".dep-v0", good, true), errText: "section .dep-v0"},
		{name: "not zlib", bin: elfWithSection(".dep-v0", []byte(`{"packages":[]}`), false), errText: "not zlib"},
		{name: "truncated zlib", bin: elfWithSection(".dep-v0", good[:len(good)/2], false), errText: "decompress"},
		{name: "not JSON", bin: elfWithSection(".dep-v0", compress(t, []byte("packages")), false), errText: "JSON"},
		{name: "Mach-O section past the end", bin: machoWithSection(".dep-v0", good, macho.CpuArm64)[:300], errText: "section .dep-v0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, err := Read(bytes.NewReader(tt.bin))
			if err == nil {
				t.Fatalf("want an error, got %d packages", len(pkgs))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.errText != "" && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %v, want it to mention %q", err, tt.errText)
			}
		})
	}
}

// TestThroughImage runs the engine with both binary catalogers over a
// compressed and an uncompressed layer: they share each executable, the
// Go cataloger finds nothing in the Rust binary, and the script is
// turned down after a peek.
func TestThroughImage(t *testing.T) {
	bin := string(readFixture(t, "hello-auditable"))
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "uncompressed", true: "gzip"}[gz], func(t *testing.T) {
			layer := imagetest.NewLayer(gz,
				imagetest.Exec("usr/local/bin/hello_world", bin),
				imagetest.Exec("usr/local/bin/run.sh", "#!/bin/sh\nexec hello_world\n"),
				imagetest.File("usr/share/doc/hello_world.bin", bin), // not executable: not read
			)
			p := filepath.Join(t.TempDir(), "img.tar")
			if err := imagetest.DockerArchive(p, "test:1", []imagetest.Layer{layer}); err != nil {
				t.Fatal(err)
			}
			img, err := image.Open(context.Background(), p, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			inv, err := catalog.Run(context.Background(), img, catalog.Options{
				Catalogers: []catalog.Cataloger{gobinary.New(), New()},
				Walk:       image.WalkOptions{Temp: image.NewTempDir(t.TempDir())},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range inv.Packages {
				got = append(got, p.FoundBy+" "+p.PURL)
				if len(p.Locations) != 1 || p.Locations[0].Path != "/usr/local/bin/hello_world" {
					t.Errorf("%s: locations %+v", p.Name, p.Locations)
				}
			}
			want := []string{
				"rustbinary pkg:cargo/argh@0.1.12",
				"rustbinary pkg:cargo/argh_shared@0.1.12",
				"rustbinary pkg:cargo/hello_world@0.1.0",
				"rustbinary pkg:cargo/serde@1.0.215",
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings: %v", inv.Warnings)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	z := compress(f, readFixture(f, "dep-v0.json"))
	seeds := [][]byte{
		elfWithSection(".dep-v0", z, false),
		peWithSection(".dep-v0", z),
		machoWithSection(".dep-v0", z, macho.CpuArm64),
		fat(machoWithSection(".dep-v0", z, macho.CpuArm64), machoWithSection(".dep-v0", z, macho.CpuAmd64)),
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(s[:len(s)-len(z)/2])
	}
	f.Add(z)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Errorf("package without name or version: %+v", p)
			}
		}
		// The JSON parser on its own, with the raw input.
		Parse(data)
	})
}

// elfWithSection returns a minimal little-endian ELF64 executable with
// one loaded segment holding data, described by a section named name.
// With lie set, the section header claims more bytes than the file has.
func elfWithSection(name string, data []byte, lie bool) []byte {
	const dataOff = 128 // after the 64-byte header and one 56-byte program header
	vaddr := uint64(0x400000 + dataOff)
	shstr := "\x00" + name + "\x00.shstrtab\x00"
	shstrOff := dataOff + uint64(len(data))
	shOff := (shstrOff + uint64(len(shstr)) + 7) &^ 7
	size := uint64(len(data))
	if lie {
		size = 1 << 20
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, elf.Header64{
		Ident:   [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_EXEC),
		Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT), Entry: vaddr,
		Phoff: 64, Shoff: shOff, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64, Shnum: 3, Shstrndx: 2,
	})
	binary.Write(&b, le, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R), Off: dataOff,
		Vaddr: vaddr, Paddr: vaddr, Filesz: uint64(len(data)), Memsz: uint64(len(data)), Align: 16,
	})
	b.Write(make([]byte, dataOff-b.Len()))
	b.Write(data)
	b.WriteString(shstr)
	b.Write(make([]byte, int(shOff)-b.Len()))
	binary.Write(&b, le, elf.Section64{})
	binary.Write(&b, le, elf.Section64{
		Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC),
		Addr: vaddr, Off: dataOff, Size: size, Addralign: 1,
	})
	binary.Write(&b, le, elf.Section64{
		Name: uint32(len(name) + 2), Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1,
	})
	return b.Bytes()
}

// peWithSection returns a minimal PE file (no optional header) with one
// section named name holding data, its raw size padded to 512 bytes as
// linkers pad it, and VirtualSize giving the real length.
func peWithSection(name string, data []byte) []byte {
	const peOff, rawOff = 0x40, 0x200
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("MZ")
	b.Write(make([]byte, 0x3c-2))
	binary.Write(&b, le, uint32(peOff))
	b.WriteString("PE\x00\x00")
	binary.Write(&b, le, pe.FileHeader{Machine: pe.IMAGE_FILE_MACHINE_AMD64, NumberOfSections: 1, Characteristics: pe.IMAGE_FILE_EXECUTABLE_IMAGE})
	raw := (uint32(len(data)) + 0x1ff) &^ 0x1ff
	var sh pe.SectionHeader32
	copy(sh.Name[:], name)
	sh.VirtualSize = uint32(len(data))
	sh.VirtualAddress = 0x1000
	sh.SizeOfRawData = raw
	sh.PointerToRawData = rawOff
	sh.Characteristics = pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ
	binary.Write(&b, le, sh)
	b.Write(make([]byte, rawOff-b.Len()))
	b.Write(data)
	b.Write(make([]byte, int(raw)-len(data)))
	return b.Bytes()
}

// machoWithSection returns a minimal 64-bit little-endian Mach-O
// executable with a __DATA segment holding one section named name, as
// cargo-auditable writes "__DATA,.dep-v0".
func machoWithSection(name string, data []byte, cpu macho.Cpu) []byte {
	const hdr, seg, sect = 32, 72, 80
	const dataOff = 256
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, macho.FileHeader{Magic: macho.Magic64, Cpu: cpu, Type: macho.TypeExec, Ncmd: 1, Cmdsz: seg + sect})
	binary.Write(&b, le, uint32(0)) // reserved
	var sg macho.Segment64
	sg.Cmd = macho.LoadCmdSegment64
	sg.Len = seg + sect
	copy(sg.Name[:], "__DATA")
	sg.Addr, sg.Memsz = 0x100000000, uint64(len(data))
	sg.Offset, sg.Filesz = dataOff, uint64(len(data))
	sg.Maxprot, sg.Prot, sg.Nsect = 3, 3, 1
	binary.Write(&b, le, sg)
	var sc macho.Section64
	copy(sc.Name[:], name)
	copy(sc.Seg[:], "__DATA")
	sc.Addr, sc.Size, sc.Offset = 0x100000000, uint64(len(data)), dataOff
	binary.Write(&b, le, sc)
	b.Write(make([]byte, dataOff-b.Len()))
	b.Write(data)
	return b.Bytes()
}

// fat wraps thin Mach-O files in a universal file, each slice 4 KiB aligned.
func fat(slices ...[]byte) []byte {
	const align = 12
	var b bytes.Buffer
	be := binary.BigEndian
	binary.Write(&b, be, []uint32{macho.MagicFat, uint32(len(slices))})
	off := uint32(1 << align)
	var body bytes.Buffer
	for _, s := range slices {
		cpu := le32(s[4:])
		binary.Write(&b, be, []uint32{cpu, 0, off, uint32(len(s)), align})
		body.Write(s)
		pad := (uint32(len(s)) + 1<<align - 1) &^ (1<<align - 1)
		body.Write(make([]byte, pad-uint32(len(s))))
		off += pad
	}
	b.Write(make([]byte, 1<<align-b.Len()))
	b.Write(body.Bytes())
	return b.Bytes()
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
