package registry

import (
	"fmt"
	"strings"

	"github.com/seawall-dev/seawall/internal/blob"
)

// Limits from the distribution spec.
const (
	maxNameLen = 255 // clients limit host + "/" + name to 255
	maxTagLen  = 128
)

// endpoint is the kind of API a /v2/ path addresses.
type endpoint int

const (
	epBase      endpoint = iota // /v2/
	epCatalog                   // /v2/_catalog
	epTags                      // /v2/<name>/tags/list
	epManifest                  // /v2/<name>/manifests/<reference>
	epBlob                      // /v2/<name>/blobs/<digest>
	epUploads                   // /v2/<name>/blobs/uploads/
	epUpload                    // /v2/<name>/blobs/uploads/<id>
	epReferrers                 // /v2/<name>/referrers/<digest>
)

// target is a parsed /v2/ path. Name is a valid repository name for every
// endpoint except epBase and epCatalog; Ref is unvalidated.
type target struct {
	Endpoint endpoint
	Name     string
	Ref      string
}

// errNotFound is a path that is no registry endpoint.
var errNotFound = newError(404, CodeUnsupported, "no such registry endpoint")

// parsePath splits a /v2/ URL path into endpoint, repository and reference.
// Repository names may contain slashes, so the endpoint is recognised from
// the end of the path. It never touches the filesystem: names and
// references are only ever keys.
func parsePath(p string) (target, error) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		if p == "/v2" {
			return target{Endpoint: epBase}, nil
		}
		return target{}, errNotFound
	}
	switch rest {
	case "":
		return target{Endpoint: epBase}, nil
	case "_catalog":
		return target{Endpoint: epCatalog}, nil
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	var t target
	k := 0 // segments that form the name
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		t, k = target{Endpoint: epTags}, n-2
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		if segs[n-1] == "" {
			t = target{Endpoint: epUploads}
		} else {
			t = target{Endpoint: epUpload, Ref: segs[n-1]}
		}
		k = n - 3
	case n >= 3 && segs[n-2] == "blobs" && segs[n-1] == "uploads":
		t, k = target{Endpoint: epUploads}, n-2
	case n >= 3 && segs[n-2] == "manifests":
		t, k = target{Endpoint: epManifest, Ref: segs[n-1]}, n-2
	case n >= 3 && segs[n-2] == "blobs":
		t, k = target{Endpoint: epBlob, Ref: segs[n-1]}, n-2
	case n >= 3 && segs[n-2] == "referrers":
		t, k = target{Endpoint: epReferrers, Ref: segs[n-1]}, n-2
	default:
		return target{}, errNotFound
	}
	t.Name = strings.Join(segs[:k], "/")
	if err := validateName(t.Name); err != nil {
		return target{}, err
	}
	return t, nil
}

// validateName checks a repository name against the spec's grammar:
// components [a-z0-9]+ joined by ".", "_", "__" or runs of "-", separated
// by "/", at most 255 characters.
func validateName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return errorf(400, CodeNameInvalid, "invalid repository name: use 1 to %d characters", maxNameLen)
	}
	for _, comp := range strings.Split(name, "/") {
		if !validComponent(comp) {
			return errorf(400, CodeNameInvalid, "invalid repository name %q: each path component must be lowercase letters and digits, separated by '.', '_', '__' or '-'", truncate(name, 300))
		}
	}
	return nil
}

// ValidName reports whether name is a valid repository name.
func ValidName(name string) bool { return validateName(name) == nil }

func validComponent(c string) bool {
	if c == "" || !alnum(c[0]) || !alnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if alnum(c[i]) {
			i++
			continue
		}
		// a separator run: ".", "_", "__" or one or more "-"
		j := i
		for j < len(c) && !alnum(c[j]) {
			j++
		}
		switch sep := c[i:j]; {
		case sep == "." || sep == "_" || sep == "__":
		case strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j
	}
	return true
}

func alnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// ValidTag reports whether tag matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidTag(tag string) bool {
	if tag == "" || len(tag) > maxTagLen {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

// reference is a manifest reference: a tag or a digest, never both.
type reference struct {
	Tag    string
	Digest blob.Digest
}

func (r reference) String() string {
	if r.Tag != "" {
		return r.Tag
	}
	return string(r.Digest)
}

// parseReference reads a manifest reference. Anything with a colon is a
// digest (tags cannot contain one).
func parseReference(s string) (reference, error) {
	if strings.Contains(s, ":") {
		d, err := blob.ParseDigest(s)
		if err != nil {
			return reference{}, newError(400, CodeDigestInvalid, err.Error()).with(err)
		}
		return reference{Digest: d}, nil
	}
	if !ValidTag(s) {
		return reference{}, errorf(400, CodeManifestInvalid, "invalid tag %q: use up to %d letters, digits, '_', '.' and '-', not starting with '.' or '-'", truncate(s, 200), maxTagLen)
	}
	return reference{Tag: s}, nil
}

// parseDigest reads a digest from a URL path or query parameter.
func parseDigest(s string) (blob.Digest, error) {
	d, err := blob.ParseDigest(s)
	if err != nil {
		return "", newError(400, CodeDigestInvalid, err.Error()).with(err)
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ParseReference is parseReference for fuzzing and for other packages: it
// returns the tag or the digest of a manifest reference.
func ParseReference(s string) (tag string, digest string, err error) {
	r, err := parseReference(s)
	if err != nil {
		return "", "", fmt.Errorf("reference %q: %w", truncate(s, 200), err)
	}
	return r.Tag, string(r.Digest), nil
}
