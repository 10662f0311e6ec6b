package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Bounds on hostile input. Real records are far below them: the largest
// staged record (an AlmaLinux kernel advisory) is 230 KiB with 1,400
// versions, and osv.dev's biggest Linux kernel records list about 20,000
// versions. A record past a bound is rejected whole; nothing is truncated.
const (
	// MaxRecordSize bounds a file that holds one record.
	MaxRecordSize = 16 << 20
	// MaxFileSize bounds a file that holds many records (a JSON array, or
	// an osv.dev API answer {"vulns": [...]}).
	MaxFileSize = 256 << 20
	// MaxStringLen bounds every string, keys and *_specific contents included.
	MaxStringLen = 1 << 20
	// MaxListLen bounds every list: affected entries, ranges, events,
	// versions, aliases, references, and lists inside *_specific.
	MaxListLen = 100_000
	// MaxDepth bounds the nesting of objects and lists.
	MaxDepth = 64
)

// ErrTooLarge is wrapped by errors about input past one of the bounds.
var ErrTooLarge = errors.New("input too large")

// Error is a record that cannot be used at all. It names the file and,
// when it is about one field, the field's path ("affected[2].ranges[0]").
type Error struct {
	File  string
	Field string
	Msg   string
	Err   error // wrapped cause, if any (ErrTooLarge, a syntax error)
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Warning is a problem that made part of a record unusable, or a
// departure from the schema that the parser tolerated. Dropped says
// whether the part named by Field was left out of the parsed record.
type Warning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Dropped bool   `json:"dropped"`
}

func (w Warning) String() string { return w.Field + ": " + w.Message }

