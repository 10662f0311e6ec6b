package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// severityIcon marks a severity where colour is not available.
var severityIcon = map[inventory.Severity]string{
	inventory.SeverityCritical: "🔴",
	inventory.SeverityHigh:     "🟠",
	inventory.SeverityMedium:   "🟡",
	inventory.SeverityLow:      "🔵",
	inventory.SeverityUnknown:  "⚪",
}

// maxMarkdownNotices bounds the notices listed at the top, so that they
// cannot crowd out the findings.
const maxMarkdownNotices = 20

func writeMarkdown(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	limit := opts.MarkdownLimit
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	_, err := io.WriteString(w, renderMarkdown(r, meta, opts, limit))
	return err
}

// renderMarkdown builds the comment. Its length is counted in bytes, which
// is never less than the characters GitHub counts, so a comment within
// limit is within GitHub's. When the findings do not fit, the list is cut
// at a row boundary, every open element is closed, and a note says how
// many findings were left out and where to find them.
func renderMarkdown(r *inventory.Report, meta Meta, opts ReportOptions, limit int) string {
	v := newVulnView(r)
	rv := newRiskView(r, opts)
	var b strings.Builder

	fmt.Fprintf(&b, "### Seawall scan: %s\n\n", mdText(subjectName(r)))
	// all counts every kind; for a vulnerability scan it is v's tally.
	all := v.tally
	for i, n := range rv.active {
		all.active[i] += n
	}
	all.suppressed += rv.suppressed
	total := all.active.total()
	sevParts := func(c *severityCounts) string {
		var parts []string
		for _, s := range severitiesShown(opts) {
			if n := c[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(s.String())))
			}
		}
		return strings.Join(parts, ", ")
	}
	summary := func(kind string, t *tally) {
		n := t.active.total()
		switch {
		case n == 0 && t.suppressed == 0 && kind == inventory.KindMalware:
			b.WriteString("✅ **No malware found**")
		case n == 0 && t.suppressed == 0:
			fmt.Fprintf(&b, "✅ **No %s found**", strings.ToLower(kindTitle(kind)))
		case n == 0:
			fmt.Fprintf(&b, "✅ **No %s to act on**", strings.ToLower(kindTitle(kind)))
		default:
			fmt.Fprintf(&b, "❌ **%s**: %s", kindNoun(kind, n), sevParts(&t.active))
		}
		if t.suppressed > 0 {
			fmt.Fprintf(&b, " · %d suppressed", t.suppressed)
		}
		if t.withdrawn > 0 {
			fmt.Fprintf(&b, " · %d withdrawn", t.withdrawn)
		}
	}
	if opts.legacy() && len(rv.findings) == 0 {
		summary(inventory.KindVulnerability, &v.tally)
		b.WriteString("\n\n")
	} else {
		if opts.looked(inventory.KindVulnerability) || len(v.findings) > 0 {
			b.WriteString("- ")
			summary(inventory.KindVulnerability, &v.tally)
			b.WriteString("\n")
		}
		for _, g := range rv.groups {
			b.WriteString("- ")
			summary(g.kind, &g.tally)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	if total > 0 {
		b.WriteString("| Severity | Findings |\n|---|---:|\n")
		for _, s := range severitiesShown(opts) {
			fmt.Fprintf(&b, "| %s %s | %d |\n", severityIcon[s], severityTitle(s), all.active[s])
		}
		b.WriteString("\n")
	}

	var line []string
	if opts.looked(inventory.KindVulnerability) {
		line = append(line, mdText(upperFirst(dbText(r.DB, meta)))+".")
	}
	if s := filterText(opts); s != "" {
		line = append(line, "Filters: "+mdText(s)+".")
	}
	if len(line) > 0 {
		b.WriteString(strings.Join(line, " ") + "\n\n")
	}
	if len(r.NotCovered) > 0 {
		b.WriteString("**Not checked**, the database covers none of these:\n")
		for _, c := range r.NotCovered {
			b.WriteString("- " + mdText(coverageText(c)) + "\n")
		}
		b.WriteString("\n")
	}
	if len(opts.Notices) > 0 {
		b.WriteString("> [!WARNING]\n")
		for i, n := range opts.Notices {
			if i == maxMarkdownNotices {
				fmt.Fprintf(&b, "> - … %d more (see the log)\n", len(opts.Notices)-maxMarkdownNotices)
				break
			}
			b.WriteString("> - " + mdText(truncate(clean(n), 500)) + "\n")
		}
		b.WriteString("\n")
	}

	// The findings, one collapsible section per severity of
	// vulnerabilities, then one per other kind. Every row is checked
	// against what is left of the limit, keeping room to close the
	// section and say what was cut.
	const header = "| Package | Vulnerability | Installed | Fixed | Title | Found in |\n|---|---|---|---|---|---|\n"
	const closing = "\n</details>\n"
	shown := 0
	cut := false
	for _, s := range severitiesShown(opts) {
		if v.active[s] == 0 || cut {
			continue
		}
		open := ""
		if s >= inventory.SeverityHigh {
			open = " open"
		}
		section := fmt.Sprintf("<details%s>\n<summary><b>%s %s (%d)</b></summary>\n\n%s", open, severityIcon[s], severityTitle(s), v.active[s], header)
		if b.Len()+len(section)+len(closing)+truncationNoteMax > limit {
			cut = true
			break
		}
		b.WriteString(section)
		for _, g := range v.groups {
			for _, f := range g.findings {
				if !f.Active() || clampSeverity(f.Severity) != s {
					continue
				}
				row := markdownRow(f, g.target)
				if b.Len()+len(row)+len(closing)+truncationNoteMax > limit {
					cut = true
					break
				}
				b.WriteString(row)
				shown++
			}
			if cut {
				break
			}
		}
		b.WriteString(closing + "\n")
	}
	for _, g := range rv.groups {
		if g.active.total() == 0 || cut {
			continue
		}
		open := ""
		if g.active[inventory.SeverityCritical]+g.active[inventory.SeverityHigh] > 0 {
			open = " open"
		}
		section := fmt.Sprintf("<details%s>\n<summary><b>%s %s (%d)</b></summary>\n\n%s", open, kindIcon[g.kind], kindTitle(g.kind), g.active.total(), riskHeader(g.kind))
		if b.Len()+len(section)+len(closing)+truncationNoteMax > limit {
			cut = true
			break
		}
		b.WriteString(section)
		// Most severe first, then in report order.
		for _, s := range []inventory.Severity{inventory.SeverityCritical, inventory.SeverityHigh, inventory.SeverityMedium, inventory.SeverityLow, inventory.SeverityUnknown} {
			for _, f := range g.findings {
				if !f.Active() || clampSeverity(f.Severity) != s {
					continue
				}
				row := markdownRiskRow(f)
				if b.Len()+len(row)+len(closing)+truncationNoteMax > limit {
					cut = true
					break
				}
				b.WriteString(row)
				shown++
			}
			if cut {
				break
			}
		}
		b.WriteString(closing + "\n")
	}
	if cut {
		fmt.Fprintf(&b, truncationNote, total-shown, limit)
	}
	out := b.String()
	if len(out) > limit {
		// Only a limit too small for the summary gets here: cut it bluntly,
		// on a character boundary, rather than break the caller's limit.
		out = strings.ToValidUTF8(out[:limit], "")
	}
	return out
}

// kindIcon marks a kind's section.
var kindIcon = map[string]string{
	inventory.KindSecret:           "🔑",
	inventory.KindMalware:          "☣️",
	inventory.KindMisconfiguration: "⚙️",
}

func riskHeader(kind string) string {
	switch kind {
	case inventory.KindSecret:
		return "| Severity | Rule | Where | Layer | Match |\n|---|---|---|---|---|\n"
	case inventory.KindMalware:
		return "| Severity | Detection | Where | Layer | Title |\n|---|---|---|---|---|\n"
	}
	return "| Severity | Check | Where | Layer | Message |\n|---|---|---|---|---|\n"
}

func markdownRiskRow(f *inventory.Finding) string {
	sev := severityIcon[clampSeverity(f.Severity)] + " " + severityTitle(clampSeverity(f.Severity))
	id := mdCell(f.ID)
	if refs := references(f); len(refs) > 0 {
		// Parentheses would end the link early and let a rule's text
		// add Markdown of its own.
		u := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(refs[0])
		id = fmt.Sprintf("[%s](%s)", id, u)
	}
	text := f.Title
	switch f.Kind {
	case inventory.KindSecret:
		text = f.Snippet
	case inventory.KindMisconfiguration:
		text = messageText(f)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", sev, id, mdCell(whereText(f)), mdCell(layerText(f)), mdCell(truncate(clean(text), 120)))
}

// truncationNote ends a comment that was cut; truncationNoteMax is room
// enough for it with any count.
const (
	truncationNote    = "> [!NOTE]\n> %d more findings are not shown: this comment is cut to fit the comment limit of %d characters. Run `seawall scan --format json` (or `table`) for the full report.\n"
	truncationNoteMax = len(truncationNote) + 40
)

func markdownRow(f *inventory.Finding, t target) string {
	id := fmt.Sprintf("[%s](%s)", mdText(f.ID), osvURL(f.ID))
	if n := len(f.Aliases); n > 0 {
		id += fmt.Sprintf(" (+%d)", n)
	}
	fixed := fixedText(f)
	if fixed == "" {
		fixed = "—"
	}
	if f.VEX != nil {
		fixed += " (VEX: " + f.VEX.Status + ")"
	}
	found := t.label()
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n",
		mdCell(f.PackageName), id, mdCell(f.InstalledVersion), mdCell(fixed), mdCell(truncate(clean(titleText(f)), 100)), mdCell(found))
}

func severityTitle(s inventory.Severity) string {
	n := s.String()
	return n[:1] + strings.ToLower(n[1:])
}

// mdCell is text for a table cell: one line, with every character that
// Markdown or HTML would act on escaped.
func mdCell(s string) string {
	return mdText(clean(s))
}

// mdText escapes text from advisories and images so that it renders as
// written: no links, images, HTML, @mentions or #references that the text
// did not mean, and no "|" breaking a table. CommonMark lets a backslash
// escape any ASCII punctuation.
func mdText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '<', '>', '(', ')', '#', '!', '|', '@', '~', '&', '$':
			b.WriteByte('\\')
		case '\n', '\r':
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
