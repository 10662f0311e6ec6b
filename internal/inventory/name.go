package inventory

import "strings"

// NormalizeName returns the canonical spelling of a package name in an
// OSV ecosystem ("PyPI", "Debian:12" …), so that two spellings the
// ecosystem's registry treats as one package compare equal. It changes a
// name only where the registry itself does:
//
//   - PyPI: PEP 503 (lower case, each run of "-", "_" and "." becomes
//     "-"). osv.dev normalises PyPI names the same way on import and query,
//     and the purl spec requires it for pypi PURLs.
//   - NuGet: lower case. Package IDs are case-insensitive on nuget.org.
//   - Packagist: lower case. Composer package names are lower case and
//     packagist.org matches them case-insensitively.
//   - crates.io: lower case, "_" as "-". crates.io refuses a new crate whose
//     name differs from an existing one only in case or in "-" versus "_".
//   - GitHub Actions: lower case; owner/repo names on GitHub are
//     case-insensitive.
//   - Hex and Pub allow only lower-case names; they are left as they are.
//   - npm: exact. The registry still serves old mixed-case packages
//     ("JSONStream") that are distinct from their lower-case namesakes.
//   - RubyGems: exact. Gem names are case-sensitive and old gems that
//     differ only in case exist.
//   - Maven, Go, Hackage, the Linux distributions and everything else:
//     exact (all are case-sensitive).
//
// osv.dev itself normalises only PyPI; the other rules can only add
// matches that differ from osv.dev's answer by spelling, never lose one.
func NormalizeName(ecosystem, name string) string {
	base := ecosystem
	if i := strings.IndexByte(base, ':'); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "PyPI":
		return pep503(name)
	case "NuGet", "Packagist", "GitHub Actions":
		return strings.ToLower(name)
	case "crates.io":
		return strings.ReplaceAll(strings.ToLower(name), "_", "-")
	}
	return name
}

// pep503 lower-cases name and turns each run of "-", "_" and "." into "-".
func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	inSep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			if !inSep {
				b.WriteByte('-')
			}
			inSep = true
			continue
		}
		inSep = false
		b.WriteByte(c)
	}
	return strings.ToLower(b.String())
}
