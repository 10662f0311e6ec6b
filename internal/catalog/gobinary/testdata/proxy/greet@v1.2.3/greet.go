// Package greet is a test fixture served from a local module proxy.
package greet

// Hello greets.
func Hello() string { return "hello" }
