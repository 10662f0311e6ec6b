module example.com/seawall/old

go 1.22
