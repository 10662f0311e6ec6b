package javalock

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/inventory"
)

type pomFile struct {
	GroupID    string     `xml:"groupId"`
	ArtifactID string     `xml:"artifactId"`
	Version    string     `xml:"version"`
	Parent     coordinate `xml:"parent"`
	Properties properties `xml:"properties"`
	Deps       []pomDep   `xml:"dependencies>dependency"`
	Managed    []pomDep   `xml:"dependencyManagement>dependencies>dependency"`
	Profiles   []struct {
		ID         string `xml:"id"`
		Activation struct {
			ActiveByDefault string `xml:"activeByDefault"`
		} `xml:"activation"`
		Properties properties `xml:"properties"`
		Deps       []pomDep   `xml:"dependencies>dependency"`
		Managed    []pomDep   `xml:"dependencyManagement>dependencies>dependency"`
	} `xml:"profiles>profile"`
}

type coordinate struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
}

type pomDep struct {
	coordinate
	Scope string `xml:"scope"`
	Type  string `xml:"type"`
}

// properties collects <properties>: every child element is one property.
type properties map[string]string

func (p *properties) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if *p == nil {
		*p = properties{}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var v string
			if err := d.DecodeElement(&v, &t); err != nil {
				return err
			}
			(*p)[t.Name.Local] = strings.TrimSpace(v)
		case xml.EndElement:
			return nil
		}
	}
}

// maxInterpolated bounds an interpolated value, so that properties that
// refer to each other many times over cannot blow up.
const (
	maxInterpolated = 1024
	maxDepth        = 16
	maxNotes        = 5
)

// ParsePom reads the dependencies a pom.xml declares. Versions may be
// literal or ${property} references to <properties> (of the project or
// of a profile active by default), project.version, project.groupId or
// project.parent.version; a dependency without a version takes it from
// the file's own <dependencyManagement>. What needs the parent POM, a
// BOM or the build's settings cannot be known from this one file: those
// dependencies are skipped, and the error names them alongside the
// packages that were found. Test-scoped dependencies are Dev. Every
// listed dependency is Direct; the project itself is not a dependency
// and is not reported.
func ParsePom(b []byte) ([]inventory.Package, error) {
	var p pomFile
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a readable pom.xml: %w", err)
	}

	r := resolver{props: map[string]string{}}
	for k, v := range p.Properties {
		r.props[k] = v
	}
	deps, managed := p.Deps, p.Managed
	for _, prof := range p.Profiles {
		if strings.TrimSpace(prof.Activation.ActiveByDefault) != "true" {
			continue
		}
		for k, v := range prof.Properties {
			r.props[k] = v
		}
		deps = append(deps, prof.Deps...)
		managed = append(managed, prof.Managed...)
	}
	project := map[string]string{
		"groupId":        firstNonEmpty(p.GroupID, p.Parent.GroupID),
		"artifactId":     p.ArtifactID,
		"version":        firstNonEmpty(p.Version, p.Parent.Version),
		"parent.groupId": p.Parent.GroupID,
		"parent.version": p.Parent.Version,
	}
	for k, v := range project {
		v = strings.TrimSpace(v)
		for _, prefix := range []string{"project.", "pom."} {
			if _, ok := r.props[prefix+k]; !ok {
				r.props[prefix+k] = v
			}
		}
	}
	if _, ok := r.props["parent.version"]; !ok {
		r.props["parent.version"] = strings.TrimSpace(p.Parent.Version)
	}

	type key struct{ g, a string }
	managedVersion := map[key]string{}
	for _, m := range managed {
		g, err1 := r.resolve(m.GroupID)
		a, err2 := r.resolve(m.ArtifactID)
		if err1 == nil && err2 == nil && m.Scope != "import" {
			if _, ok := managedVersion[key{g, a}]; !ok {
				managedVersion[key{g, a}] = m.Version
			}
		}
	}

	var (
		pkgs    []inventory.Package
		seen    = map[string]int{}
		skipped []string
	)
	skip := func(dep pomDep, why string) {
		skipped = append(skipped, fmt.Sprintf("%s:%s (%s)", strings.TrimSpace(dep.GroupID), strings.TrimSpace(dep.ArtifactID), why))
	}
	for _, dep := range deps {
		g, err := r.resolve(dep.GroupID)
		if err != nil {
			skip(dep, "groupId "+err.Error())
			continue
		}
		a, err := r.resolve(dep.ArtifactID)
		if err != nil {
			skip(dep, "artifactId "+err.Error())
			continue
		}
		if g == "" || a == "" {
			skip(dep, "no groupId or artifactId")
			continue
		}
		raw := dep.Version
		if strings.TrimSpace(raw) == "" {
			raw = managedVersion[key{g, a}]
		}
		if strings.TrimSpace(raw) == "" {
			skip(dep, "no version here; managed by a parent POM or BOM")
			continue
		}
		v, err := r.resolve(raw)
		if err != nil {
			skip(dep, "version "+err.Error())
			continue
		}
		if strings.ContainsAny(v, "[](),") || v == "LATEST" || v == "RELEASE" {
			skip(dep, "version range "+v)
			continue
		}
		scope := strings.TrimSpace(dep.Scope)
		pkg := mavenPkg(g, a, v)
		pkg.Direct = true
		pkg.Dev = scope == "test"
		if scope != "" && scope != "compile" {
			pkg.Metadata = map[string]string{"scope": scope}
		}
		k := g + ":" + a + ":" + v
		if i, ok := seen[k]; ok {
			if !pkg.Dev && pkgs[i].Dev {
				pkgs[i] = pkg
			}
			continue
		}
		seen[k] = len(pkgs)
		pkgs = append(pkgs, pkg)
	}
	if len(skipped) > 0 {
		msg := strings.Join(skipped[:min(len(skipped), maxNotes)], ", ")
		if len(skipped) > maxNotes {
			msg += fmt.Sprintf(", and %d more", len(skipped)-maxNotes)
		}
		return pkgs, fmt.Errorf("%d dependencies skipped, unresolvable from this file alone: %s", len(skipped), msg)
	}
	return pkgs, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

