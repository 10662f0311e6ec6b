package waf

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
	"github.com/google/go-cmp/cmp"
)

// TestTransformationCache checks the patched transformation cache in
// third_party/coraza: rules whose chains share prefixes, over many
// arguments (some with equal values, some repeated under one name, some in
// two variables), must each see exactly their own chain applied to each
// value. A cache that returned another value's or another chain's result
// changes which arguments match.
func TestTransformationCache(t *testing.T) {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(`
SecRuleEngine DetectionOnly
SecRule ARGS "@streq abc" "id:1,phase:1,pass,log,t:none,t:lowercase"
SecRule ARGS "@streq abc" "id:2,phase:1,pass,log,t:none,t:lowercase,t:urlDecodeUni"
SecRule ARGS "@streq abc" "id:3,phase:1,pass,log,t:none,t:urlDecodeUni"
SecRule ARGS|ARGS_NAMES "@streq abc" "id:4,phase:1,pass,log,t:none,t:urlDecodeUni,t:lowercase"
SecRule ARGS "@streq abc" "id:5,phase:1,pass,log,t:none,t:lowercase,t:urlDecodeUni,t:removeWhitespace"
`))
	if err != nil {
		t.Fatal(err)
	}
	// Values, each tried under several argument names.
	values := []string{"abc", "ABC", "a%62c", "A%62C", "a%20bc", "x", "ABC", "a%2562c", "A%2562C", "a%252562c"}
	var q []string
	for i := range 40 {
		v := values[i%len(values)]
		q = append(q, fmt.Sprintf("k%d=%s", i%13, v))
	}
	q = append(q, "ABC=1", "a%62c=2")
	query := strings.Join(q, "&")

	// What each rule must match, computed here from the chains.
	chains := map[int]func(string) string{
		1: strings.ToLower,
		2: func(s string) string { return unescape(strings.ToLower(s)) },
		3: unescape,
		4: func(s string) string { return strings.ToLower(unescape(s)) },
		5: func(s string) string { return strings.ReplaceAll(unescape(strings.ToLower(s)), " ", "") },
	}
	want := map[int][]string{}
	for _, kv := range q {
		name, v, _ := strings.Cut(kv, "=")
		v = unescape(v) // arguments arrive URL-decoded
		for id, chain := range chains {
			if chain(v) == "abc" {
				want[id] = append(want[id], "ARGS:"+unescape(name))
			}
			if id == 4 && chain(name) == "abc" {
				want[id] = append(want[id], "ARGS_NAMES:"+unescape(name))
			}
		}
	}
	for round := range 20 { // map iteration order varies: repeat
		tx := w.NewTransaction()
		tx.ProcessURI("/?"+query, "GET", "HTTP/1.1")
		tx.ProcessRequestHeaders()
		got := map[int][]string{}
		for _, mr := range tx.MatchedRules() {
			for _, md := range mr.MatchedDatas() {
				got[mr.Rule().ID()] = append(got[mr.Rule().ID()], md.Variable().Name()+":"+md.Key())
			}
		}
		tx.Close()
		for id := range chains {
			sort.Strings(got[id])
			sort.Strings(want[id])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: matches differ (-want +got):\n%s", round, diff)
		}
	}
}

func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// TestRuleCollectionOnMatch checks the other patch in third_party/coraza:
// the RULE collection is filled in when a rule matches, so actions still
// read their own rule's id, severity and expanded message and logdata.
func TestRuleCollectionOnMatch(t *testing.T) {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(`
SecRuleEngine DetectionOnly
SecRule ARGS:a "@rx ^(x+)$" "id:11,phase:1,pass,log,capture,severity:WARNING,msg:'m %{TX.1}',logdata:'d %{TX.0}',setvar:tx.got=%{RULE.id}/%{RULE.severity}/%{RULE.msg}/%{RULE.logdata}"
SecRule ARGS:b "@rx nomatch" "id:12,phase:1,pass,log,msg:'other'"
SecRule ARGS:a "@rx ^x" "id:13,phase:1,pass,log,setvar:tx.after=%{RULE.id}/%{RULE.msg}"
SecAction "id:14,phase:1,pass,log,msg:'%{tx.got}|%{tx.after}'"
`))
	if err != nil {
		t.Fatal(err)
	}
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessURI("/?a=xxx&b=y", "GET", "HTTP/1.1")
	tx.ProcessRequestHeaders()
	var got string
	for _, mr := range tx.MatchedRules() {
		if mr.Rule().ID() == 14 {
			got = mr.Message()
		}
	}
	// Rule 13 has no msg: RULE.msg still holds rule 11's, as upstream.
	want := "11/warning/m xxx/d xxx|13/m xxx"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RULE values seen by setvar (-want +got):\n%s", diff)
	}
}
