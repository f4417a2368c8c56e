module bluepilllens/el0probe

go 1.22
