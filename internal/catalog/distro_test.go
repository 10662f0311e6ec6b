package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestDetectDistro(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *inventory.Distro
	}{
		{
			name: "debian os-release in /usr/lib",
			files: map[string]string{
				"/usr/lib/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
				"/etc/debian_version": "12.15\n",
			},
			want: &inventory.Distro{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", Source: "/usr/lib/os-release"},
		},
		{
			name:  "alpine",
			files: map[string]string{"/etc/os-release": "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"},
			want:  &inventory.Distro{ID: "alpine", VersionID: "3.19.1", Name: "Alpine Linux", PrettyName: "Alpine Linux v3.19", Source: "/etc/os-release"},
		},
		{
			name:  "rocky with ID_LIKE",
			files: map[string]string{"/etc/os-release": "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n"},
			want:  &inventory.Distro{ID: "rocky", VersionID: "9.3", Name: "Rocky Linux", IDLike: []string{"rhel", "centos", "fedora"}, Source: "/etc/os-release"},
		},
		{
			name:  "distroless",
			files: map[string]string{"/etc/os-release": "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n"},
			want:  &inventory.Distro{ID: "debian", VersionID: "12", Name: "Debian GNU/Linux", PrettyName: "Distroless", Distroless: true, Source: "/etc/os-release"},
		},
		{
			name:  "debian sid without VERSION_ID",
			files: map[string]string{"/etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n", "/etc/debian_version": "trixie/sid\n"},
			want:  &inventory.Distro{ID: "debian", Codename: "trixie", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux trixie/sid", Source: "/etc/os-release"},
		},
		{
			name:  "alpine-release only",
			files: map[string]string{"/etc/alpine-release": "3.11.6\n"},
			want:  &inventory.Distro{ID: "alpine", VersionID: "3.11.6", Name: "Alpine Linux", Source: "/etc/alpine-release"},
		},
		{
			name:  "centos 7 redhat-release",
			files: map[string]string{"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n"},
			want:  &inventory.Distro{ID: "centos", VersionID: "7.9.2009", Name: "CentOS Linux", PrettyName: "CentOS Linux release 7.9.2009 (Core)", Source: "/etc/redhat-release"},
		},
		{
			name:  "rhel 8 redhat-release",
			files: map[string]string{"/etc/redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n"},
			want:  &inventory.Distro{ID: "rhel", VersionID: "8.9", Name: "Red Hat Enterprise Linux", PrettyName: "Red Hat Enterprise Linux release 8.9 (Ootpa)", Source: "/etc/redhat-release"},
		},
		{
			name:  "debian_version only",
			files: map[string]string{"/etc/debian_version": "10.13\n"},
			want:  &inventory.Distro{ID: "debian", VersionID: "10", Name: "Debian GNU/Linux", Source: "/etc/debian_version"},
		},
		{
			name:  "nothing",
			files: map[string]string{},
			want:  nil,
		},
		{
			name:  "garbage os-release falls back",
			files: map[string]string{"/etc/os-release": "\x00\x01garbage", "/etc/alpine-release": "3.18.0"},
			want:  &inventory.Distro{ID: "alpine", VersionID: "3.18.0", Name: "Alpine Linux", Source: "/etc/alpine-release"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rs []releaseFile
			for p, b := range tc.files {
				rs = append(rs, releaseFile{0, 1, p, []byte(b)})
			}
			got := detectDistro([][]releaseFile{rs}, &image.View{})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
