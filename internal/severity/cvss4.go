package severity

import (
	"fmt"
	"math"
	"strings"
)

// CVSS v4.0 base scoring, written here rather than taken from go-cvss:
// go-cvss v0.6.4 rounds the final value with math.Round(x*10)/10, so a
// score that lands one floating-point step below an x.x5 tie rounds down.
// FIRST's reference calculator (and its upstream, RedHatProductSecurity/
// cvss-v4-calculator, since 2024-11) lifts the value by 1e-6 first, and
// 450 of the 104,976 base vectors score 0.1 higher there. The algorithm is
// section 8 of the CVSS v4.0 specification; the tests check every base
// vector against an independent implementation.
//
// Only the base score is computed: threat and environmental metrics in the
// vector are checked and then ignored, so E counts as A and CR, IR and AR
// as H, which is what the specification's CVSS-B score means.

// v4Metrics lists the base metrics in vector order with their values from
// most to least severe; a value's index is its severity distance unit.
var v4Metrics = [...]struct {
	name   string
	values []string
}{
	{"AV", []string{"N", "A", "L", "P"}},
	{"AC", []string{"L", "H"}},
	{"AT", []string{"N", "P"}},
	{"PR", []string{"N", "L", "H"}},
	{"UI", []string{"N", "P", "A"}},
	{"VC", []string{"H", "L", "N"}},
	{"VI", []string{"H", "L", "N"}},
	{"VA", []string{"H", "L", "N"}},
	{"SC", []string{"H", "L", "N"}},
	{"SI", []string{"H", "L", "N"}},
	{"SA", []string{"H", "L", "N"}},
}

const (
	v4AV = iota
	v4AC
	v4AT
	v4PR
	v4UI
	v4VC
	v4VI
	v4VA
	v4SC
	v4SI
	v4SA
)

// v4Other lists the threat, environmental and supplemental metrics that
// may follow the base metrics, in the order the specification fixes, with
// their allowed values.
var v4Other = [...]struct {
	name   string
	values []string
}{
	{"E", []string{"X", "A", "P", "U"}},
	{"CR", []string{"X", "H", "M", "L"}},
	{"IR", []string{"X", "H", "M", "L"}},
	{"AR", []string{"X", "H", "M", "L"}},
	{"MAV", []string{"X", "N", "A", "L", "P"}},
	{"MAC", []string{"X", "L", "H"}},
	{"MAT", []string{"X", "N", "P"}},
	{"MPR", []string{"X", "N", "L", "H"}},
	{"MUI", []string{"X", "N", "P", "A"}},
	{"MVC", []string{"X", "H", "L", "N"}},
	{"MVI", []string{"X", "H", "L", "N"}},
	{"MVA", []string{"X", "H", "L", "N"}},
	{"MSC", []string{"X", "H", "L", "N"}},
	{"MSI", []string{"X", "S", "H", "L", "N"}},
	{"MSA", []string{"X", "S", "H", "L", "N"}},
	{"S", []string{"X", "N", "P"}},
	{"AU", []string{"X", "N", "Y"}},
	{"R", []string{"X", "A", "U", "I"}},
	{"V", []string{"X", "D", "C"}},
	{"RE", []string{"X", "L", "M", "H"}},
	{"U", []string{"X", "Clear", "Green", "Amber", "Red"}},
}

// parseV4 reads a CVSS v4.0 vector and returns the index of each base
// metric's value. Every base metric must be present, in order; the other
// metrics are optional but must be known, valid, in order and not repeated.
func parseV4(vector string) ([len(v4Metrics)]int, error) {
	var idx [len(v4Metrics)]int
	rest, ok := strings.CutPrefix(vector, "CVSS:4.0/")
	if !ok {
		return idx, fmt.Errorf("CVSS v4.0 vector %q: must start with CVSS:4.0/", clip(vector))
	}
	parts := strings.Split(rest, "/")
	if len(parts) < len(v4Metrics) {
		return idx, fmt.Errorf("CVSS v4.0 vector %q: needs all %d base metrics", clip(vector), len(v4Metrics))
	}
	for i, m := range v4Metrics {
		k, v, _ := strings.Cut(parts[i], ":")
		if k != m.name {
			return idx, fmt.Errorf("CVSS v4.0 vector %q: metric %d is %q, want %s", clip(vector), i+1, clip(k), m.name)
		}
		j := indexOf(m.values, v)
		if j < 0 {
			return idx, fmt.Errorf("CVSS v4.0 vector %q: %s has no value %q", clip(vector), m.name, clip(v))
		}
		idx[i] = j
	}
	next := 0
	for _, p := range parts[len(v4Metrics):] {
		k, v, _ := strings.Cut(p, ":")
		for next < len(v4Other) && v4Other[next].name != k {
			next++
		}
		if next == len(v4Other) {
			return idx, fmt.Errorf("CVSS v4.0 vector %q: metric %q is unknown, repeated or out of order", clip(vector), clip(k))
		}
		if indexOf(v4Other[next].values, v) < 0 {
			return idx, fmt.Errorf("CVSS v4.0 vector %q: %s has no value %q", clip(vector), k, clip(v))
		}
		next++
	}
	return idx, nil
}

