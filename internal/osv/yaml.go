package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlToGeneric turns a YAML document into the values encoding/json
// would produce for the same JSON (map[string]any, []any, string,
// json.Number, bool, nil). Timestamps stay the strings they were written
// as: the PyPA database writes `modified: 2023-11-07T20:24:23.946863Z`
// unquoted, and a YAML loader's own time conversion would lose the
// original text. Aliases are refused: OSV YAML does not use them, and
// expanding them is how "billion laughs" documents grow.
func yamlToGeneric(data []byte) (v any, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input in the past; a record is
		// never worth a crash.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, errors.New("empty document")
	}
	return yamlNode(&doc, 0)
}

func yamlNode(n *yaml.Node, depth int) (any, error) {
	if depth > MaxDepth+2 {
		return nil, fmt.Errorf("line %d: nested more than %d levels deep", n.Line, MaxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, errors.New("empty document")
		}
		return yamlNode(n.Content[0], depth)
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: YAML aliases (*%s) are not supported in OSV records", n.Line, n.Value)
	case yaml.SequenceNode:
		if len(n.Content) > MaxListLen {
			return nil, fmt.Errorf("line %d: a list of %d items is longer than the %d allowed", n.Line, len(n.Content), MaxListLen)
		}
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := yamlNode(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain string", k.Line)
			}
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported in OSV records", k.Line)
			}
			x, err := yamlNode(val, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = x
		}
		return out, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func yamlScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return n.Value, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			// .inf and .nan have no JSON form; keep the text.
			return n.Value, nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default: // !!str, !!timestamp, !!binary and custom tags keep their text
		return n.Value, nil
	}
}
