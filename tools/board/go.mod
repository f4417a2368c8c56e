module bluepilllens/board

go 1.22