func indexOf(values []string, v string) int {
	for i, s := range values {
		if s == v {
			return i
		}
	}
	return -1
}

// scoreV4 returns the CVSS-B score of the parsed base metrics.
func scoreV4(m [len(v4Metrics)]int) float64 {
	const none = 2 // index of N among H, L, N
	if m[v4VC] == none && m[v4VI] == none && m[v4VA] == none &&
		m[v4SC] == none && m[v4SI] == none && m[v4SA] == none {
		return 0
	}
	is := func(metric int, value string) bool { return v4Metrics[metric].values[m[metric]] == value }

	// Equivalence classes (section 8.2), with E=A and CR=IR=AR=H.
	var eq [6]int
	switch {
	case is(v4AV, "N") && is(v4PR, "N") && is(v4UI, "N"):
		eq[0] = 0
	case (is(v4AV, "N") || is(v4PR, "N") || is(v4UI, "N")) && !is(v4AV, "P"):
		eq[0] = 1
	default:
		eq[0] = 2
	}
	if !(is(v4AC, "L") && is(v4AT, "N")) {
		eq[1] = 1
	}
	anyH := is(v4VC, "H") || is(v4VI, "H") || is(v4VA, "H")
	switch {
	case is(v4VC, "H") && is(v4VI, "H"):
		eq[2] = 0
	case anyH:
		eq[2] = 1
	default:
		eq[2] = 2
	}
	switch {
	case is(v4SC, "H") || is(v4SI, "H") || is(v4SA, "H"):
		eq[3] = 1
	default:
		eq[3] = 2
	}
	eq[4] = 0 // E:X counts as E:A
	if !anyH {
		eq[5] = 1 // with CR=IR=AR=H, EQ6 is 0 exactly when VC, VI or VA is H
	}

	value, ok := v4Lookup(eq)
	if !ok {
		return 0 // unreachable for a valid vector
	}

	// Severity distance of the vector from the most severe vector of its
	// macrovector (section 8.3). Within one level every highest vector has
	// the same sum of value indexes, so the distance of a group is the
	// vector's index sum less the highest vector's.
	d := func(metrics ...int) int {
		s := 0
		for _, i := range metrics {
			s += m[i]
		}
		return s
	}
	dist := [5]int{
		d(v4AV, v4PR, v4UI) - v4MaxIndexSum.eq1[eq[0]],
		d(v4AC, v4AT) - v4MaxIndexSum.eq2[eq[1]],
		d(v4VC, v4VI, v4VA) - v4MaxIndexSum.eq3eq6[eq[2]][eq[5]],
		d(v4SC, v4SI, v4SA) - v4MaxIndexSum.eq4[eq[3]],
		0,
	}
	depth := [5]float64{
		v4Depth.eq1[eq[0]],
		v4Depth.eq2[eq[1]],
		v4Depth.eq3eq6[eq[2]][eq[5]],
		v4Depth.eq4[eq[3]],
		v4Depth.eq5[eq[4]],
	}

	// The score of the next lower macrovector in each dimension.
	lower := [5]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	try := func(i int, e [6]int) {
		if s, ok := v4Lookup(e); ok {
			lower[i] = s
		}
	}
	step := func(k int) [6]int { e := eq; e[k]++; return e }
	try(0, step(0))
	try(1, step(1))
	switch {
	case eq[2] == 0 && eq[5] == 0:
		a, okA := v4Lookup(step(2))
		b, okB := v4Lookup(step(5))
		switch {
		case okA && okB:
			lower[2] = math.Max(a, b)
		case okA:
			lower[2] = a
		case okB:
			lower[2] = b
		}
	case eq[2] == 1 && eq[5] == 0:
		try(2, step(5))
	case eq[5] == 1 && eq[2] < 2:
		try(2, step(2))
	}
	try(3, step(3))
	try(4, step(4))

	sum, n := 0.0, 0
	for i := range lower {
		if math.IsNaN(lower[i]) {
			continue
		}
		n++
		sum += (value - lower[i]) * float64(dist[i]) / depth[i]
	}
	if n > 0 {
		value -= sum / float64(n)
	}
	value = math.Max(0, math.Min(10, value))
	// Round half up; the lift keeps a tie that floating point put one
	// step below x.x5 from rounding down, as the reference calculator does.
	return math.Round((value+1e-6)*10) / 10
}

