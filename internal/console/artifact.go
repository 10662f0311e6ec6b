package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/report"
	"github.com/seawall-dev/seawall/internal/signature"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// artifact is one manifest as the pages show it.
type artifact struct {
	Digest        string
	Href          string
	Tags          []string
	TagsTruncated bool
	MediaType     string
	ArtifactType  string
	Kind          string // "image", "index" or "artifact"
	Pushed        time.Time
	Size          int64 // the manifest, its config and its layers
	Layers        int
	Platforms     int
	Children      []child // an index's manifests
	Scan          scanInfo
	Verdict       *verdictInfo // nil: no verdict known
	Signature     sigInfo
	SBOMHrefs     map[string]string // format name → link, when an SBOM is stored
}

type child struct {
	Digest   string
	Href     string
	Platform string
	Artifact *artifact // nil when the child is not in the repository
}

// manifestJSON is as much of an image manifest or index as the pages show.
type manifestJSON struct {
	MediaType string `json:"mediaType"`
	Config    *struct {
		MediaType string `json:"mediaType"`
		Size      int64  `json:"size"`
	} `json:"config"`
	Layers []struct {
		Size int64 `json:"size"`
	} `json:"layers"`
	Manifests []struct {
		Digest   string `json:"digest"`
		Platform *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		} `json:"platform"`
	} `json:"manifests"`
}

var imageConfigTypes = map[string]bool{
	"application/vnd.oci.image.config.v1+json":       true,
	"application/vnd.docker.container.image.v1+json": true,
}

// loadArtifact reads a manifest and what is known about it: its scan and
// verdict, and (withFindings) its findings.
func (c *Console) loadArtifact(ctx context.Context, proj *store.Project, repo, digest string, withFindings bool) (*artifact, error) {
	m, err := c.st.Manifest(ctx, repo, digest)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("manifest %s@%s: %w", repo, digest, err)
	}
	a := &artifact{
		Digest: digest, Href: artifactHref(proj.Name, repo, digest),
		MediaType: m.MediaType, ArtifactType: m.ArtifactType, Pushed: m.CreatedAt, Size: m.Size,
	}
	var mj manifestJSON
	if err := json.Unmarshal(m.Content, &mj); err != nil {
		return nil, fmt.Errorf("manifest %s@%s is not JSON: %w", repo, digest, err)
	}
	switch {
	case mj.Manifests != nil || strings.Contains(m.MediaType, "index") || strings.Contains(m.MediaType, "manifest.list"):
		a.Kind = "index"
		for _, ch := range mj.Manifests {
			if !digestRE.MatchString(ch.Digest) {
				continue
			}
			cd := child{Digest: ch.Digest, Href: artifactHref(proj.Name, repo, ch.Digest)}
			if p := ch.Platform; p != nil {
				cd.Platform = strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
			}
			a.Children = append(a.Children, cd)
		}
		a.Platforms = len(a.Children)
	default:
		a.Kind = "artifact"
		if mj.Config != nil {
			a.Size += mj.Config.Size
			if imageConfigTypes[mj.Config.MediaType] {
				a.Kind = "image"
			}
		}
		for _, l := range mj.Layers {
			a.Size += l.Size
		}
		a.Layers = len(mj.Layers)
	}
	if err := c.loadScan(ctx, repo, a, withFindings); err != nil {
		return nil, err
	}
	if a.Kind != "image" {
		return a, nil // the pull policy and signatures are about images
	}
	if c.opts.Verdicts != nil {
		v, err := c.opts.Verdicts.Verdict(ctx, repo, digest)
		if err != nil {
			return nil, fmt.Errorf("verdict of %s@%s: %w", repo, digest, err)
		}
		a.Verdict = &verdictInfo{Verdict: v}
	}
	if c.opts.Signatures != nil {
		a.Signature.Checked = true
		pol, err := verdict.PolicyOf(proj.Settings)
		if err != nil {
			a.Signature.Error = "The project's policy could not be read, so its trusted keys are unknown: " + err.Error()
			return a, nil
		}
		keys := pol.Keys()
		a.Signature.Keys = len(keys)
		st, err := c.opts.Signatures.Check(ctx, repo, digest, keys)
		if err != nil {
			c.log.Warn("signature check", "repo", repo, "digest", digest, "err", err)
			a.Signature.Error = "The signatures could not be checked; the server's log says why."
			return a, nil
		}
		a.Signature.Status = st
	}
	return a, nil
}

// scanInfo is an artifact's scan state. State is one of "not scanned",
// "queued", "scanning", "failed" and "scanned": never a guess.
type scanInfo struct {
	State     string
	Error     string
	Queued    *store.ScanJob
	ScannedAt time.Time
	MatchedAt time.Time
	DBBuiltAt time.Time
	Counts    []sevCount // vulnerability findings by severity, most severe first
	Total     int
	Findings  []findingRow // on the artifact page
	HasSBOM   bool
}

type sevCount struct {
	Severity string
	Count    int
}

type findingRow struct {
	ID        string
	Aliases   []string
	Package   string
	Type      string
	Installed string
	Fixed     []string
	Severity  string
	Score     float64
	Status    string
	Title     string
	Layer     string
	Path      string
}

var severities = []inventory.Severity{inventory.SeverityCritical, inventory.SeverityHigh, inventory.SeverityMedium, inventory.SeverityLow, inventory.SeverityUnknown}

