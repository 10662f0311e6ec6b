// Package meta holds tests that keep the repository's structure honest:
// every package is documented, the core types stay dependency-free, and no
// package takes a name like util or common.
package meta
