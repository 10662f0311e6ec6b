package blob

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDigest(t *testing.T) {
	h64 := strings.Repeat("a", 64)
	h128 := strings.Repeat("0", 128)
	tests := []struct {
		name, in string
		want     error // nil: valid
	}{
		{"sha256", "sha256:" + h64, nil},
		{"sha512", "sha512:" + h128, nil},
		{"uppercase hex", "sha256:" + strings.ToUpper(h64), ErrInvalidDigest},
		{"short", "sha256:abc", ErrInvalidDigest},
		{"sha512 with 64 digits", "sha512:" + h64, ErrInvalidDigest},
		{"no colon", "sha256" + h64, ErrInvalidDigest},
		{"empty", "", ErrInvalidDigest},
		{"empty algorithm", ":" + h64, ErrInvalidDigest},
		{"unknown algorithm", "sha384:" + h64, ErrUnsupportedDigest},
		{"multihash style", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", ErrUnsupportedDigest},
		{"bad algorithm grammar", "sha256+:" + h64, ErrInvalidDigest},
		{"path traversal", "sha256:../../../etc/passwd", ErrInvalidDigest},
		{"bad digit", "sha256:" + h64[:63] + "g", ErrInvalidDigest},
		{"huge", "sha256:" + strings.Repeat("a", 10000), ErrInvalidDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDigest(tc.in)
			if tc.want == nil {
				if err != nil || string(d) != tc.in {
					t.Fatalf("ParseDigest = %q, %v", d, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseDigest = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestHashStateRoundTrip(t *testing.T) {
	for _, alg := range []string{SHA256, SHA512} {
		h, _ := NewHash(alg)
		h.Write([]byte("hello "))
		state, err := MarshalHash(h)
		if err != nil {
			t.Fatal(err)
		}
		r, err := RestoreHash(alg, state)
		if err != nil {
			t.Fatal(err)
		}
		r.Write([]byte("world"))
		want, _ := FromBytes(alg, []byte("hello world"))
		if got := Sum(alg, r); got != want {
			t.Errorf("%s: resumed hash %s, want %s", alg, got, want)
		}
		if _, err := RestoreHash(alg, []byte("garbage")); err == nil {
			t.Errorf("%s: restoring garbage state succeeded", alg)
		}
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("a", 64))
	f.Add("sha512:" + strings.Repeat("f", 128))
	f.Add("sha256:../x")
	f.Add("a+b.c_d-e:AZaz09=_-")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		if string(d) != s || !SupportedAlgorithm(d.Algorithm()) || len(d.Hex()) < 64 || strings.ContainsAny(d.Hex(), "/.\\") {
			t.Fatalf("ParseDigest(%q) accepted %q", s, d)
		}
	})
}
