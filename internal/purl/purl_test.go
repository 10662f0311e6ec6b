package purl

import (
	"testing"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestForLanguageTypes(t *testing.T) {
	tests := []struct {
		name string
		pkg  inventory.Package
		want string
	}{
		{
			name: "swift: host and owner are the namespace",
			pkg:  inventory.Package{Type: inventory.TypeSwift, Name: "github.com/apple/swift-nio", Version: "2.41.0"},
			want: "pkg:swift/github.com/apple/swift-nio@2.41.0",
		},
		{
			name: "swift: a nested group stays in the namespace",
			pkg:  inventory.Package{Type: inventory.TypeSwift, Name: "gitlab.com/group/sub/repo", Version: "1.0.0"},
			want: "pkg:swift/gitlab.com/group/sub/repo@1.0.0",
		},
		{
			name: "cocoapods: a pod",
			pkg:  inventory.Package{Type: inventory.TypeCocoapods, Name: "_NIODataStructures", Version: "2.41.0"},
			want: "pkg:cocoapods/_NIODataStructures@2.41.0",
		},
		{
			name: "cocoapods: a subspec is the subpath",
			pkg:  inventory.Package{Type: inventory.TypeCocoapods, Name: "GoogleUtilities/NSData+zlib", Version: "7.5.2"},
			// packageurl-go percent-encodes "+", as it does in versions.
			want: "pkg:cocoapods/GoogleUtilities@7.5.2#NSData%2Bzlib",
		},
		{
			name: "pub",
			pkg:  inventory.Package{Type: inventory.TypePub, Name: "http", Version: "0.13.2"},
			want: "pkg:pub/http@0.13.2",
		},
		{
			name: "hex: lower case",
			pkg:  inventory.Package{Type: inventory.TypeHex, Name: "Phoenix", Version: "1.6.13"},
			want: "pkg:hex/phoenix@1.6.13",
		},
		{
			name: "hex: an organisation is the namespace",
			pkg:  inventory.Package{Type: inventory.TypeHex, Namespace: "acme", Name: "secret_lib", Version: "0.1.0"},
			want: "pkg:hex/acme/secret_lib@0.1.0",
		},
		{
			name: "conan",
			pkg:  inventory.Package{Type: inventory.TypeConan, Name: "zlib", Version: "1.2.12"},
			want: "pkg:conan/zlib@1.2.12",
		},
		{
			name: "julia: the UUID is a qualifier",
			pkg: inventory.Package{Type: inventory.TypeJulia, Name: "JSON", Version: "0.21.4",
				Metadata: map[string]string{"uuid": "682c06a0-de6a-54ab-a142-c8b1cf79cde6"}},
			want: "pkg:julia/JSON@0.21.4?uuid=682c06a0-de6a-54ab-a142-c8b1cf79cde6",
		},
		{
			name: "julia without a UUID",
			pkg:  inventory.Package{Type: inventory.TypeJulia, Name: "JSON", Version: "0.21.4"},
			want: "pkg:julia/JSON@0.21.4",
		},
		{
			name: "conda",
			pkg:  inventory.Package{Type: inventory.TypeConda, Name: "openssl", Version: "1.1.1q"},
			want: "pkg:conda/openssl@1.1.1q",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := For(&tt.pkg, nil); got != tt.want {
				t.Errorf("For() = %q, want %q", got, tt.want)
			}
		})
	}
}
