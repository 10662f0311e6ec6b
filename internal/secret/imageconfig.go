package secret

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// Locations of findings in the image configuration. They are not file
// paths: the report shows them as they are. LayerIndex is -1 for ENV,
// labels and the command, which belong to no layer; a history step that
// made a layer carries that layer.
const (
	ConfigEnvPrefix     = "image config: ENV "
	ConfigLabelPrefix   = "image config: LABEL "
	ConfigCmd           = "image config: CMD"
	ConfigEntrypoint    = "image config: ENTRYPOINT"
	ConfigHistoryPrefix = "image history: step "
)

// ImageScanner returns the scanner of the image configuration: ENV
// values, labels, the command and entrypoint, and the history's
// created_by commands (where build arguments and RUN lines show).
func (s *Scanner) ImageScanner() catalog.ImageScanner { return imageScanner{s} }

type imageScanner struct{ s *Scanner }

func (imageScanner) Name() string { return "secret" }

// ScanImage also masks, in inv's layer list, the secrets it finds in a
// layer's created_by command, so that the report's layer list does not
// show them in plain text either.
func (is imageScanner) ScanImage(ctx context.Context, img *image.Image, inv *inventory.Inventory) ([]inventory.Finding, error) {
	if img == nil || img.Config == nil {
		return nil, nil
	}
	s := is.s
	cfg := img.Config
	var out []inventory.Finding
	scan := func(where string, layer int, text string) {
		for _, f := range s.scanText(ctx, where, text) {
			f.Location = inventory.Location{Path: where, LayerIndex: layer}
			if layer >= 0 && layer < len(img.Layers) {
				f.Location.LayerDigest = img.Layers[layer].Digest
				f.Location.LayerDiffID = img.Layers[layer].DiffID
			}
			f.Line = 0 // a config value has no lines worth counting
			out = append(out, f)
		}
	}
	for _, env := range cfg.Config.Env {
		name, _, _ := strings.Cut(env, "=")
		scan(ConfigEnvPrefix+name, -1, env)
	}
	labels := make([]string, 0, len(cfg.Config.Labels))
	for k := range cfg.Config.Labels {
		labels = append(labels, k)
	}
	sort.Strings(labels)
	for _, k := range labels {
		scan(ConfigLabelPrefix+k, -1, k+"="+cfg.Config.Labels[k])
	}
	if len(cfg.Config.Cmd) > 0 {
		scan(ConfigCmd, -1, strings.Join(cfg.Config.Cmd, " "))
	}
	if len(cfg.Config.Entrypoint) > 0 {
		scan(ConfigEntrypoint, -1, strings.Join(cfg.Config.Entrypoint, " "))
	}
	layer := 0
	for i, h := range cfg.History {
		l := -1
		if !h.EmptyLayer {
			l = layer
			layer++
		}
		if h.CreatedBy != "" {
			n := len(out)
			scan(fmt.Sprintf("%s%d", ConfigHistoryPrefix, i+1), l, h.CreatedBy)
			if len(out) > n && inv != nil && l >= 0 && l < len(inv.Source.Layers) && inv.Source.Layers[l].CreatedBy != "" {
				inv.Source.Layers[l].CreatedBy = s.Redact(ctx, inv.Source.Layers[l].CreatedBy)
			}
		}
	}
	return out, ctx.Err()
}

// Redact returns text with every secret that the rules find in it masked
// as in snippets (path-restricted rules do not apply: there is no path).
func (s *Scanner) Redact(ctx context.Context, text string) string {
	if text == "" || ctx.Err() != nil {
		return text
	}
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)
	st.reset(s, "")
	for i, r := range s.rules {
		if r.path != nil {
			st.fileOK[i] = 2
		}
	}
	b := []byte(text)
	if len(b) > s.opts.ChunkSize {
		// Longer than any value worth showing: keep none of it.
		return Mask(text)
	}
	s.scanWindow(st, b, 0, 0, 0, len(b))
	if len(st.cands) == 0 {
		return text
	}
	spans := make([]span, len(st.cands))
	for i, c := range st.cands {
		spans[i] = span{c.off, c.end, c.secret}
	}
	return maskSpans(text, spans)
}

// scanText matches every content rule over a string that is not a file
// (path-restricted rules are skipped: there is no path).
func (s *Scanner) scanText(ctx context.Context, where, text string) []inventory.Finding {
	if text == "" || ctx.Err() != nil {
		return nil
	}
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)
	st.reset(s, where)
	for i, r := range s.rules {
		if r.path != nil {
			st.fileOK[i] = 2
		}
	}
	b := []byte(text)
	if len(b) > s.opts.ChunkSize {
		b = b[:s.opts.ChunkSize]
	}
	s.scanWindow(st, b, 0, 0, 0, len(b))
	return st.findings()
}

var _ catalog.ImageScanner = imageScanner{}
