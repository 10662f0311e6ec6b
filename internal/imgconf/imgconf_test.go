package imgconf

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/list"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

type got struct {
	ID, Path string
	Line     int
	Layer    int
	Snippet  string
}

func summarize(fs []inventory.Finding) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.ID, f.Location.Path, f.Line, f.Location.LayerIndex, f.Snippet})
	}
	return out
}

func TestConfigChecks(t *testing.T) {
	img := &image.Image{
		Layers: []*image.Layer{{Index: 0, Digest: "sha256:l0", DiffID: "sha256:d0"}, {Index: 1, Digest: "sha256:l1", DiffID: "sha256:d1"}},
		Config: &v1.ConfigFile{
			OS: "linux",
			Config: v1.Config{
				User:         "0:0",
				Env:          []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2", "API_KEY=", "PASSWORD_FILE=/run/secrets/p", "NO_EQUALS"},
				ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}, "2375/tcp": {}, "5900-5901/tcp": {}},
				Labels:       map[string]string{"org.opencontainers.image.base.name": "docker.io/library/debian:latest"},
			},
			History: []v1.History{
				{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
				{CreatedBy: "ARG NPM_TOKEN", EmptyLayer: true},
				{CreatedBy: "RUN |2 NPM_TOKEN=npm_secret VERSION=1 /bin/sh -c npm ci # buildkit"},
				{CreatedBy: "ADD https://user:pw@example.com/tool.tgz /opt/ # buildkit", EmptyLayer: true},
				{CreatedBy: "ADD --checksum=sha256:abcd https://example.com/ok.tgz /opt/ # buildkit", EmptyLayer: true},
			},
		},
	}
	fs, err := New().ScanImage(context.Background(), img, &inventory.Inventory{})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{IDSecretEnv, "image config: ENV DB_PASSWORD", 0, -1, "ENV DB_PASSWORD=****"},
		{IDSensitivePort, "image config: EXPOSE 22/tcp", 0, -1, "EXPOSE 22/tcp (port 22)"},
		{IDSensitivePort, "image config: EXPOSE 2375/tcp", 0, -1, "EXPOSE 2375/tcp (port 2375)"},
		{IDSensitivePort, "image config: EXPOSE 5900-5901/tcp", 0, -1, "EXPOSE 5900-5901/tcp (port 5900)"},
		{IDSensitivePort, "image config: EXPOSE 5900-5901/tcp", 0, -1, "EXPOSE 5900-5901/tcp (port 5901)"},
		{IDNoHealthcheck, "image config: HEALTHCHECK", 0, -1, "Healthcheck: (none)"},
		{IDLatestBase, "image config: LABEL org.opencontainers.image.base.name", 0, -1, "org.opencontainers.image.base.name=docker.io/library/debian:latest"},
		{IDRootUser, "image config: USER", 0, -1, "User: 0:0"},
		{IDSecretEnv, "image history: step 3", 0, 1, "ARG NPM_TOKEN=****"},
		{IDAddURL, "image history: step 4", 0, -1, "ADD https://****@example.com/tool.tgz"},
	}
	if diff := cmp.Diff(want, summarize(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		for _, secret := range []string{"hunter2", "npm_secret", ":pw@"} {
			if strings.Contains(f.Details+f.Snippet+f.Title, secret) {
				t.Errorf("%s shows a secret: %q %q", f.ID, f.Details, f.Snippet)
			}
		}
		if f.Kind != inventory.KindMisconfiguration || f.Remediation == "" {
			t.Errorf("%s: kind %q, remediation %q", f.ID, f.Kind, f.Remediation)
		}
	}
	if fs[7].Controls[0] != "CIS Docker 4.1" || fs[0].Controls[0] != "CIS Docker 4.10" {
		t.Errorf("controls %v %v", fs[7].Controls, fs[0].Controls)
	}
	if fs[2].Severity != inventory.SeverityHigh {
		t.Errorf("port 2375: severity %s, want HIGH", fs[2].Severity)
	}
}

