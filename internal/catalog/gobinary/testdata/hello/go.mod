module example.com/seawall/hello

go 1.22

require (
	example.com/seawall/greet v1.2.3
	example.com/seawall/local v0.0.0
	example.com/seawall/old v1.0.0
)

replace example.com/seawall/old v1.0.0 => example.com/seawall/new v1.1.0

replace example.com/seawall/local => ../local
