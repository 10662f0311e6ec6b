// Package gitleaks holds gitleaks' own default configuration, as data, so
// that a gitleaks config that says `[extend] useDefault = true` means in
// Seawall what it means in gitleaks.
//
// default.toml is gitleaks' config/gitleaks.toml at commit
// b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b (the rules of gitleaks v8.30),
// unchanged. Copyright (c) 2019 Zachary Rice, MIT licence: see LICENSE in
// this directory.
package gitleaks

import _ "embed"

// Default is gitleaks' default configuration (TOML).
//
//go:embed default.toml
var Default []byte
