// Package text is a test stand-in for golang.org/x/text.
package text

// Version names this stand-in.
func Version() string { return "x/text stand-in" }
