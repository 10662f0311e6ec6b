// Package old is a test fixture: a fork published as example.com/seawall/new
// that keeps its original module path, as forks used with replace do.
package old

// Name names the package.
func Name() string { return "new" }
