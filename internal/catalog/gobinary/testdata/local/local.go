// Package local is a test fixture that a main module replaces with this directory.
package local

// Name names the package.
func Name() string { return "local" }