func (c *Console) loadScan(ctx context.Context, repo string, a *artifact, withFindings bool) error {
	a.Scan.State = "not scanned"
	if c.opts.Scans == nil {
		return nil
	}
	res, err := c.opts.Scans.ScanResult(ctx, repo, a.Digest)
	if errors.Is(err, store.ErrNotFound) {
		res = nil
	} else if err != nil {
		return fmt.Errorf("scan result of %s@%s: %w", repo, a.Digest, err)
	}
	jobs, err := c.opts.Scans.ScanJobs(ctx, repo, a.Digest)
	if err != nil {
		return fmt.Errorf("scan jobs of %s@%s: %w", repo, a.Digest, err)
	}
	if len(jobs) > 0 {
		j := jobs[0]
		a.Scan.Queued = &j
	}
	if res == nil {
		if a.Scan.Queued != nil {
			a.Scan.State = "queued"
			if a.Scan.Queued.Owner != "" && a.Scan.Queued.LeaseUntil.After(c.now()) {
				a.Scan.State = "scanning"
			}
		}
		return nil
	}
	a.Scan.ScannedAt, a.Scan.MatchedAt, a.Scan.DBBuiltAt = res.ScannedAt, res.MatchedAt, res.DBBuiltAt
	if res.Error != "" {
		a.Scan.State, a.Scan.Error = "failed", res.Error
		return nil
	}
	a.Scan.State = "scanned"
	a.Scan.HasSBOM = len(res.SBOM) > 0
	if a.Scan.HasSBOM {
		a.SBOMHrefs = map[string]string{"CycloneDX": a.Href + "/sbom.cdx.json", "SPDX": a.Href + "/sbom.spdx.json"}
	}
	var findings []inventory.Finding
	if len(res.Findings) > 0 {
		if err := json.Unmarshal(res.Findings, &findings); err != nil {
			return fmt.Errorf("stored findings of %s@%s: %w", repo, a.Digest, err)
		}
	}
	counts := map[inventory.Severity]int{}
	for i := range findings {
		f := &findings[i]
		if f.Status == inventory.StatusWithdrawn {
			continue
		}
		counts[f.Severity]++
		a.Scan.Total++
	}
	for _, sv := range severities {
		a.Scan.Counts = append(a.Scan.Counts, sevCount{Severity: sv.String(), Count: counts[sv]})
	}
	if len(res.Verdict) > 0 && c.opts.Verdicts == nil {
		v := &verdictInfo{Stored: true}
		if err := json.Unmarshal(res.Verdict, &v.Verdict); err != nil {
			return fmt.Errorf("stored verdict of %s@%s: %w", repo, a.Digest, err)
		}
		a.Verdict = v
	}
	if withFindings {
		slices.SortStableFunc(findings, func(x, y inventory.Finding) int {
			return cmp.Or(cmp.Compare(y.Severity, x.Severity), cmp.Compare(y.CVSSScore, x.CVSSScore),
				strings.Compare(x.ID, y.ID), strings.Compare(x.PackageName, y.PackageName))
		})
		for i := range findings {
			f := &findings[i]
			a.Scan.Findings = append(a.Scan.Findings, findingRow{
				ID: f.ID, Aliases: f.Aliases, Package: f.PackageName, Type: f.PackageType,
				Installed: f.InstalledVersion, Fixed: f.FixedVersions, Severity: f.Severity.String(),
				Score: f.CVSSScore, Status: f.Status, Title: f.Title, Path: f.Location.Path,
			})
		}
	}
	return nil
}

// verdictInfo is a policy verdict and where it came from.
type verdictInfo struct {
	verdict.Verdict
	// Stored is true for the verdict recorded with the scan (when the
	// server has no evaluator), false for one evaluated for this page.
	Stored bool
}

// sigInfo is an artifact's signature status.
type sigInfo struct {
	Checked bool // false: no signature checker is configured
	Error   string
	signature.Status
	Keys int // trusted keys the project has
}

// sbomFormats maps the download file names to report's formats.
var sbomFormats = map[string]string{"sbom.cdx.json": report.FormatCycloneDX, "sbom.spdx.json": report.FormatSPDX}

// sbom renders the stored inventory of an artifact as CycloneDX or SPDX
// JSON, dated by the scan, so that downloads of one scan are identical.
func (c *Console) sbom(w http.ResponseWriter, r *http.Request, repo *store.Repository, digest, format string) error {
	ctx := r.Context()
	if _, err := c.st.Manifest(ctx, repo.Name, digest); errors.Is(err, store.ErrNotFound) {
		return notFound("Repository %s has no manifest %s.", repo.Name, digest)
	} else if err != nil {
		return err
	}
	var res *store.ScanResult
	if c.opts.Scans != nil {
		var err error
		res, err = c.opts.Scans.ScanResult(ctx, repo.Name, digest)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("scan result of %s@%s: %w", repo.Name, digest, err)
		}
	}
	if res == nil || res.Error != "" || len(res.SBOM) == 0 {
		return notFound("%s@%s has not been scanned, so there is no SBOM yet.", repo.Name, digest)
	}
	var inv inventory.Inventory
	if err := json.Unmarshal(res.SBOM, &inv); err != nil {
		return fmt.Errorf("stored SBOM of %s@%s: %w", repo.Name, digest, err)
	}
	var buf bytes.Buffer
	meta := report.Meta{ToolVersion: c.opts.Version, Created: res.ScannedAt.UTC().Truncate(time.Second)}
	if err := report.WriteSBOM(&buf, format, &inv, meta); err != nil {
		return fmt.Errorf("render SBOM of %s@%s: %w", repo.Name, digest, err)
	}
	ct, ext := "application/vnd.cyclonedx+json", "cdx.json"
	if format == report.FormatSPDX {
		ct, ext = "application/spdx+json", "spdx.json"
	}
	file := fmt.Sprintf("%s_%s.%s", path.Base(repo.Name), strings.TrimPrefix(shortDigest(digest), "sha256:"), ext)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}
