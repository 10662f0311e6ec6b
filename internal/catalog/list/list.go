// Package list holds the explicit list of catalogers. Adding a cataloger
// means adding it here; nothing registers itself.
package list

import (
	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/apk"
	"github.com/seawall-dev/seawall/internal/catalog/composerlock"
	"github.com/seawall-dev/seawall/internal/catalog/dotnet"
	"github.com/seawall-dev/seawall/internal/catalog/dpkg"
	"github.com/seawall-dev/seawall/internal/catalog/gemlock"
	"github.com/seawall-dev/seawall/internal/catalog/gobinary"
	"github.com/seawall-dev/seawall/internal/catalog/java"
	"github.com/seawall-dev/seawall/internal/catalog/javalock"
	"github.com/seawall-dev/seawall/internal/catalog/npm"
	"github.com/seawall-dev/seawall/internal/catalog/npmlock"
	"github.com/seawall-dev/seawall/internal/catalog/nugetlock"
	"github.com/seawall-dev/seawall/internal/catalog/php"
	"github.com/seawall-dev/seawall/internal/catalog/pylock"
	"github.com/seawall-dev/seawall/internal/catalog/python"
	"github.com/seawall-dev/seawall/internal/catalog/rpm"
	"github.com/seawall-dev/seawall/internal/catalog/ruby"
	"github.com/seawall-dev/seawall/internal/catalog/rust"
	"github.com/seawall-dev/seawall/internal/catalog/rustbinary"
)

// All returns a fresh instance of every cataloger.
func All() []catalog.Cataloger {
	return []catalog.Cataloger{
		apk.New(),
		composerlock.New(),
		dotnet.New(),
		dpkg.New(),
		gemlock.New(),
		gobinary.New(),
		java.New(),
		javalock.New(),
		npm.New(),
		npmlock.New(),
		nugetlock.New(),
		php.New(),
		python.New(),
		pylock.New(),
		rpm.New(),
		ruby.New(),
		rust.New(),
		rustbinary.New(),
	}
}
