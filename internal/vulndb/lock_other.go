//go:build !unix

package vulndb

import "context"

// lockDir is a no-op where flock is missing; concurrent imports of one
// database are then the caller's to avoid.
func lockDir(ctx context.Context, dbPath string) (func(), error) { return func() {}, nil }
