package gobinary

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "executable", path: "/usr/local/bin/app", mode: 0o755, want: true},
		{name: "owner-only executable", path: "/app/server", mode: 0o700, want: true},
		{name: "group execute bit only", path: "/app/server", mode: 0o610, want: true},
		{name: "windows exe without execute bit", path: "/Files/app.exe", mode: 0o644, want: true},
		{name: "plain file", path: "/etc/passwd", mode: 0o644},
		{name: "library without execute bit", path: "/usr/lib/libfoo.so", mode: 0o644},
		{name: "directory", path: "/usr/bin", mode: fs.ModeDir | 0o755},
		{name: "symlink", path: "/usr/bin/app", mode: fs.ModeSymlink | 0o777},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
			}
		})
	}
}

func TestStdlibVersion(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "release", in: "go1.22.1", want: "1.22.1"},
		{name: "first release before 1.21", in: "go1.20", want: "1.20.0"},
		{name: "old two-part release", in: "go1.9", want: "1.9.0"},
		{name: "release candidate", in: "go1.21rc2", want: "1.21.0-rc.2"},
		{name: "beta", in: "go1.19beta1", want: "1.19.0-beta.1"},
		{name: "experiment", in: "go1.22.3 X:boringcrypto", want: "1.22.3"},
		{name: "several experiments", in: "go1.23.0 X:nocoverageredesign,rangefunc", want: "1.23.0"},
		{name: "vendor suffix", in: "go1.21.5-bigcorp", want: "1.21.5"},
		{name: "development toolchain", in: "devel go1.23-e8ee1dc4f9 Tue May 7 22:13:44 2024 +0000", want: ""},
		{name: "toolchain between releases", in: "go1.25-20250209-RC00 cl/724970549 +ff27d270c9 X:fieldtrack,boringcrypto", want: ""},
		{name: "two parts after 1.21", in: "go1.22", want: ""},
		{name: "two parts before 1.21 with suffix", in: "go1.16-fips", want: "1.16.0"},
		{name: "empty", in: "", want: ""},
		{name: "no number", in: "gox", want: ""},
		{name: "major only", in: "go1", want: ""},
		{name: "garbage after", in: "go1.22.1x", want: ""},
		{name: "prerelease without number", in: "go1.21rc", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stdlibVersion(tt.in); got != tt.want {
				t.Errorf("stdlibVersion(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// goBuilds builds the fixtures once per test binary: they take a few
// seconds on a cold build cache.
var goBuilds struct {
	once sync.Once
	dir  string
	err  error
	env  []string
	out  map[string][]byte
	mu   sync.Mutex
}

// build compiles a fixture with the go command and returns the binary.
// The module dependencies come from a file-system module proxy made from
// testdata/proxy, so nothing is fetched from the network.
func build(t *testing.T, name string, env []string, args ...string) []byte {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH; cannot build Go binary fixtures")
	}
	goBuilds.once.Do(func() {
		goBuilds.dir, goBuilds.err = os.MkdirTemp("", "seawall-gobinary-*")
		if goBuilds.err != nil {
			return
		}
		proxy := filepath.Join(goBuilds.dir, "proxy")
		if goBuilds.err = makeProxy("testdata/proxy", proxy); goBuilds.err != nil {
			return
		}
		for _, d := range []string{"hello", "local"} {
			if goBuilds.err = os.CopyFS(filepath.Join(goBuilds.dir, d), os.DirFS(filepath.Join("testdata", d))); goBuilds.err != nil {
				return
			}
		}
		goBuilds.env = append(os.Environ(),
			"GOPROXY=file://"+filepath.ToSlash(proxy),
			"GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GOWORK=off", "GOTOOLCHAIN=local",
			"GOMODCACHE="+filepath.Join(goBuilds.dir, "modcache"),
			"GOFLAGS=-mod=mod -modcacherw -buildvcs=false",
			"CGO_ENABLED=0",
		)
		goBuilds.out = map[string][]byte{}
	})
	if goBuilds.err != nil {
		t.Fatalf("set up fixtures: %v", goBuilds.err)
	}
	goBuilds.mu.Lock()
	defer goBuilds.mu.Unlock()
	if b, ok := goBuilds.out[name]; ok {
		return b
	}
	out := filepath.Join(goBuilds.dir, "bin", name)
	var cmd *exec.Cmd
	if len(args) > 0 && args[0] == "install" {
		cmd = exec.Command(gobin, args...)
		env = append(env, "GOBIN="+out)
	} else {
		cmd = exec.Command(gobin, append(append([]string{"build", "-o", out}, args...), ".")...)
		cmd.Dir = filepath.Join(goBuilds.dir, "hello")
	}
	cmd.Env = append(append([]string{}, goBuilds.env...), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	if len(args) > 0 && args[0] == "install" {
		ents, err := os.ReadDir(out)
		if err != nil || len(ents) != 1 {
			t.Fatalf("go install left %d files in %s: %v", len(ents), out, err)
		}
		out = filepath.Join(out, ents[0].Name())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	goBuilds.out[name] = b
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if goBuilds.dir != "" {
		os.RemoveAll(goBuilds.dir)
	}
	os.Exit(code)
}

// makeProxy lays out a GOPROXY file tree from directories named
// "<last path element>@<version>" under src, for modules example.com/seawall/*.
func makeProxy(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name, version, ok := strings.Cut(e.Name(), "@")
		if !ok {
			continue
		}
		mod := "example.com/seawall/" + name
		dir := filepath.Join(dst, filepath.FromSlash(mod), "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		gomod, err := os.ReadFile(filepath.Join(src, e.Name(), "go.mod"))
		if err != nil {
			return err
		}
		info, _ := json.Marshal(map[string]string{"Version": version, "Time": "2024-01-02T03:04:05Z"})
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		files, err := os.ReadDir(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, e.Name(), f.Name()))
			if err != nil {
				return err
			}
			w, err := zw.Create(mod + "@" + version + "/" + f.Name())
			if err != nil {
				return err
			}
			w.Write(b)
		}
		if err := zw.Close(); err != nil {
			return err
		}
		for file, b := range map[string][]byte{"list": []byte(version + "\n"), version + ".info": info, version + ".mod": gomod, version + ".zip": zb.Bytes()} {
			if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// toolchainStdlib is the stdlib version expected for binaries built by the
// go command on PATH, read from "go env GOVERSION" ("go1.26.8" → "1.26.8").
func toolchainStdlib(t *testing.T) (goVersion, stdlib string) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	goVersion = strings.TrimSpace(string(out))
	stdlib, _, _ = strings.Cut(strings.TrimPrefix(goVersion, "go"), " ")
	if strings.Count(stdlib, ".") != 2 || strings.ContainsAny(stdlib, "-+abcdefghijklmnopqrstuvwxyz") {
		t.Skipf("toolchain %q is not a plain release; the expected stdlib version would be guesswork", goVersion)
	}
	return goVersion, stdlib
}

func sortPkgs(p []inventory.Package) {
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
}

// TestBuiltBinaries builds real programs with the local toolchain, in
// every executable format and with the build options that change the
// binary's layout, and checks the exact packages found in each.
func TestBuiltBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	goVersion, stdlib := toolchainStdlib(t)

	// The hello fixture (testdata/hello/go.mod): a "(devel)" main module,
	// greet v1.2.3, old v1.0.0 replaced by new v1.1.0, and local replaced
	// by ../local (no version, so not reported).
	hello := func(goos, goarch, mode string, extra ...string) []inventory.Package {
		meta := func(kv ...string) map[string]string {
			m := map[string]string{"goVersion": goVersion, "mainModule": "example.com/seawall/hello", "GOOS": goos, "GOARCH": goarch, "-buildmode": mode}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		return []inventory.Package{
			{Type: inventory.TypeGolang, Name: "example.com/seawall/greet", Version: "v1.2.3", Metadata: meta()},
			{Type: inventory.TypeGolang, Name: "example.com/seawall/new", Version: "v1.1.0", Metadata: meta("replaces", "example.com/seawall/old@v1.0.0")},
			{Type: inventory.TypeGolang, Name: "stdlib", Version: stdlib, Metadata: meta()},
		}
	}
	appMeta := map[string]string{"goVersion": goVersion, "mainModule": "example.com/seawall/app", "GOOS": "linux", "GOARCH": "amd64", "-buildmode": "exe"}

	tests := []struct {
		name  string
		env   []string
		args  []string
		magic string
		want  []inventory.Package
	}{
		{name: "linux", env: []string{"GOOS=linux", "GOARCH=amd64"}, magic: "\x7fELF", want: hello("linux", "amd64", "exe")},
		{name: "linux trimpath", env: []string{"GOOS=linux", "GOARCH=amd64"}, args: []string{"-trimpath"}, magic: "\x7fELF", want: hello("linux", "amd64", "exe")},
		{name: "linux pie", env: []string{"GOOS=linux", "GOARCH=amd64"}, args: []string{"-buildmode=pie"}, magic: "\x7fELF", want: hello("linux", "amd64", "pie")},
		{name: "linux stripped", env: []string{"GOOS=linux", "GOARCH=amd64"}, args: []string{"-ldflags=-s -w"}, magic: "\x7fELF", want: hello("linux", "amd64", "exe")},
		{name: "windows", env: []string{"GOOS=windows", "GOARCH=amd64"}, args: []string{"-trimpath"}, magic: "MZ", want: hello("windows", "amd64", "exe")},
		{name: "darwin", env: []string{"GOOS=darwin", "GOARCH=arm64"}, args: []string{"-trimpath"}, magic: "\xcf\xfa\xed\xfe", want: hello("darwin", "arm64", "exe")},
		{
			name: "go install of a tagged version", env: []string{"GOOS=linux", "GOARCH=amd64"},
			args: []string{"install", "-trimpath", "example.com/seawall/app@v1.0.0"}, magic: "\x7fELF",
			want: []inventory.Package{
				{Type: inventory.TypeGolang, Name: "example.com/seawall/app", Version: "v1.0.0", Metadata: appMeta},
				{Type: inventory.TypeGolang, Name: "example.com/seawall/greet", Version: "v1.2.3", Metadata: appMeta},
				{Type: inventory.TypeGolang, Name: "stdlib", Version: stdlib, Metadata: appMeta},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := build(t, tt.name, tt.env, tt.args...)
			if !strings.HasPrefix(string(bin), tt.magic) {
				t.Fatalf("built binary starts %q, want %q", bin[:4], tt.magic)
			}
			got, err := New().Catalog(context.Background(), image.NewFile("/app/"+tt.name, 0o755, bin))
			if err != nil {
				t.Fatal(err)
			}
			sortPkgs(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoSectionTable checks the fallback for ELF files whose section
// table was removed (sstrip): the data segment is searched instead.
func TestNoSectionTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	bin := bytes.Clone(build(t, "linux", []string{"GOOS=linux", "GOARCH=amd64"}))
	// e_shoff (offset 40, 8 bytes), e_shnum (60) and e_shstrndx (62) of an ELF64 header.
	binary.LittleEndian.PutUint64(bin[40:], 0)
	binary.LittleEndian.PutUint16(bin[60:], 0)
	binary.LittleEndian.PutUint16(bin[62:], 0)
	if ef, err := elf.NewFile(bytes.NewReader(bin)); err != nil || len(ef.Sections) != 0 {
		t.Fatalf("fixture still has sections or does not parse: %v", err)
	}
	got, err := Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("got %d packages without a section table, want 3: %+v", len(got), got)
	}
}

// TestDamagedBuildInfo checks that a Go binary whose module information
// is corrupt gives an error rather than silently nothing.
func TestDamagedBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	bin := bytes.Clone(build(t, "linux", []string{"GOOS=linux", "GOARCH=amd64"}))
	// Break the column structure of a dependency line: "\th1:" becomes
	// four tabs. The linker keeps a second copy for runtime/debug; break both.
	line := []byte("\tv1.2.3\th1:")
	if bytes.Count(bin, line) == 0 {
		t.Fatal("module information not found in the fixture")
	}
	bin = bytes.ReplaceAll(bin, line, []byte("\tv1.2.3\t\t\t\t"))
	if _, err := Read(bytes.NewReader(bin)); err == nil {
		t.Error("want an error for damaged module information")
	}
}

// elfWithSection returns a minimal little-endian ELF64 executable whose
// one writable PT_LOAD segment holds data, described by a section named
// name (and a section-name table).
func elfWithSection(name string, data []byte) []byte {
	const dataOff = 128 // after the 64-byte header and one 56-byte program header
	vaddr := uint64(0x400000 + dataOff)
	shstr := "\x00" + name + "\x00.shstrtab\x00"
	shstrOff := dataOff + uint64(len(data))
	shOff := (shstrOff + uint64(len(shstr)) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, elf.Header64{
		Ident:   [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_EXEC),
		Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT), Entry: vaddr,
		Phoff: 64, Shoff: shOff, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64, Shnum: 3, Shstrndx: 2,
	})
	binary.Write(&b, le, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: dataOff,
		Vaddr: vaddr, Paddr: vaddr, Filesz: uint64(len(data)), Memsz: uint64(len(data)), Align: 16,
	})
	b.Write(make([]byte, dataOff-b.Len()))
	b.Write(data)
	b.WriteString(shstr)
	b.Write(make([]byte, int(shOff)-b.Len()))
	binary.Write(&b, le, elf.Section64{})
	binary.Write(&b, le, elf.Section64{
		Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC | elf.SHF_WRITE),
		Addr: vaddr, Off: dataOff, Size: uint64(len(data)), Addralign: 16,
	})
	binary.Write(&b, le, elf.Section64{
		Name: uint32(len(name) + 2), Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1,
	})
	return b.Bytes()
}

// buildInfoBlob encodes build information the way Go 1.18 and later
// lay it out: a 32-byte header, then the toolchain version and the
// module information (framed by 16-byte sentinels) as varint-prefixed strings.
func buildInfoBlob(goVersion, modinfo string) []byte {
	b := append([]byte("\xff Go buildinf:"), 8, 2) // pointer size, flags: inline strings, little endian
	b = append(b, make([]byte, 16)...)
	b = binary.AppendUvarint(b, uint64(len(goVersion)))
	b = append(b, goVersion...)
	framed := strings.Repeat("S", 16) + modinfo + strings.Repeat("E", 16)
	b = binary.AppendUvarint(b, uint64(len(framed)))
	return append(b, framed...)
}

const syntheticModinfo = "path\texample.com/x/cmd/x\n" +
	"mod\texample.com/x\tv0.3.0\th1:AAAA\n" +
	"dep\tgolang.org/x/text\tv0.14.0\th1:BBBB\n" +
	"dep\tgithub.com/a/b\tv1.0.0\n" +
	"=>\tgithub.com/fork/b\tv1.0.1-fork\th1:CCCC\n" +
	"dep\texample.com/y\tv0.0.0\n" +
	"=>\t../y\t(devel)\t\n" +
	"build\t-buildmode=exe\n" +
	"build\tGOARCH=arm64\n" +
	"build\tGOOS=linux\n" +
	"build\tvcs.revision=0123456789abcdef\n"

// TestSyntheticELF checks the parse of a hand-made ELF file whose build
// information is written out above, independent of the local toolchain.
func TestSyntheticELF(t *testing.T) {
	bin := elfWithSection(".go.buildinfo", buildInfoBlob("go1.21.4 X:boringcrypto", syntheticModinfo))
	meta := func(kv ...string) map[string]string {
		m := map[string]string{"goVersion": "go1.21.4 X:boringcrypto", "mainModule": "example.com/x", "GOOS": "linux", "GOARCH": "arm64", "-buildmode": "exe", "vcs.revision": "0123456789abcdef"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want := []inventory.Package{
		{Type: inventory.TypeGolang, Name: "example.com/x", Version: "v0.3.0", Metadata: meta()},
		{Type: inventory.TypeGolang, Name: "github.com/fork/b", Version: "v1.0.1-fork", Metadata: meta("replaces", "github.com/a/b@v1.0.0")},
		{Type: inventory.TypeGolang, Name: "golang.org/x/text", Version: "v0.14.0", Metadata: meta()},
		{Type: inventory.TypeGolang, Name: "stdlib", Version: "1.21.4", Metadata: meta()},
	}
	got, err := Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	sortPkgs(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

// TestNotGo checks that files that are not Go executables yield no
// packages and no error: the cataloger sees every executable.
func TestNotGo(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{name: "shell script", data: []byte("#!/bin/sh\necho hi\n")},
		{name: "empty", data: nil},
		{name: "short", data: []byte("\x7fE")},
		{name: "ELF header only", data: elfWithSection(".text", nil)[:64]},
		{name: "ELF without Go section", data: elfWithSection(".data", bytes.Repeat([]byte{1}, 4096))},
		{name: "ELF with a Go section but no magic", data: elfWithSection(".go.buildinfo", make([]byte, 64))},
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

// peeker wants every file the Go cataloger wants and only peeks at them,
// as another binary cataloger would; with it the engine shares each file.
type peeker struct{}

func (peeker) Name() string                          { return "peeker" }
func (peeker) Wants(p string, mode fs.FileMode) bool { return New().Wants(p, mode) }
func (peeker) Catalog(_ context.Context, f *image.File) ([]inventory.Package, error) {
	_, err := f.Peek(4)
	return nil, err
}

// TestThroughImage runs the engine over image layers, compressed and
// not, so the cataloger reads through Peek and a shared stream.
func TestThroughImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	_, stdlib := toolchainStdlib(t)
	bin := build(t, "linux", []string{"GOOS=linux", "GOARCH=amd64"})
	want := []string{"example.com/seawall/greet@v1.2.3", "example.com/seawall/new@v1.1.0", "stdlib@" + stdlib}
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "uncompressed", true: "gzip"}[gz], func(t *testing.T) {
			layer := imagetest.NewLayer(gz,
				imagetest.Exec("usr/local/bin/hello", string(bin)),
				imagetest.Exec("usr/local/bin/script", "#!/bin/sh\nexit 0\n"),
				imagetest.File("etc/hello.conf", string(bin)), // not executable: not read
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
				Catalogers: []catalog.Cataloger{New(), peeker{}},
				Walk:       image.WalkOptions{Temp: image.NewTempDir(t.TempDir())},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range inv.Packages {
				got = append(got, p.Name+"@"+p.Version)
				if len(p.Locations) != 1 || p.Locations[0].Path != "/usr/local/bin/hello" {
					t.Errorf("%s: locations %+v", p.Name, p.Locations)
				}
				if p.FoundBy != "gobinary" {
					t.Errorf("%s: found by %q", p.Name, p.FoundBy)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings: %v", inv.Warnings)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	good := elfWithSection(".go.buildinfo", buildInfoBlob("go1.22.1", syntheticModinfo))
	f.Add(good)
	for _, n := range []int{4, 64, 120, 150, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	f.Add(elfWithSection(".data", []byte("\xff Go buildinf:")))
	f.Add([]byte("MZ\x90\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x0c\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Version == "(devel)" {
				t.Errorf("package without a usable name or version: %+v", p)
			}
		}
	})
}

// BenchmarkRootfs catalogs a root filesystem, directory or tar(.gz),
// given by SEAWALL_BENCH_ROOTFS (default /usr/bin), with this cataloger
// alone; compare with -bench against an empty cataloger list to see its
// cost over the walk itself.
func BenchmarkRootfs(b *testing.B) {
	root := os.Getenv("SEAWALL_BENCH_ROOTFS")
	if root == "" {
		root = "/usr/bin"
	}
	if _, err := os.Stat(root); err != nil {
		b.Skipf("%s not present", root)
	}
	for _, set := range []struct {
		name string
		cats []catalog.Cataloger
	}{{"walk only", nil}, {"gobinary", []catalog.Cataloger{New()}}} {
		b.Run(set.name, func(b *testing.B) {
			pkgs := 0
			for b.Loop() {
				img, err := image.OpenRootfs(root)
				if err != nil {
					b.Fatal(err)
				}
				tmp := image.NewTempDir(b.TempDir())
				inv, err := catalog.Run(context.Background(), img, catalog.Options{Catalogers: set.cats, Walk: image.WalkOptions{Temp: tmp}})
				tmp.Close()
				if err != nil {
					b.Fatal(err)
				}
				pkgs = len(inv.Packages)
			}
			b.ReportMetric(float64(pkgs), "pkgs")
		})
	}
}
