package registry

import (
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/blob"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want target
		err  string // error code, "" for success
	}{
		{"/v2/", target{Endpoint: epBase}, ""},
		{"/v2/_catalog", target{Endpoint: epCatalog}, ""},
		{"/v2/a/tags/list", target{Endpoint: epTags, Name: "a"}, ""},
		{"/v2/team/app/manifests/latest", target{Endpoint: epManifest, Name: "team/app", Ref: "latest"}, ""},
		{"/v2/a/b/c/manifests/sha256:x", target{Endpoint: epManifest, Name: "a/b/c", Ref: "sha256:x"}, ""},
		{"/v2/a/blobs/uploads/", target{Endpoint: epUploads, Name: "a"}, ""},
		{"/v2/a/blobs/uploads", target{Endpoint: epUploads, Name: "a"}, ""},
		{"/v2/a/blobs/uploads/abc", target{Endpoint: epUpload, Name: "a", Ref: "abc"}, ""},
		{"/v2/a/blobs/sha256:x", target{Endpoint: epBlob, Name: "a", Ref: "sha256:x"}, ""},
		{"/v2/a/referrers/sha256:x", target{Endpoint: epReferrers, Name: "a", Ref: "sha256:x"}, ""},
		// Names may contain the endpoint words; the endpoint is read from the end.
		{"/v2/blobs/manifests/tags/list", target{Endpoint: epTags, Name: "blobs/manifests"}, ""},
		{"/v2/a/manifests/blobs/sha256:x", target{Endpoint: epBlob, Name: "a/manifests", Ref: "sha256:x"}, ""},
		{"/v2/a-b__c.d/e---f/tags/list", target{Endpoint: epTags, Name: "a-b__c.d/e---f"}, ""},
		{"/v2/tags/list", target{}, CodeUnsupported},
		{"/v2/a", target{}, CodeUnsupported},
		{"/v3/a/tags/list", target{}, CodeUnsupported},
		{"/v2/../a/tags/list", target{}, CodeNameInvalid},
		{"/v2/a/../b/tags/list", target{}, CodeNameInvalid},
		{"/v2/a//b/tags/list", target{}, CodeNameInvalid},
		{"/v2//a/tags/list", target{}, CodeNameInvalid},
		{"/v2/A/tags/list", target{}, CodeNameInvalid},
		{"/v2/a_/tags/list", target{}, CodeNameInvalid},
		{"/v2/a___b/tags/list", target{}, CodeNameInvalid},
		{"/v2/a.-b/tags/list", target{}, CodeNameInvalid},
		{"/v2/" + strings.Repeat("a", 256) + "/tags/list", target{}, CodeNameInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := parsePath(tc.path)
			if tc.err != "" {
				e, ok := err.(*Error)
				if !ok || e.Code != tc.err {
					t.Fatalf("parsePath = %+v, %v; want error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parsePath = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"latest": true, "v1.2.3": true, "_x": true, "A-Z_0.9": true,
		"sha256-" + strings.Repeat("a", 64): true,
		strings.Repeat("a", 128):            true,
		strings.Repeat("a", 129):            false,
		"":                                  false, ".x": false, "-x": false, "a:b": false, "a/b": false, "ä": false,
	} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v", tag, got)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for in, want := range map[string][2]int64{
		"0-0": {0, 0}, "0-1023": {0, 1023}, "bytes 5-9/10": {5, 9}, "bytes=5-9": {5, 9}, " 7-8 ": {7, 8},
	} {
		s, e, ok := parseContentRange(in)
		if !ok || s != want[0] || e != want[1] {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", in, s, e, ok)
		}
	}
	for _, in := range []string{"", "-", "5", "5-", "-5", "a-b", "9-5", "+1-2", "1-+2", "0x1-2", "99999999999999999999-1"} {
		if _, _, ok := parseContentRange(in); ok {
			t.Errorf("parseContentRange(%q) accepted", in)
		}
	}
}

func TestParseManifest(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	tests := []struct {
		name, ct, body string
		wantErr        bool
		wantType       string
		wantBlobs      int
		wantArtifact   string
	}{
		{"oci manifest", "", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + d1 + `","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d2 + `","size":2}]}`, false, MediaTypeOCIManifest, 2, "application/vnd.oci.image.config.v1+json"},
		{"media type from content type", MediaTypeDockerManifest + "; charset=utf-8", `{"schemaVersion":2,"config":{"mediaType":"x","digest":"` + d1 + `","size":1},"layers":[]}`, false, MediaTypeDockerManifest, 1, "x"},
		{"shape decides without either", "", `{"schemaVersion":2,"manifests":[]}`, false, MediaTypeOCIIndex, 0, ""},
		{"non-distributable layer", "", `{"schemaVersion":2,"config":{"mediaType":"x","digest":"` + d1 + `","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"` + d2 + `","size":2,"urls":["https://x"]}]}`, false, MediaTypeOCIManifest, 1, "x"},
		{"artifactType wins", "", `{"schemaVersion":2,"artifactType":"a/b","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + d1 + `","size":2}}`, false, MediaTypeOCIManifest, 1, "a/b"},
		{"data field", "", `{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}}`, false, MediaTypeOCIManifest, 1, "x"},
		{"data mismatch", "", `{"schemaVersion":2,"config":{"mediaType":"x","digest":"` + d1 + `","size":2,"data":"e30="}}`, true, "", 0, ""},
		{"not json", "", `{`, true, "", 0, ""},
		{"trailing data", "", `{"schemaVersion":2,"manifests":[]} {}`, true, "", 0, ""},
		{"array", "", `[]`, true, "", 0, ""},
		{"null", "", `null`, true, "", 0, ""},
		{"schema 1", "", `{"schemaVersion":1}`, true, "", 0, ""},
		{"no config", "", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`, true, "", 0, ""},
		{"index with layers", "", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}`, true, "", 0, ""},
		{"negative size", "", `{"schemaVersion":2,"config":{"mediaType":"x","digest":"` + d1 + `","size":-1}}`, true, "", 0, ""},
		{"bad subject", "", `{"schemaVersion":2,"manifests":[],"subject":{"digest":"nope"}}`, true, "", 0, ""},
		{"mismatched content type", MediaTypeOCIIndex, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + d1 + `","size":1}}`, true, "", 0, ""},
		{"unknown type", "application/json", `{"schemaVersion":2}`, true, "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest(tc.ct, []byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseManifest accepted: %+v", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tc.wantType || len(m.Blobs) != tc.wantBlobs || m.ArtifactType != tc.wantArtifact {
				t.Errorf("ParseManifest = %+v", m)
			}
		})
	}
}

// Fuzz targets for the parsers of untrusted input. Seeds are added here
// and in testdata/fuzz; run one with e.g.
// go test ./internal/registry -run '^$' -fuzz FuzzParseManifest -fuzztime 1m

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/_catalog", "/v2/a/b/manifests/x", "/v2/a/blobs/uploads/", "/v2/../x/tags/list", "/v2/a/blobs/uploads/id", "/v2/a//b/referrers/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, err := parsePath(p)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("parsePath(%q) returned a non-registry error %v", p, err)
			}
			return
		}
		switch tg.Endpoint {
		case epBase, epCatalog:
			return
		}
		if !ValidName(tg.Name) {
			t.Fatalf("parsePath(%q) gave invalid name %q", p, tg.Name)
		}
		for _, c := range strings.Split(tg.Name, "/") {
			if c == "" || c == "." || c == ".." {
				t.Fatalf("parsePath(%q) gave name %q with component %q", p, tg.Name, c)
			}
		}
		if strings.Contains(tg.Ref, "/") {
			t.Fatalf("parsePath(%q) gave reference %q with a slash", p, tg.Ref)
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"latest", "sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("b", 128), "sha256-abc", "..", "a:b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseReference(s)
		if err != nil {
			return
		}
		if (r.Tag == "") == (r.Digest == "") {
			t.Fatalf("parseReference(%q) = %+v: want exactly one of tag and digest", s, r)
		}
		if r.Tag != "" && (!ValidTag(r.Tag) || r.Tag != s) {
			t.Fatalf("parseReference(%q) accepted tag %q", s, r.Tag)
		}
		if r.Digest != "" {
			if _, err := blob.ParseDigest(string(r.Digest)); err != nil {
				t.Fatalf("parseReference(%q) accepted digest %q", s, r.Digest)
			}
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"0-0", "5-9", "bytes 0-1/2", "9-5", "-", "1-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok := parseContentRange(s)
		if ok && (start < 0 || end < start) {
			t.Fatalf("parseContentRange(%q) = %d-%d", s, start, end)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	d := "sha256:" + strings.Repeat("1", 64)
	f.Add("", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"`+d+`","size":1},"layers":[{"digest":"`+d+`","size":1}]}`)
	f.Add(MediaTypeDockerList, `{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"`+d+`","size":1,"platform":{"os":"linux"}}]}`)
	f.Add(MediaTypeOCIIndex, `{"schemaVersion":2,"manifests":[],"subject":{"digest":"`+d+`","size":1},"annotations":{"a":"b"}}`)
	f.Add("", `{"schemaVersion":2,"config":{"digest":"`+d+`","size":1,"data":"AA=="}}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		m, err := ParseManifest(ct, []byte(body))
		if err != nil {
			return
		}
		if !manifestTypes[m.MediaType] {
			t.Fatalf("accepted media type %q", m.MediaType)
		}
		for _, d := range append(append([]blob.Digest{}, m.Blobs...), m.Manifests...) {
			if _, err := blob.ParseDigest(string(d)); err != nil {
				t.Fatalf("accepted reference %q", d)
			}
		}
		if m.Subject != "" {
			if _, err := blob.ParseDigest(string(m.Subject)); err != nil {
				t.Fatalf("accepted subject %q", m.Subject)
			}
		}
		if strings.ContainsRune(m.ArtifactType, 0) {
			t.Fatal("accepted a NUL in artifactType")
		}
	})
}