// IsYAML reports whether a file name's extension marks it as YAML.
func IsYAML(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// Parse reads one OSV record, as JSON or, when name ends in .yaml or .yml,
// as YAML. name is used in errors only. It returns the record and the
// warnings about the parts it dropped or tolerated, or an *Error when the
// record cannot be used: not an object, no id, no modified time, a field
// of the wrong type, an event with two kinds, or input past a bound.
//
// What is dropped, with a warning, rather than failing the record:
//   - a range of unknown type, a GIT range without repo, a range with no
//     events, and a range with an event that is empty ("" or {}) or has
//     no known kind (the whole range: dropping one event would change
//     what the range means);
//   - an affected entry whose package lacks its ecosystem or name;
//   - a severity of unknown type or whose score does not match its type;
//   - an empty string in versions, aliases, related or upstream;
//   - a reference without url, a credit without name;
//   - a published time that is not RFC 3339;
//   - a database_specific or ecosystem_specific that is not an object.
//
// Kept, with a warning: a range without an introduced event (by the
// schema's evaluation it affects nothing), a range with both fixed and
// last_affected, a GIT event that is not a full commit hash, an unknown
// reference or credit type, a time not in UTC, a null where the schema
// wants a list, and per-package severity next to a top-level one.
//
// Ignored silently, for forward compatibility: unknown fields, ID
// prefixes and ecosystems that the schema does not list yet.
func Parse(data []byte, name string) (*Vulnerability, []Warning, error) {
	if len(data) > MaxRecordSize {
		return nil, nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes is more than the %d allowed for one record", len(data), MaxRecordSize), Err: ErrTooLarge}
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := decodeValue(p, data, name)
	if err != nil {
		return nil, nil, err
	}
	return decodeRecord(v, name, "")
}

// parsers is a cache of JSON parsers; a parser's values live until its
// next Parse, so each call holds one until it has copied what it needs.
var parsers fastjson.ParserPool

// Result is one record read by ParseAll: the record and its warnings, or
// the error that made it unusable. Field prefixes in both say where in
// the file the record sits ("vulns[3].affected[0]") when there are many.
type Result struct {
	Vuln     *Vulnerability
	Warnings []Warning
	Err      error
}

// ParseAll reads a file that holds one record, a JSON or YAML list of
// records, or an osv.dev API answer ({"vulns": [...]}). The error is for
// the file as a whole (bad syntax, too large, no records in it); each
// record's own problems are in its Result.
func ParseAll(data []byte, name string) ([]Result, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes is more than the %d allowed for a file", len(data), MaxFileSize), Err: ErrTooLarge}
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := decodeValue(p, data, name)
	if err != nil {
		return nil, err
	}
	var list []*fastjson.Value
	prefix := ""
	switch v.Type() {
	case fastjson.TypeArray:
		list, _ = v.Array()
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Get("id") == nil {
			if vs := o.Get("vulns"); vs != nil && vs.Type() == fastjson.TypeArray {
				list, _ = vs.Array()
				prefix = "vulns"
				break
			}
		}
		if len(data) > MaxRecordSize {
			return nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes is more than the %d allowed for one record", len(data), MaxRecordSize), Err: ErrTooLarge}
		}
		vuln, warns, err := decodeRecord(v, name, "")
		return []Result{{Vuln: vuln, Warnings: warns, Err: err}}, nil
	default:
		_, _, err := decodeRecord(v, name, "")
		return nil, err
	}
	if len(list) > MaxListLen {
		return nil, &Error{File: name, Field: prefix, Msg: fmt.Sprintf("%d records is more than the %d allowed in one file", len(list), MaxListLen), Err: ErrTooLarge}
	}
	out := make([]Result, 0, len(list))
	for i, item := range list {
		vuln, warns, err := decodeRecord(item, name, prefix+"["+strconv.Itoa(i)+"]")
		out = append(out, Result{Vuln: vuln, Warnings: warns, Err: err})
	}
	return out, nil
}

// decodeValue parses JSON, or YAML turned into the equivalent JSON.
func decodeValue(p *fastjson.Parser, data []byte, name string) (*fastjson.Value, error) {
	if IsYAML(name) {
		g, err := yamlToGeneric(data)
		if err == nil {
			data, err = json.Marshal(g)
		}
		if err != nil {
			return nil, &Error{File: name, Msg: "not valid YAML: " + err.Error(), Err: err}
		}
	}
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, &Error{File: name, Msg: "not valid JSON: " + err.Error(), Err: err}
	}
	return v, nil
}

// seg is one step of a field path: a key, or an index when key is "".
type seg struct {
	key string
	idx int
}

type decoder struct {
	file   string
	prefix string
	path   []seg
	warns  []Warning
}

func (d *decoder) field() string {
	var b strings.Builder
	b.WriteString(d.prefix)
	for _, s := range d.path {
		if s.key == "" {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	if b.Len() == 0 {
		return "(record)"
	}
	return b.String()
}

func (d *decoder) push(key string) { d.path = append(d.path, seg{key: key}) }
func (d *decoder) pushIdx(i int)   { d.path = append(d.path, seg{idx: i}) }
func (d *decoder) pop()            { d.path = d.path[:len(d.path)-1] }
func (d *decoder) errorf(format string, args ...any) error {
	return &Error{File: d.file, Field: d.field(), Msg: fmt.Sprintf(format, args...)}
}
func (d *decoder) warn(dropped bool, format string, args ...any) {
	d.warns = append(d.warns, Warning{Field: d.field(), Message: fmt.Sprintf(format, args...), Dropped: dropped})
}

func typeName(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeNull:
		return "null"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "a boolean"
	case fastjson.TypeArray:
		return "a list"
	case fastjson.TypeObject:
		return "an object"
	}
	return "an unknown value"
}

// checkBounds walks a value and rejects strings, lists and nesting past
// the bounds. It runs once per record, before anything is decoded.
func (d *decoder) checkBounds(v *fastjson.Value, depth int) error {
	if depth > MaxDepth {
		return &Error{File: d.file, Field: d.field(), Msg: fmt.Sprintf("nested more than %d levels deep", MaxDepth), Err: ErrTooLarge}
	}
	switch v.Type() {
	case fastjson.TypeString:
		if b, _ := v.StringBytes(); len(b) > MaxStringLen {
			return &Error{File: d.file, Field: d.field(), Msg: fmt.Sprintf("a string of %d bytes is longer than the %d allowed", len(b), MaxStringLen), Err: ErrTooLarge}
		}
	case fastjson.TypeArray:
		a, _ := v.Array()
		if len(a) > MaxListLen {
			return &Error{File: d.file, Field: d.field(), Msg: fmt.Sprintf("a list of %d items is longer than the %d allowed", len(a), MaxListLen), Err: ErrTooLarge}
		}
		for i, x := range a {
			d.pushIdx(i)
			err := d.checkBounds(x, depth+1)
			d.pop()
			if err != nil {
				return err
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		var err error
		o.Visit(func(k []byte, x *fastjson.Value) {
			if err != nil {
				return
			}
			if len(k) > MaxStringLen {
				err = &Error{File: d.file, Field: d.field(), Msg: fmt.Sprintf("a key of %d bytes is longer than the %d allowed", len(k), MaxStringLen), Err: ErrTooLarge}
				return
			}
			d.push(string(k))
			err = d.checkBounds(x, depth+1)
			d.pop()
		})
		return err
	}
	return nil
}

func decodeRecord(v *fastjson.Value, file, prefix string) (*Vulnerability, []Warning, error) {
	d := &decoder{file: file, prefix: prefix}
	if v.Type() != fastjson.TypeObject {
		return nil, nil, d.errorf("an OSV record must be a JSON object, not %s", typeName(v))
	}
	if err := d.checkBounds(v, 0); err != nil {
		return nil, nil, err
	}
	m, _ := v.Object()
	vuln, err := d.record(m)
	if err != nil {
		return nil, nil, err
	}
	return vuln, d.warns, nil
}

func (d *decoder) record(m *fastjson.Object) (*Vulnerability, error) {
	var v Vulnerability
	var err error
	if v.SchemaVersion, err = d.str(m, "schema_version"); err != nil {
		return nil, err
	}
	if v.ID, err = d.str(m, "id"); err != nil {
		return nil, err
	}
	if v.ID == "" {
		d.push("id")
		defer d.pop()
		return nil, d.errorf("missing: every OSV record needs an id")
	}
	if strings.IndexFunc(v.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError }) >= 0 {
		d.push("id")
		defer d.pop()
		return nil, d.errorf("%q has spaces or control characters", v.ID)
	}
	if m.Get("modified") == nil {
		d.push("modified")
		defer d.pop()
		return nil, d.errorf("missing: every OSV record needs a modified time")
	}
	if v.Modified, err = d.timestamp(m, "modified", true); err != nil {
		return nil, err
	}
	if v.Published, err = d.timestamp(m, "published", false); err != nil {
		return nil, err
	}
	if v.Withdrawn, err = d.timestamp(m, "withdrawn", true); err != nil {
		return nil, err
	}
	if v.Aliases, err = d.strList(m, "aliases", true); err != nil {
		return nil, err
	}
	if v.Related, err = d.strList(m, "related", false); err != nil {
		return nil, err
	}
	if v.Upstream, err = d.strList(m, "upstream", false); err != nil {
		return nil, err
	}
	if v.Summary, err = d.str(m, "summary"); err != nil {
		return nil, err
	}
	if v.Details, err = d.str(m, "details"); err != nil {
		return nil, err
	}
	if v.Severity, err = d.severities(m); err != nil {
		return nil, err
	}
	if v.Affected, err = d.affectedList(m, len(v.Severity) > 0); err != nil {
		return nil, err
	}
	if v.References, err = d.references(m); err != nil {
		return nil, err
	}
	if v.Credits, err = d.credits(m); err != nil {
		return nil, err
	}
	v.DatabaseSpecific = d.rawObject(m, "database_specific")
	return &v, nil
}

func isNull(x *fastjson.Value) bool { return x == nil || x.Type() == fastjson.TypeNull }

func strOf(x *fastjson.Value) string {
	b, _ := x.StringBytes()
	return string(b)
}

// str reads an optional string field; a missing field or null is "".
func (d *decoder) str(m *fastjson.Object, key string) (string, error) {
	x := m.Get(key)
	if isNull(x) {
		return "", nil
	}
	if x.Type() != fastjson.TypeString {
		d.push(key)
		defer d.pop()
		return "", d.errorf("must be a string, not %s", typeName(x))
	}
	return strOf(x), nil
}

// list reads an optional list field. nullable says whether the schema
// allows null; a null elsewhere is accepted with a warning.
func (d *decoder) list(m *fastjson.Object, key string, nullable bool) ([]*fastjson.Value, error) {
	x := m.Get(key)
	if x == nil {
		return nil, nil
	}
	if x.Type() == fastjson.TypeNull {
		if !nullable {
			d.push(key)
			d.warn(false, "null is not a list; read as an empty list")
			d.pop()
		}
		return nil, nil
	}
	if x.Type() != fastjson.TypeArray {
		d.push(key)
		defer d.pop()
		return nil, d.errorf("must be a list, not %s", typeName(x))
	}
	l, _ := x.Array()
	return l, nil
}

func (d *decoder) strList(m *fastjson.Object, key string, nullable bool) ([]string, error) {
	l, err := d.list(m, key, nullable)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	d.push(key)
	defer d.pop()
	out := make([]string, 0, len(l))
	for i, x := range l {
		if x.Type() != fastjson.TypeString {
			d.pushIdx(i)
			defer d.pop()
			return nil, d.errorf("must be a string, not %s", typeName(x))
		}
		s := strOf(x)
		if strings.TrimSpace(s) == "" {
			d.pushIdx(i)
			d.warn(true, "empty string dropped")
			d.pop()
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// timestamp reads an RFC 3339 time. A bad value is an error when must is
// set (modified, and withdrawn: dropping a withdrawal would revive the
// advisory), else a warning and the zero time.
func (d *decoder) timestamp(m *fastjson.Object, key string, must bool) (time.Time, error) {
	x := m.Get(key)
	if x == nil || (x.Type() == fastjson.TypeNull && key != "modified") {
		return time.Time{}, nil
	}
	d.push(key)
	defer d.pop()
	if x.Type() != fastjson.TypeString {
		return time.Time{}, d.errorf("must be an RFC 3339 time string, not %s", typeName(x))
	}
	s := strOf(x)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if must {
			return time.Time{}, d.errorf("%q is not an RFC 3339 time (like 2024-01-31T12:00:00Z)", s)
		}
		d.warn(true, "%q is not an RFC 3339 time; dropped", s)
		return time.Time{}, nil
	}
	if !strings.HasSuffix(s, "Z") {
		d.warn(false, "%q is not in UTC (ending in Z); converted", s)
	}
	return t.UTC(), nil
}

// object returns the element as an object or an error naming its type.
func (d *decoder) object(x *fastjson.Value) (*fastjson.Object, error) {
	if x.Type() != fastjson.TypeObject {
		return nil, d.errorf("must be an object, not %s", typeName(x))
	}
	o, _ := x.Object()
	return o, nil
}

// rawObject keeps a *_specific field as raw JSON. Anything but an object
// is dropped with a warning: these fields do not affect matching.
func (d *decoder) rawObject(m *fastjson.Object, key string) json.RawMessage {
	x := m.Get(key)
	if isNull(x) {
		return nil
	}
	d.push(key)
	defer d.pop()
	if x.Type() != fastjson.TypeObject {
		d.warn(true, "must be an object, not %s; dropped", typeName(x))
		return nil
	}
	b := x.MarshalTo(nil)
	// The parser accepts a few things JSON does not (NaN, bad escapes);
	// what is kept must be JSON.
	if !json.Valid(b) {
		d.warn(true, "is not valid JSON (NaN, Infinity or a bad escape); dropped")
		return nil
	}
	return b
}

// The score patterns of the official schema (validation/schema.json).
var scorePatterns = map[string]*regexp.Regexp{
	SeverityCVSSv2: regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`),
	SeverityCVSSv3: regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`),
	SeverityCVSSv4: regexp.MustCompile(`^CVSS:4[.]0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN](/E:[XAPU])?(/CR:[XHML])?(/IR:[XHML])?(/AR:[XHML])?(/MAV:[XNALP])?(/MAC:[XLH])?(/MAT:[XNP])?(/MPR:[XNLH])?(/MUI:[XNPA])?(/MVC:[XNLH])?(/MVI:[XNLH])?(/MVA:[XNLH])?(/MSC:[XNLH])?(/MSI:[XNLHS])?(/MSA:[XNLHS])?(/S:[XNP])?(/AU:[XNY])?(/R:[XAUI])?(/V:[XDC])?(/RE:[XLMH])?(/U:(X|Clear|Green|Amber|Red))?$`),
}

var ubuntuPriorities = map[string]bool{"negligible": true, "low": true, "medium": true, "high": true, "critical": true}

func (d *decoder) severities(m *fastjson.Object) ([]Severity, error) {
	l, err := d.list(m, "severity", true)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	d.push("severity")
	defer d.pop()
	var out []Severity
	for i, x := range l {
		d.pushIdx(i)
		s, keep, err := d.severity(x)
		d.pop()
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, s)
		}
	}
	return out, nil
}

func (d *decoder) severity(x *fastjson.Value) (Severity, bool, error) {
	o, err := d.object(x)
	if err != nil {
		return Severity{}, false, err
	}
	var s Severity
	if s.Type, err = d.str(o, "type"); err != nil {
		return s, false, err
	}
	if s.Score, err = d.str(o, "score"); err != nil {
		return s, false, err
	}
	switch {
	case s.Type == "" || s.Score == "":
		d.warn(true, "a severity needs both type and score; dropped")
		return s, false, nil
	case s.Type == SeverityUbuntu:
		if !ubuntuPriorities[s.Score] {
			d.warn(true, "%q is not an Ubuntu priority (negligible, low, medium, high, critical); dropped", s.Score)
			return s, false, nil
		}
	default:
		re, ok := scorePatterns[s.Type]
		if !ok {
			d.warn(true, "unknown severity type %q; dropped", s.Type)
			return s, false, nil
		}
		if !re.MatchString(s.Score) {
			d.warn(true, "%q is not a valid %s vector; dropped", s.Score, s.Type)
			return s, false, nil
		}
	}
	return s, true, nil
}

func (d *decoder) affectedList(m *fastjson.Object, topSeverity bool) ([]Affected, error) {
	l, err := d.list(m, "affected", true)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	d.push("affected")
	defer d.pop()
	out := make([]Affected, 0, len(l))
	for i, x := range l {
		d.pushIdx(i)
		a, keep, err := d.affected(x, topSeverity)
		d.pop()
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, a)
		}
	}
	return out, nil
}

