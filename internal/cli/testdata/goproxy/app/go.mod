module example.com/seawall/scanme

go 1.22

require (
	golang.org/x/net v0.5.0
	golang.org/x/text v0.3.6
)
