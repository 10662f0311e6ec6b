module example.com/seawall/greet

go 1.22