func (d *decoder) affected(x *fastjson.Value, topSeverity bool) (Affected, bool, error) {
	o, err := d.object(x)
	if err != nil {
		return Affected{}, false, err
	}
	var a Affected
	if p := o.Get("package"); !isNull(p) {
		d.push("package")
		po, err := d.object(p)
		if err == nil {
			a.Package.Ecosystem, err = d.str(po, "ecosystem")
		}
		if err == nil {
			a.Package.Name, err = d.str(po, "name")
		}
		if err == nil {
			a.Package.PURL, err = d.str(po, "purl")
		}
		if err != nil {
			d.pop()
			return a, false, err
		}
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			d.warn(true, "a package needs both ecosystem and name; the affected entry is dropped")
			d.pop()
			return a, false, nil
		}
		d.pop()
	}
	if a.Severity, err = d.severities(o); err != nil {
		return a, false, err
	}
	if topSeverity && len(a.Severity) > 0 {
		d.push("severity")
		d.warn(false, "per-package severity next to a top-level severity (the schema allows only one); both kept")
		d.pop()
	}
	rl, err := d.list(o, "ranges", false)
	if err != nil {
		return a, false, err
	}
	if len(rl) > 0 {
		d.push("ranges")
		for i, rx := range rl {
			d.pushIdx(i)
			r, keep, err := d.rangeOf(rx)
			d.pop()
			if err != nil {
				d.pop()
				return a, false, err
			}
			if keep {
				a.Ranges = append(a.Ranges, r)
			}
		}
		d.pop()
	}
	if a.Versions, err = d.strList(o, "versions", false); err != nil {
		return a, false, err
	}
	a.EcosystemSpecific = d.rawObject(o, "ecosystem_specific")
	a.DatabaseSpecific = d.rawObject(o, "database_specific")
	return a, true, nil
}

