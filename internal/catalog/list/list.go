// Package list holds the explicit list of catalogers. Adding a cataloger
// means adding it here; nothing registers itself.
package list

import (
	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/dpkg"
)

// All returns a fresh instance of every cataloger.
func All() []catalog.Cataloger {
	return []catalog.Cataloger{
		dpkg.New(),
	}
}