func TestConfigGood(t *testing.T) {
	img := &image.Image{Config: &v1.ConfigFile{OS: "linux", Config: v1.Config{
		User:         "10001",
		Env:          []string{"PATH=/usr/bin"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels:       map[string]string{"org.opencontainers.image.base.name": "docker.io/library/debian:12.6@sha256:abc"},
		Healthcheck:  &v1.HealthConfig{Test: []string{"NONE"}},
	}}}
	fs, err := New().ScanImage(context.Background(), img, nil)
	if err != nil || len(fs) != 0 {
		t.Errorf("findings %v, err %v; want none", summarize(fs), err)
	}
}

func TestPackages(t *testing.T) {
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "sudo", Version: "1.9.13p3-1", Type: inventory.TypeDeb, Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerIndex: 2}}},
		{Name: "openssh-server", Version: "1:9.2p1-2", Type: inventory.TypeDeb},
		{Name: "dropbear", Version: "2022.83-r4", Type: inventory.TypeAPK},
		{Name: "sudo", Version: "0.1.0", Type: inventory.TypeNPM},
		{Name: "openssh-client", Version: "1:9.2p1-2", Type: inventory.TypeDeb},
	}}
	fs, err := New().ScanImage(context.Background(), &image.Image{}, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{IDRiskyPackage, "", 0, 0, "openssh-server 1:9.2p1-2"},
		{IDRiskyPackage, "", 0, 0, "dropbear 2022.83-r4"},
		{IDRiskyPackage, "/var/lib/dpkg/status", 0, 2, "sudo 1.9.13p3-1"},
	}
	if diff := cmp.Diff(want, summarize(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func entry(name string, typ byte, mode int64) imagetest.Entry {
	e := imagetest.Entry{Name: name, Type: typ, Mode: mode}
	if typ == tar.TypeReg {
		e.Body = "x"
	}
	return e
}

// scan builds an image from layers and runs the scanner on it.
func scan(t *testing.T, layers ...imagetest.Layer) (*image.Image, []inventory.Finding) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := imagetest.DockerArchive(p, "t:1", layers); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tmp := image.NewTempDir(t.TempDir())
	t.Cleanup(func() { tmp.Close() })
	img, err := image.Open(ctx, p, image.Options{Temp: tmp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	s := New()
	res, err := catalog.Scan(ctx, img, catalog.Options{FileScanners: []catalog.FileScanner{s}, ImageScanners: []catalog.ImageScanner{s}, Walk: image.WalkOptions{Temp: tmp}})
	if err != nil {
		t.Fatal(err)
	}
	var files []inventory.Finding
	for _, f := range res.Findings {
		if !strings.HasPrefix(f.Location.Path, PathConfig) && !strings.HasPrefix(f.Location.Path, PathHistory) {
			files = append(files, f)
		}
	}
	return img, files
}

func TestFileModes(t *testing.T) {
	_, fs := scan(t, imagetest.NewLayer(true,
		entry("usr/bin/passwd", tar.TypeReg, 0o4755),
		entry("usr/bin/chage", tar.TypeReg, 0o2755),
		entry("usr/lib/x86_64-linux-gnu/utempter/utempter", tar.TypeReg, 0o2711),
		entry("usr/local/bin/backdoor", tar.TypeReg, 0o4755),
		entry("usr/bin/wall", tar.TypeReg, 0o2755),
		entry("opt/tool/both", tar.TypeReg, 0o6750),
		entry("etc/app.conf", tar.TypeReg, 0o666),
		entry("etc/ok.conf", tar.TypeReg, 0o644),
		entry("opt/data", tar.TypeDir, 0o777),
		entry("opt/shared", tar.TypeDir, 0o1777),
		entry("tmp", tar.TypeDir, 0o1777),
		entry("var/tmp", tar.TypeDir, 0o777),
		entry("home/app/notes", tar.TypeReg, 0o666),
		imagetest.Symlink("usr/bin/link", "/usr/bin/passwd"),
	))
	want := []got{
		{IDWorldWritable, "/etc/app.conf", 0, 0, "-rw-rw-rw- /etc/app.conf"},
		{IDWorldWritable, "/opt/data", 0, 0, "drwxrwxrwx /opt/data"},
		{IDSetID, "/opt/tool/both", 0, 0, "-rwsr-s--- /opt/tool/both"},
		{IDSetID, "/usr/bin/wall", 0, 0, "-rwxr-sr-x /usr/bin/wall"},
		{IDSetID, "/usr/local/bin/backdoor", 0, 0, "-rwsr-xr-x /usr/local/bin/backdoor"},
	}
	if diff := cmp.Diff(want, summarize(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestCaches checks that caches are reported in the layer that added
// them, even when a later layer deletes them: the bytes stay in the image.
func TestCaches(t *testing.T) {
	img, fs := scan(t,
		imagetest.NewLayer(true, imagetest.File("etc/os-release", "ID=debian\n"), imagetest.File("var/lib/apt/lists/lock", "")),
		imagetest.NewLayer(true,
			imagetest.File("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", strings.Repeat("p", 3000)),
			imagetest.File("var/lib/apt/lists/partial/x", "y"),
			imagetest.File("var/cache/apt/archives/curl_7.88.1_amd64.deb", strings.Repeat("d", 2048)),
			imagetest.File("var/cache/apt/archives/lock", ""),
			imagetest.File("root/.cache/pip/http/ab/cd", "wheel"),
		),
		imagetest.NewLayer(true,
			imagetest.Whiteout("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"),
			imagetest.File("home/app/.npm/_cacache/index-v5/aa", "i"),
		),
	)
	want := []got{
		{IDPackageCache, "/root/.cache/pip", 0, 1, "~/.cache/pip: 1 file, 5 bytes"},
		{IDPackageCache, "/root/.npm/_cacache", 0, 2, "~/.npm/_cacache: 1 file, 1 bytes"},
		{IDPackageCache, "/var/cache/apt/archives", 0, 1, "/var/cache/apt/archives: 1 file, 2.0 KiB"},
		{IDPackageCache, "/var/lib/apt/lists", 0, 1, "/var/lib/apt/lists: 2 files, 2.9 KiB"},
	}
	if diff := cmp.Diff(want, summarize(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		if f.Location.LayerDiffID != img.Layers[f.Location.LayerIndex].DiffID {
			t.Errorf("%s: layer digest %s", f.Location.Path, f.Location.LayerDiffID)
		}
	}
}

func TestSensitivePorts(t *testing.T) {
	for spec, want := range map[string]string{
		"22": "22", "22/tcp": "22", "23/udp": "23", "8080": "", "5899-5901": "5900 5901", "0-65535": "21 22 23 69 111 135 139 445 512 513 514 2375 2376 3389 5800 5900 5901 5985 5986 6000 10250",
		"x": "", "22-": "", "-1": "", "70000": "", "30-20": "",
	} {
		var got []string
		for _, p := range SensitivePorts(spec) {
			got = append(got, fmt.Sprint(p.Number))
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("SensitivePorts(%q) = %q, want %q", spec, g, want)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "GITHUB_TOKEN": true, "api_key": true, "AWS_SECRET_ACCESS_KEY": true, "AUTH": true, "APIKEY": true,
		"PASSWORD_FILE": false, "PUBLIC_KEY": false, "KEY_VERSION": false, "KEYCLOAK_URL": false, "TOKENIZER": false, "PATH": false, "MONKEY": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestDebianRootfs scans a real Debian root filesystem: its set-ID
// programs are all on the allowlist, it has no world-writable system
// files, no caches and neither sudo nor sshd, so nothing is reported.
func TestDebianRootfs(t *testing.T) {
	var srcs []string
	for _, p := range []string{
		filepath.Join("..", "..", "..", "shared", "data", "images", "debian-bookworm-minbase.rootfs.tar.gz"),
		filepath.Join(os.Getenv("HOME"), ".cache", "seawall-ci", "bookworm-minbase.tar.gz"),
	} {
		if _, err := os.Stat(p); err == nil {
			srcs = append(srcs, p)
		}
	}
	if len(srcs) == 0 {
		t.Skip("no Debian rootfs: neither ../shared/data nor .ci/run's cache is present")
	}
	for _, src := range srcs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			ctx := context.Background()
			tmp := image.NewTempDir(t.TempDir())
			defer tmp.Close()
			img, err := image.OpenRootfs(src)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			s := New()
			res, err := catalog.Scan(ctx, img, catalog.Options{Catalogers: list.All(), FileScanners: []catalog.FileScanner{s}, ImageScanners: []catalog.ImageScanner{s}, Walk: image.WalkOptions{Temp: tmp}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Inventory.Packages) < 80 {
				t.Errorf("only %d packages", len(res.Inventory.Packages))
			}
			if len(res.Findings) != 0 {
				t.Errorf("findings on a clean Debian rootfs: %v", summarize(res.Findings))
			}
		})
	}
}

func TestChecksListed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "SW-IMG-") || c.Title == "" || c.Description == "" || c.Remediation == "" {
			t.Errorf("check %+v: duplicate or incomplete", c)
		}
		seen[c.ID] = true
	}
}

// FuzzConfig feeds hostile config values and history lines to the config
// checks: they must not panic, and never echo a value.
func FuzzConfig(f *testing.F) {
	f.Add("RUN |2 TOKEN=abc X=1 /bin/sh -c x", "DB_PASSWORD=s3cret", "22-30/tcp", "ubuntu")
	f.Add("|99999999999999999999 A=b", "=", "-", "a@b:latest")
	f.Add("ADD --checksum https://u:p@h/x y", "X", "65535/udp", "")
	f.Fuzz(func(t *testing.T, createdBy, env, port, base string) {
		img := &image.Image{Config: &v1.ConfigFile{Config: v1.Config{
			Env: []string{env}, ExposedPorts: map[string]struct{}{port: {}},
			Labels: map[string]string{"org.opencontainers.image.base.name": base},
		}, History: []v1.History{{CreatedBy: createdBy}}}}
		fs, err := New().ScanImage(context.Background(), img, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fs {
			if fd.ID == IDSecretEnv && strings.Contains(fd.Snippet, "=") && !strings.HasSuffix(fd.Snippet, "=****") {
				t.Fatalf("snippet shows a value: %q", fd.Snippet)
			}
		}
	})
}