var gitHash = regexp.MustCompile(`^(0|[a-f0-9]{40}|[a-f0-9]{64})$`)

func (d *decoder) rangeOf(x *fastjson.Value) (Range, bool, error) {
	o, err := d.object(x)
	if err != nil {
		return Range{}, false, err
	}
	var r Range
	if r.Type, err = d.str(o, "type"); err != nil {
		return r, false, err
	}
	if r.Repo, err = d.str(o, "repo"); err != nil {
		return r, false, err
	}
	el, err := d.list(o, "events", false)
	if err != nil {
		return r, false, err
	}
	// Decode every event first, so that type errors fail the record even
	// in a range that is dropped for another reason.
	d.push("events")
	r.Events = make([]Event, 0, len(el))
	bad := ""
	for i, ex := range el {
		d.pushIdx(i)
		e, problem, err := d.event(ex)
		if err != nil {
			d.pop()
			d.pop()
			return r, false, err
		}
		if problem != "" && bad == "" {
			bad = d.field() + ": " + problem
		}
		d.pop()
		r.Events = append(r.Events, e)
	}
	d.pop()
	r.DatabaseSpecific = d.rawObject(o, "database_specific")
	switch {
	case r.Type == "":
		d.warn(true, "a range needs a type; range dropped")
		return r, false, nil
	case r.Type != RangeEcosystem && r.Type != RangeSemver && r.Type != RangeGit:
		d.warn(true, "unknown range type %q (want ECOSYSTEM, SEMVER or GIT); range dropped", r.Type)
		return r, false, nil
	case r.Type == RangeGit && r.Repo == "":
		d.warn(true, "a GIT range needs a repo; range dropped")
		return r, false, nil
	case len(r.Events) == 0:
		d.warn(true, "a range needs at least one event; range dropped")
		return r, false, nil
	case bad != "":
		d.warn(true, "range dropped: %s", bad)
		return r, false, nil
	}
	var intro, fixed, last bool
	for _, e := range r.Events {
		intro = intro || e.Introduced != ""
		fixed = fixed || e.Fixed != ""
		last = last || e.LastAffected != ""
		if r.Type == RangeGit {
			if v := e.value(); !gitHash.MatchString(v) {
				d.warn(false, "GIT event %q is not a full commit hash; kept", v)
			}
		}
	}
	if !intro {
		d.warn(false, "no introduced event, so by the OSV evaluation rules this range affects no version; kept")
	}
	if fixed && last {
		d.warn(false, "both fixed and last_affected events (the schema allows one kind); kept")
	}
	return r, true, nil
}

