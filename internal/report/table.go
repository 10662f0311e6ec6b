package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func writeTable(w io.Writer, inv *inventory.Inventory) error {
	title := inv.Source.Name
	if inv.Distro != nil {
		name := inv.Distro.PrettyName
		if name == "" {
			name = strings.TrimSpace(inv.Distro.ID + " " + inv.Distro.VersionID)
		}
		if inv.Distro.Distroless {
			name += " (distroless)"
		}
		title += " — " + name
	}
	fmt.Fprintf(w, "%s\n%d packages\n\n", title, len(inv.Packages))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tTYPE\tSOURCE\tLOCATION")
	for _, p := range inv.Packages {
		name := p.Name
		if p.Namespace != "" && p.Type != inventory.TypeDeb && p.Type != inventory.TypeAPK && p.Type != inventory.TypeRPM {
			sep := "/"
			if p.Type == inventory.TypeMaven {
				sep = ":"
			}
			name = p.Namespace + sep + p.Name
		}
		src := ""
		if p.SourceName != "" && (p.SourceName != p.Name || (p.SourceVersion != "" && p.SourceVersion != p.Version)) {
			src = p.SourceName
			if p.SourceVersion != "" && p.SourceVersion != p.Version {
				src += " " + p.SourceVersion
			}
		}
		loc := ""
		if len(p.Locations) > 0 {
			loc = p.Locations[0].Path
			if len(p.Locations) > 1 {
				loc += fmt.Sprintf(" (+%d)", len(p.Locations)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, displayVersion(&p), p.Type, src, loc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := len(inv.Warnings); n > 0 {
		noun := "warnings"
		if n == 1 {
			noun = "warning"
		}
		fmt.Fprintf(w, "\n%d %s (see --format json for all):\n", n, noun)
		for i, m := range inv.Warnings {
			if i == 10 {
				fmt.Fprintf(w, "  … %d more\n", n-10)
				break
			}
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
	return nil
}
