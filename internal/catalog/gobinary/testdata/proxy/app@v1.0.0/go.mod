module example.com/seawall/app

go 1.22

require example.com/seawall/greet v1.2.3