func (e Event) value() string {
	switch {
	case e.Introduced != "":
		return e.Introduced
	case e.Fixed != "":
		return e.Fixed
	case e.LastAffected != "":
		return e.LastAffected
	}
	return e.Limit
}

// event decodes one event. problem is set for an event that makes its
// range unusable (empty, no known kind); err for one that makes the
// record unusable (wrong types, two kinds).
func (d *decoder) event(x *fastjson.Value) (e Event, problem string, err error) {
	o, err := d.object(x)
	if err != nil {
		return e, "", err
	}
	var kinds []string
	for _, k := range [...]string{"introduced", "fixed", "last_affected", "limit"} {
		v := o.Get(k)
		if v == nil {
			continue
		}
		kinds = append(kinds, k)
		if v.Type() != fastjson.TypeString {
			d.push(k)
			defer d.pop()
			return e, "", d.errorf("must be a string, not %s", typeName(v))
		}
		s := strOf(v)
		switch k {
		case "introduced":
			e.Introduced = s
		case "fixed":
			e.Fixed = s
		case "last_affected":
			e.LastAffected = s
		case "limit":
			e.Limit = s
		}
		if strings.TrimSpace(s) == "" {
			problem = k + " is empty"
		}
	}
	switch len(kinds) {
	case 0:
		return e, "event has none of introduced/fixed/last_affected/limit", nil
	case 1:
		return e, problem, nil
	}
	return e, "", d.errorf("event has more than one of introduced/fixed/last_affected/limit (%s)", strings.Join(kinds, ", "))
}