type resolver struct {
	props map[string]string
}

var (
	errUndefined = errors.New("refers to an undefined property")
	errTooDeep   = errors.New("interpolates too deeply or too long")
)

// resolve replaces every ${name} in s, recursively.
func (r *resolver) resolve(s string) (string, error) {
	return r.interpolate(strings.TrimSpace(s), 0)
}

func (r *resolver) interpolate(s string, depth int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	if depth >= maxDepth {
		return "", errTooDeep
	}
	var sb strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			sb.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%w: unterminated ${", errUndefined)
		}
		name := s[i+2 : i+j]
		v, ok := r.props[name]
		if !ok || v == "" {
			return "", fmt.Errorf("%w ${%s}", errUndefined, name)
		}
		v, err := r.interpolate(v, depth+1)
		if err != nil {
			return "", err
		}
		sb.WriteString(s[:i])
		sb.WriteString(v)
		if sb.Len() > maxInterpolated {
			return "", errTooDeep
		}
		s = s[i+j+1:]
	}
	if sb.Len() > maxInterpolated {
		return "", errTooDeep
	}
	return strings.TrimSpace(sb.String()), nil
}

// charsetReader lets the decoder read the single-byte encodings that old
// POMs declare (encoding="ISO-8859-1"); encoding/xml knows only UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q", label)
}

// latin1Reader turns ISO-8859-1 bytes into UTF-8. Windows-1252 differs
// only in 0x80–0x9F, which never occur in coordinates.
type latin1Reader struct {
	r       *bufio.Reader
	pending []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(l.pending) > 0 {
			c := copy(p[n:], l.pending)
			l.pending = l.pending[c:]
			n += c
			continue
		}
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < utf8.RuneSelf {
			p[n] = b
			n++
			continue
		}
		var buf [utf8.UTFMax]byte
		l.pending = append(l.pending[:0], buf[:utf8.EncodeRune(buf[:], rune(b))]...)
	}
	return n, nil
}