// v4MaxIndexSum is, per level, the sum of the value indexes of the
// macrovector's highest-severity vectors (the specification's max_composed
// tables), for base vectors only: CR, IR and AR are H and SI, SA never S.
var v4MaxIndexSum = struct {
	eq1    [3]int
	eq2    [2]int
	eq3eq6 [3][2]int
	eq4    [3]int
}{
	eq1: [3]int{0, 1, 3}, // N/N/N; A/N/N, N/L/N, N/N/P; P/N/N, A/L/P
	eq2: [2]int{0, 1},    // L/N; H/N, L/P
	// Only (0,0) H/H/H, (1,0) L/H/H or H/L/H and (2,1) L/L/L are
	// reachable by a base vector.
	eq3eq6: [3][2]int{{0, 0}, {1, 0}, {0, 3}},
	eq4:    [3]int{0, 0, 3}, // (S/S); H/H/H; L/L/L
}

// v4Depth is the specification's max_severity table: the number of 0.1
// steps from a level's highest vector to its lowest, plus one.
var v4Depth = struct {
	eq1    [3]float64
	eq2    [2]float64
	eq3eq6 [3][2]float64
	eq4    [3]float64
	eq5    [3]float64
}{
	eq1:    [3]float64{1, 4, 5},
	eq2:    [2]float64{1, 2},
	eq3eq6: [3][2]float64{{7, 6}, {8, 8}, {10, 10}},
	eq4:    [3]float64{6, 5, 4},
	eq5:    [3]float64{1, 1, 1},
}

func v4Lookup(eq [6]int) (float64, bool) {
	var b [6]byte
	for i, e := range eq {
		b[i] = byte('0' + e)
	}
	s, ok := v4MacroScores[string(b[:])]
	return s, ok
}