var referenceTypes = map[string]bool{"ADVISORY": true, "ARTICLE": true, "DETECTION": true, "DISCUSSION": true, "REPORT": true, "FIX": true, "INTRODUCED": true, "GIT": true, "PACKAGE": true, "EVIDENCE": true, "WEB": true}

func (d *decoder) references(m *fastjson.Object) ([]Reference, error) {
	l, err := d.list(m, "references", true)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	d.push("references")
	defer d.pop()
	out := make([]Reference, 0, len(l))
	for i, x := range l {
		d.pushIdx(i)
		o, err := d.object(x)
		var r Reference
		if err == nil {
			r.Type, err = d.str(o, "type")
		}
		if err == nil {
			r.URL, err = d.str(o, "url")
		}
		if err != nil {
			d.pop()
			return nil, err
		}
		switch {
		case r.URL == "":
			d.warn(true, "a reference needs a url; dropped")
		case !referenceTypes[r.Type]:
			d.warn(false, "unknown reference type %q; kept", r.Type)
			out = append(out, r)
		default:
			out = append(out, r)
		}
		d.pop()
	}
	return out, nil
}

var creditTypes = map[string]bool{"FINDER": true, "REPORTER": true, "ANALYST": true, "COORDINATOR": true, "REMEDIATION_DEVELOPER": true, "REMEDIATION_REVIEWER": true, "REMEDIATION_VERIFIER": true, "TOOL": true, "SPONSOR": true, "OTHER": true}

func (d *decoder) credits(m *fastjson.Object) ([]Credit, error) {
	l, err := d.list(m, "credits", false)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	d.push("credits")
	defer d.pop()
	out := make([]Credit, 0, len(l))
	for i, x := range l {
		d.pushIdx(i)
		o, err := d.object(x)
		var c Credit
		if err == nil {
			c.Name, err = d.str(o, "name")
		}
		if err == nil {
			c.Type, err = d.str(o, "type")
		}
		if err == nil {
			c.Contact, err = d.strList(o, "contact", false)
		}
		if err != nil {
			d.pop()
			return nil, err
		}
		switch {
		case c.Name == "":
			d.warn(true, "a credit needs a name; dropped")
		case c.Type != "" && !creditTypes[c.Type]:
			d.warn(false, "unknown credit type %q; kept", c.Type)
			out = append(out, c)
		default:
			out = append(out, c)
		}
		d.pop()
	}
	return out, nil
}
