package vulndb

import "github.com/seawall-dev/seawall/internal/inventory"

// NormalizeName returns the form of a package name that the index keys
// on; see inventory.NormalizeName for the rules per ecosystem.
func NormalizeName(ecosystem, name string) string { return inventory.NormalizeName(ecosystem, name) }
