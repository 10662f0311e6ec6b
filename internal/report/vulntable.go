package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// ANSI SGR sequences for the table on a terminal.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
)

var severityColor = map[inventory.Severity]string{
	inventory.SeverityCritical: "\x1b[1;31m", // bold red
	inventory.SeverityHigh:     "\x1b[31m",   // red
	inventory.SeverityMedium:   "\x1b[33m",   // yellow
	inventory.SeverityLow:      "\x1b[34m",   // blue
	inventory.SeverityUnknown:  "\x1b[2m",    // dim
}

// maxTitle keeps the table's last column readable on a terminal; the
// full title is in the JSON report.
const maxTitle = 60

func writeVulnTable(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	bw := bufio.NewWriter(w)
	v := newVulnView(r)
	rv := newRiskView(r, opts)
	bold := func(s string) string {
		if opts.Color {
			return ansiBold + s + ansiReset
		}
		return s
	}
	vulns := opts.looked(inventory.KindVulnerability)

	fmt.Fprintln(bw, bold(clean(subjectName(r))))
	if vulns {
		fmt.Fprintln(bw, upperFirst(dbText(r.DB, meta)))
		summary := fmt.Sprintf("%s (%s)", plural(v.active.total(), "vulnerability"), countsText(&v.active, opts))
		if v.suppressed > 0 {
			summary += fmt.Sprintf(", %d suppressed", v.suppressed)
		}
		if v.withdrawn > 0 {
			summary += fmt.Sprintf(", %d withdrawn", v.withdrawn)
		}
		fmt.Fprintln(bw, summary)
	}
	for _, g := range rv.groups {
		fmt.Fprintln(bw, kindCountsLine(g.kind, &g.tally, opts))
	}
	if s := filterText(opts); s != "" {
		fmt.Fprintln(bw, "Filters: "+s)
	}
	if len(r.NotCovered) > 0 {
		fmt.Fprintln(bw, "Not checked, the database covers none of these:")
		for _, c := range r.NotCovered {
			fmt.Fprintln(bw, "  "+clean(coverageText(c)))
		}
	}
	writeList(bw, "Notices", opts.Notices, 0)
	writeList(bw, "Scan warnings", r.Warnings, 10)

	if vulns || len(v.findings) > 0 {
		writeVulnSections(bw, r, v, opts, bold)
	}
	for _, g := range rv.groups {
		writeRiskSection(bw, g, opts, bold)
	}
	return bw.Flush()
}

func writeVulnSections(bw io.Writer, r *inventory.Report, v *vulnView, opts ReportOptions, bold func(string) string) {
	shown := 0
	for _, g := range v.groups {
		if g.active.total()+g.withdrawn == 0 {
			continue // every finding suppressed: counted above, not listed
		}
		shown++
		label := clean(g.target.label())
		fmt.Fprintf(bw, "\n%s\n%s\n", bold(label), strings.Repeat("=", utf8.RuneCountInString(label)))
		line := "Total: " + fmt.Sprint(g.active.total()) + " (" + countsText(&g.active, opts) + ")"
		if g.suppressed > 0 {
			line += fmt.Sprintf(", %d suppressed", g.suppressed)
		}
		if g.withdrawn > 0 {
			line += fmt.Sprintf(", %d withdrawn", g.withdrawn)
		}
		fmt.Fprintln(bw, line)
		fmt.Fprintln(bw)

		t := textTable{color: opts.Color, header: []string{"PACKAGE", "VULNERABILITY", "SEVERITY", "INSTALLED", "FIXED", "STATUS", "TITLE"}}
		lastPkg := ""
		for _, f := range g.findings {
			if f.Suppression != nil {
				continue
			}
			pkg := f.PackageName
			key := f.PackageID + "\x00" + f.PackageName + "\x00" + f.InstalledVersion
			if key == lastPkg {
				pkg = ""
			}
			lastPkg = key
			t.rows = append(t.rows, []cell{
				{text: clean(pkg)},
				{text: clean(idText(f))},
				{text: severityText(f), color: severityColor[clampSeverity(f.Severity)]},
				{text: clean(f.InstalledVersion)},
				{text: clean(fixedText(f))},
				{text: clean(statusText(f))},
				{text: truncate(clean(titleText(f)), maxTitle)},
			})
		}
		t.write(bw)
	}
	if shown == 0 {
		msg := "\nNo vulnerabilities found."
		if len(r.NotCovered) > 0 {
			msg = "\nNo vulnerabilities found in the packages the database covers."
		}
		if v.suppressed > 0 {
			msg = "\nNo vulnerabilities to show: every finding is suppressed."
		}
		fmt.Fprintln(bw, msg)
	}
}

