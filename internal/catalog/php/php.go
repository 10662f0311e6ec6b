// Package php reads the PHP packages Composer has installed, from
// vendor/composer/installed.json. composer.lock, which declares them, is
// the composerlock package's.
package php

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxFile bounds installed.json; big applications have a few MB.
const maxFile = 64 << 20

// Cataloger reads Composer's installed.json.
type Cataloger struct{}

// New returns a Composer installed.json cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "composer" }

// Wants takes <vendor-dir>/composer/installed.json; the vendor directory
// may be renamed, its composer/ subdirectory may not.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && strings.HasSuffix(p, "/composer/installed.json")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxFile)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads installed.json in both layouts: Composer 1's array of
// packages and Composer 2's {"packages": [...]}. Packages installed for
// development ("dev-package-names") are reported like the others and not
// marked Dev: they are on disk, and code on disk is what an image ships.
func Parse(b []byte) ([]inventory.Package, error) {
	var list []json.RawMessage
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("[")) {
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("not a readable installed.json: %w", err)
		}
	} else {
		var v2 struct {
			Packages *[]json.RawMessage `json:"packages"`
		}
		if err := json.Unmarshal(b, &v2); err != nil {
			return nil, fmt.Errorf("not a readable installed.json: %w", err)
		}
		if v2.Packages == nil {
			return nil, errors.New("not an installed.json: no packages")
		}
		list = *v2.Packages
	}
	var (
		pkgs []inventory.Package
		seen = map[string]bool{}
		bad  int
	)
	for _, raw := range list {
		// One malformed entry should not cost the others.
		var cp composerPackage
		if err := json.Unmarshal(raw, &cp); err != nil {
			bad++
			continue
		}
		p, ok := cp.pkg()
		if !ok {
			continue
		}
		k := p.Namespace + "/" + p.Name + "@" + p.Version
		if seen[k] {
			continue
		}
		seen[k] = true
		pkgs = append(pkgs, p)
	}
	if bad > 0 {
		return pkgs, fmt.Errorf("%d malformed package entries skipped", bad)
	}
	return pkgs, nil
}

type composerPackage struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	License licenses `json:"license"`
}

// pkg turns "vendor/name" into the Composer namespace and name. Versions
// lose the "v" of a "v1.8.1" tag; advisories list them without it.
func (cp composerPackage) pkg() (inventory.Package, bool) {
	vendor, name, ok := strings.Cut(strings.TrimSpace(cp.Name), "/")
	version := strings.TrimSpace(cp.Version)
	if !ok || vendor == "" || name == "" || version == "" {
		return inventory.Package{}, false
	}
	if len(version) > 1 && (version[0] == 'v' || version[0] == 'V') && version[1] >= '0' && version[1] <= '9' {
		version = version[1:]
	}
	return inventory.Package{
		Type:      inventory.TypeComposer,
		Namespace: vendor,
		Name:      name,
		Version:   version,
		Licenses:  cp.License,
	}, true
}

// licenses accepts the "license" field as Composer allows it: a list, or
// a single string.
type licenses []string

func (l *licenses) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		if one != "" {
			*l = licenses{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil // a malformed licence is no reason to lose the package
	}
	for _, s := range many {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

var _ catalog.Cataloger = (*Cataloger)(nil)
