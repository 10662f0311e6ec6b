// Package net is a test stand-in for golang.org/x/net.
package net

// Version names this stand-in.
func Version() string { return "x/net stand-in" }
