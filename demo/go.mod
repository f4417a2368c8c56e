module demo

go 1.22
