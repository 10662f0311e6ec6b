package vulndb_test

import (
	"github.com/seawall-dev/seawall/internal/match"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// The matcher reads the database through match.Advisories.
var _ match.Advisories = (*vulndb.DB)(nil)