// v4MacroScores is the specification's macrovector lookup table (FIRST,
// CVSS v4.0 specification section 8.1; cvss_lookup.js of the reference
// calculator): the score of the highest-severity vector of each of the
// 270 macrovectors, keyed EQ1..EQ6.
var v4MacroScores = map[string]float64{
	"000000": 10.0, "000001": 9.9, "000010": 9.8, "000011": 9.5, "000020": 9.5, "000021": 9.2,
	"000100": 10.0, "000101": 9.6, "000110": 9.3, "000111": 8.7, "000120": 9.1, "000121": 8.1,
	"000200": 9.3, "000201": 9.0, "000210": 8.9, "000211": 8.0, "000220": 8.1, "000221": 6.8,
	"001000": 9.8, "001001": 9.5, "001010": 9.5, "001011": 9.2, "001020": 9.0, "001021": 8.4,
	"001100": 9.3, "001101": 9.2, "001110": 8.9, "001111": 8.1, "001120": 8.1, "001121": 6.5,
	"001200": 8.8, "001201": 8.0, "001210": 7.8, "001211": 7.0, "001220": 6.9, "001221": 4.8,
	"002001": 9.2, "002011": 8.2, "002021": 7.2, "002101": 7.9, "002111": 6.9, "002121": 5.0,
	"002201": 6.9, "002211": 5.5, "002221": 2.7, "010000": 9.9, "010001": 9.7, "010010": 9.5,
	"010011": 9.2, "010020": 9.2, "010021": 8.5, "010100": 9.5, "010101": 9.1, "010110": 9.0,
	"010111": 8.3, "010120": 8.4, "010121": 7.1, "010200": 9.2, "010201": 8.1, "010210": 8.2,
	"010211": 7.1, "010220": 7.2, "010221": 5.3, "011000": 9.5, "011001": 9.3, "011010": 9.2,
	"011011": 8.5, "011020": 8.5, "011021": 7.3, "011100": 9.2, "011101": 8.2, "011110": 8.0,
	"011111": 7.2, "011120": 7.0, "011121": 5.9, "011200": 8.4, "011201": 7.0, "011210": 7.1,
	"011211": 5.2, "011220": 5.0, "011221": 3.0, "012001": 8.6, "012011": 7.5, "012021": 5.2,
	"012101": 7.1, "012111": 5.2, "012121": 2.9, "012201": 6.3, "012211": 2.9, "012221": 1.7,
	"100000": 9.8, "100001": 9.5, "100010": 9.4, "100011": 8.7, "100020": 9.1, "100021": 8.1,
	"100100": 9.4, "100101": 8.9, "100110": 8.6, "100111": 7.4, "100120": 7.7, "100121": 6.4,
	"100200": 8.7, "100201": 7.5, "100210": 7.4, "100211": 6.3, "100220": 6.3, "100221": 4.9,
	"101000": 9.4, "101001": 8.9, "101010": 8.8, "101011": 7.7, "101020": 7.6, "101021": 6.7,
	"101100": 8.6, "101101": 7.6, "101110": 7.4, "101111": 5.8, "101120": 5.9, "101121": 5.0,
	"101200": 7.2, "101201": 5.7, "101210": 5.7, "101211": 5.2, "101220": 5.2, "101221": 2.5,
	"102001": 8.3, "102011": 7.0, "102021": 5.4, "102101": 6.5, "102111": 5.8, "102121": 2.6,
	"102201": 5.3, "102211": 2.1, "102221": 1.3, "110000": 9.5, "110001": 9.0, "110010": 8.8,
	"110011": 7.6, "110020": 7.6, "110021": 7.0, "110100": 9.0, "110101": 7.7, "110110": 7.5,
	"110111": 6.2, "110120": 6.1, "110121": 5.3, "110200": 7.7, "110201": 6.6, "110210": 6.8,
	"110211": 5.9, "110220": 5.2, "110221": 3.0, "111000": 8.9, "111001": 7.8, "111010": 7.6,
	"111011": 6.7, "111020": 6.2, "111021": 5.8, "111100": 7.4, "111101": 5.9, "111110": 5.7,
	"111111": 5.7, "111120": 4.7, "111121": 2.3, "111200": 6.1, "111201": 5.2, "111210": 5.7,
	"111211": 2.9, "111220": 2.4, "111221": 1.6, "112001": 7.1, "112011": 5.9, "112021": 3.0,
	"112101": 5.8, "112111": 2.6, "112121": 1.5, "112201": 2.3, "112211": 1.3, "112221": 0.6,
	"200000": 9.3, "200001": 8.7, "200010": 8.6, "200011": 7.2, "200020": 7.5, "200021": 5.8,
	"200100": 8.6, "200101": 7.4, "200110": 7.4, "200111": 6.1, "200120": 5.6, "200121": 3.4,
	"200200": 7.0, "200201": 5.4, "200210": 5.2, "200211": 4.0, "200220": 4.0, "200221": 2.2,
	"201000": 8.5, "201001": 7.5, "201010": 7.4, "201011": 5.5, "201020": 6.2, "201021": 5.1,
	"201100": 7.2, "201101": 5.7, "201110": 5.5, "201111": 4.1, "201120": 4.6, "201121": 1.9,
	"201200": 5.3, "201201": 3.6, "201210": 3.4, "201211": 1.9, "201220": 1.9, "201221": 0.8,
	"202001": 6.4, "202011": 5.1, "202021": 2.0, "202101": 4.7, "202111": 2.1, "202121": 1.1,
	"202201": 2.4, "202211": 0.9, "202221": 0.4, "210000": 8.8, "210001": 7.5, "210010": 7.3,
	"210011": 5.3, "210020": 6.0, "210021": 5.0, "210100": 7.3, "210101": 5.5, "210110": 5.9,
	"210111": 4.0, "210120": 4.1, "210121": 2.0, "210200": 5.4, "210201": 4.3, "210210": 4.5,
	"210211": 2.2, "210220": 2.0, "210221": 1.1, "211000": 7.5, "211001": 5.5, "211010": 5.8,
	"211011": 4.5, "211020": 4.0, "211021": 2.1, "211100": 6.1, "211101": 5.1, "211110": 4.8,
	"211111": 1.8, "211120": 2.0, "211121": 0.9, "211200": 4.6, "211201": 1.8, "211210": 1.7,
	"211211": 0.7, "211220": 0.8, "211221": 0.2, "212001": 5.3, "212011": 2.4, "212021": 1.4,
	"212101": 2.4, "212111": 1.2, "212121": 0.5, "212201": 1.0, "212211": 0.3, "212221": 0.1,
}
