module example.com/seawall/local

go 1.22
