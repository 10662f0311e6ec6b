// Package list holds the explicit list of catalogers. Adding a cataloger
// means adding it here; nothing registers itself.
package list

import (
	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/apk"
	"github.com/seawall-dev/seawall/internal/catalog/cocoapods"
	"github.com/seawall-dev/seawall/internal/catalog/composerlock"
	"github.com/seawall-dev/seawall/internal/catalog/conan"
	"github.com/seawall-dev/seawall/internal/catalog/conda"
	"github.com/seawall-dev/seawall/internal/catalog/condaenv"
	"github.com/seawall-dev/seawall/internal/catalog/dotnet"
	"github.com/seawall-dev/seawall/internal/catalog/dpkg"
	"github.com/seawall-dev/seawall/internal/catalog/gemlock"
	"github.com/seawall-dev/seawall/internal/catalog/gobinary"
	"github.com/seawall-dev/seawall/internal/catalog/gomod"
	"github.com/seawall-dev/seawall/internal/catalog/hex"
	"github.com/seawall-dev/seawall/internal/catalog/java"
	"github.com/seawall-dev/seawall/internal/catalog/javalock"
	"github.com/seawall-dev/seawall/internal/catalog/julia"
	"github.com/seawall-dev/seawall/internal/catalog/npm"
	"github.com/seawall-dev/seawall/internal/catalog/npmlock"
	"github.com/seawall-dev/seawall/internal/catalog/nugetlock"
	"github.com/seawall-dev/seawall/internal/catalog/nugetproj"
	"github.com/seawall-dev/seawall/internal/catalog/php"
	"github.com/seawall-dev/seawall/internal/catalog/pub"
	"github.com/seawall-dev/seawall/internal/catalog/pylock"
	"github.com/seawall-dev/seawall/internal/catalog/python"
	"github.com/seawall-dev/seawall/internal/catalog/rpm"
	"github.com/seawall-dev/seawall/internal/catalog/ruby"
	"github.com/seawall-dev/seawall/internal/catalog/rust"
	"github.com/seawall-dev/seawall/internal/catalog/rustbinary"
	"github.com/seawall-dev/seawall/internal/catalog/swift"
)

// All returns a fresh instance of every cataloger.
func All() []catalog.Cataloger {
	return []catalog.Cataloger{
		apk.New(),
		cocoapods.New(),
		composerlock.New(),
		conan.New(),
		conda.New(),
		condaenv.New(),
		dotnet.New(),
		dpkg.New(),
		gemlock.New(),
		gobinary.New(),
		gomod.New(),
		hex.New(),
		java.New(),
		javalock.New(),
		julia.New(),
		npm.New(),
		npmlock.New(),
		nugetlock.New(),
		nugetproj.New(),
		php.New(),
		pub.New(),
		python.New(),
		pylock.New(),
		rpm.New(),
		ruby.New(),
		rust.New(),
		rustbinary.New(),
		swift.New(),
	}
}
