package rxtest

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"gopkg.in/yaml.v3"
)

// CRSPayloads returns the distinct request strings of the Core Rule Set
// regression tests shipped in the coraza-coreruleset module: each stage's
// URI, body and header values, and the raw bytes of encoded requests, as
// sent and URL-decoded, with query and form bodies also split into their
// names and values. They are real attack payloads (and the benign strings
// the tests send), which is what the @rx prefilter has to get right. The
// result is sorted, so that a sample of it is deterministic.
func CRSPayloads() ([]string, error) {
	set := map[string]bool{}
	err := fs.WalkDir(crstests.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := fs.ReadFile(crstests.FS, p)
		if err != nil {
			return fmt.Errorf("reading CRS test %s: %w", p, err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("parsing CRS test %s: %w", p, err)
		}
		collectInputs(doc, func(s string) { addPayload(set, s) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// collectInputs walks a decoded test file and calls add with every string
// under a stage's "input": uri, data, header values and encoded_request.
func collectInputs(v any, add func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == "input" {
				if in, ok := sub.(map[string]any); ok {
					inputStrings(in, add)
				}
				continue
			}
			collectInputs(sub, add)
		}
	case []any:
		for _, sub := range v {
			collectInputs(sub, add)
		}
	}
}

func inputStrings(in map[string]any, add func(string)) {
	for _, k := range []string{"uri", "data"} {
		switch s := in[k].(type) {
		case string:
			add(s)
		case []any:
			// Older tests give the body as a list of lines.
			var lines []string
			for _, l := range s {
				if ls, ok := l.(string); ok {
					lines = append(lines, ls)
				}
			}
			add(strings.Join(lines, "\r\n"))
		}
	}
	if h, ok := in["headers"].(map[string]any); ok {
		for _, v := range h {
			if s, ok := v.(string); ok {
				add(s)
			}
		}
	}
	if e, ok := in["encoded_request"].(string); ok {
		if raw, err := base64.StdEncoding.DecodeString(e); err == nil {
			add(string(raw))
		}
	}
}

// addPayload adds s, its URL-decoded form, and the names and values of
// the query or form it carries, raw and decoded.
func addPayload(set map[string]bool, s string) {
	if s == "" {
		return
	}
	set[s] = true
	if d, err := url.QueryUnescape(s); err == nil {
		set[d] = true
	} else if d, err := url.PathUnescape(s); err == nil {
		set[d] = true
	}
	query := s
	if _, q, ok := strings.Cut(s, "?"); ok {
		query = q
	}
	for _, pair := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		for _, part := range []string{k, v} {
			if part == "" {
				continue
			}
			set[part] = true
			if d, err := url.QueryUnescape(part); err == nil {
				set[d] = true
			}
		}
	}
}
