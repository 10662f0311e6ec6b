package registry_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// The OCI distribution-spec conformance suite is a standalone program
// (module github.com/opencontainers/distribution-spec/conformance). .ci/run
// builds it into $HOME/.cache/seawall-ci/bin/conformance; set
// SEAWALL_OCI_CONFORMANCE to use another build. Without it the test skips.
// SEAWALL_OCI_RESULTS keeps the reports (junit.xml, report.html,
// results.yaml) in that directory instead of a temporary one.

func conformanceBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SEAWALL_OCI_CONFORMANCE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SEAWALL_OCI_CONFORMANCE=%s: %v", p, err)
		}
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "seawall-ci", "bin", "conformance")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("OCI conformance program not built (%s); .ci/run builds it, or set SEAWALL_OCI_CONFORMANCE", p)
	}
	return p
}

func TestOCIConformance(t *testing.T) {
	bin := conformanceBinary(t)
	if testing.Short() {
		t.Skip("the conformance suite takes a while; not in -short")
	}
	t.Run("open", func(t *testing.T) {
		e := newEnv(t, envOptions{projects: []string{"conformance"}})
		runConformance(t, bin, e, "", "")
	})
	t.Run("basic-auth", func(t *testing.T) {
		auth := &testsupport.ScriptedAuth{
			Users: map[string]string{"ci": "s3cret"},
			Grants: map[string][]testsupport.Grant{"ci": {
				{Repo: "", Actions: []string{registry.ActionCatalog}},
				{Repo: "*", Actions: []string{registry.ActionPull, registry.ActionPush, registry.ActionDelete, registry.ActionList}},
			}},
		}
		e := newEnv(t, envOptions{projects: []string{"conformance"}, auth: auth})
		runConformance(t, bin, e, "ci", "s3cret")
	})
}

type junitSuites struct {
	Suites []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Status    string `xml:"status,attr"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func runConformance(t *testing.T, bin string, e *env, user, pass string) {
	results := t.TempDir()
	if dir := os.Getenv("SEAWALL_OCI_RESULTS"); dir != "" {
		results = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir() // no stray oci-conformance.yaml
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+e.host,
		"OCI_TLS=disabled",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_USERNAME="+user,
		"OCI_PASSWORD="+pass,
		"OCI_RESULTS_DIR="+results,
		"OCI_LOG=error",
		// Every API category, including what "stable" leaves off: upload
		// cancel, required Docker-Content-Digest headers and ?tag=
		// parameters on manifest pushes.
		"OCI_VERSION=1.1+dev",
		"OCI_API_PULL=true",
		"OCI_API_PUSH=true",
		"OCI_API_BLOBS_ATOMIC=true",
		"OCI_API_BLOBS_DELETE=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_BLOBS_MOUNT_ANONYMOUS=true",
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_API_MANIFESTS_ATOMIC=true",
		"OCI_API_MANIFESTS_DELETE=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_API_TAGS_ATOMIC=true",
		"OCI_API_TAGS_DELETE=true",
		"OCI_API_TAGS_LIST=true",
		"OCI_API_REFERRER=true",
		// Every data shape but "sparse": manifests naming blobs that were
		// never pushed, which Seawall refuses (MANIFEST_BLOB_UNKNOWN) by
		// design.
		"OCI_DATA_IMAGE=true",
		"OCI_DATA_INDEX=true",
		"OCI_DATA_INDEX_LIST=true",
		"OCI_DATA_SPARSE=false",
		"OCI_DATA_ARTIFACT=true",
		"OCI_DATA_SUBJECT=true",
		"OCI_DATA_SUBJECT_MISSING=true",
		"OCI_DATA_ARTIFACT_LIST=true",
		"OCI_DATA_SUBJECT_LIST=true",
		"OCI_DATA_DATA_FIELD=true",
		"OCI_DATA_NONDISTRIBUTABLE=true",
		"OCI_DATA_CUSTOM_FIELDS=true",
		"OCI_DATA_NO_LAYERS=true",
		"OCI_DATA_EMPTY_BLOB=true",
		"OCI_DATA_SHA512=true",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()

	raw, err := os.ReadFile(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("conformance run wrote no junit.xml (%v): %v\n%s", runErr, err, tail(out.String(), 4000))
	}
	var ju junitSuites
	if err := xml.Unmarshal(raw, &ju); err != nil {
		t.Fatalf("parse junit.xml: %v", err)
	}
	// A skip means the suite found a feature missing: that fails too.
	counts := map[string]int{}
	var failed []string
	for _, s := range ju.Suites {
		for _, c := range s.Cases {
			counts[c.Status]++
			if c.Status == "failure" || c.Status == "error" || c.Status == "skipped" {
				failed = append(failed, fmt.Sprintf("%s [%s]: %s", c.Name, c.Status, tail(strings.TrimSpace(c.SystemOut), 600)))
			}
		}
	}
	keys := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		keys = append(keys, fmt.Sprintf("%s=%d", k, n))
		total += n
	}
	sort.Strings(keys)
	t.Logf("OCI conformance: %d tests: %s (reports in %s)", total, strings.Join(keys, " "), results)
	if total == 0 {
		t.Fatalf("conformance ran no tests:\n%s", tail(out.String(), 4000))
	}
	if len(failed) > 0 {
		t.Errorf("%d conformance tests failed:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	if runErr != nil && len(failed) == 0 {
		t.Errorf("conformance program failed: %v\n%s", runErr, tail(out.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