// maxMessage keeps a misconfiguration's message readable on a terminal.
const maxMessage = 80

// writeRiskSection lists the secrets, malware or misconfigurations found,
// with where each is.
func writeRiskSection(bw io.Writer, g *kindGroup, opts ReportOptions, bold func(string) string) {
	title := kindTitle(g.kind)
	fmt.Fprintf(bw, "\n%s\n%s\n", bold(title), strings.Repeat("=", utf8.RuneCountInString(title)))
	if g.active.total()+g.withdrawn == 0 {
		switch {
		case g.suppressed > 0:
			fmt.Fprintf(bw, "No %s to show: every finding is suppressed.\n", strings.ToLower(title))
		case g.kind == inventory.KindMalware:
			fmt.Fprintln(bw, "No malware found.")
		default:
			fmt.Fprintf(bw, "No %s found.\n", strings.ToLower(title))
		}
		return
	}
	line := "Total: " + fmt.Sprint(g.active.total()) + " (" + countsText(&g.active, opts) + ")"
	if g.suppressed > 0 {
		line += fmt.Sprintf(", %d suppressed", g.suppressed)
	}
	fmt.Fprintln(bw, line)
	fmt.Fprintln(bw)

	layers := false
	for _, f := range g.findings {
		if f.Suppression == nil && layerText(f) != "" {
			layers = true
		}
	}
	var t textTable
	t.color = opts.Color
	row := func(f *inventory.Finding) []cell {
		sev := cell{text: clampSeverity(f.Severity).String(), color: severityColor[clampSeverity(f.Severity)]}
		switch g.kind {
		case inventory.KindSecret:
			return []cell{{text: clean(whereText(f))}, {text: layerText(f)}, {text: clean(f.ID)}, sev, {text: truncate(clean(f.Snippet), maxMessage)}}
		case inventory.KindMalware:
			return []cell{{text: clean(whereText(f))}, {text: layerText(f)}, {text: clean(f.ID)}, sev, {text: truncate(clean(f.Title), maxTitle)}}
		}
		return []cell{{text: clean(f.ID)}, sev, {text: clean(whereText(f))}, {text: layerText(f)}, {text: truncate(clean(messageText(f)), maxMessage)}}
	}
	layerCol := 1
	switch g.kind {
	case inventory.KindSecret:
		t.header = []string{"FILE", "LAYER", "RULE", "SEVERITY", "MATCH"}
	case inventory.KindMalware:
		t.header = []string{"FILE", "LAYER", "DETECTION", "SEVERITY", "TITLE"}
	default:
		t.header = []string{"CHECK", "SEVERITY", "WHERE", "LAYER", "MESSAGE"}
		layerCol = 3
	}
	if !layers {
		t.header = append(t.header[:layerCol:layerCol], t.header[layerCol+1:]...)
	}
	for _, f := range g.findings {
		if f.Suppression != nil {
			continue
		}
		r := row(f)
		if !layers {
			r = append(r[:layerCol:layerCol], r[layerCol+1:]...)
		}
		t.rows = append(t.rows, r)
	}
	t.write(bw)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// writeList prints a titled list of messages, at most limit of them
// (0: all).
func writeList(w io.Writer, title string, items []string, limit int) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(w, title+":")
	for i, m := range items {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "  … %d more (see --format json)\n", len(items)-limit)
			break
		}
		fmt.Fprintln(w, "  "+clean(m))
	}
}

// textTable lays out columns by the width people see, so that colour
// codes do not push cells out of line as they would in text/tabwriter.
type textTable struct {
	color  bool
	header []string
	rows   [][]cell
}

type cell struct {
	text  string
	color string // ANSI sequence, used only when the table is coloured
}

func (t *textTable) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	line := func(cells []cell, bold bool) {
		var b strings.Builder
		// Trailing empty cells would leave trailing spaces.
		last := len(cells) - 1
		for last > 0 && cells[last].text == "" {
			last--
		}
		for i := 0; i <= last; i++ {
			c := cells[i]
			text := c.text
			switch {
			case t.color && bold:
				text = ansiBold + text + ansiReset
			case t.color && c.color != "" && text != "":
				text = c.color + text + ansiReset
			}
			b.WriteString(text)
			if i < last {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
	head := make([]cell, len(t.header))
	for i, h := range t.header {
		head[i] = cell{text: h}
	}
	line(head, true)
	for _, row := range t.rows {
		line(row, false)
	}
}
