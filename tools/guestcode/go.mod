module bluepill-lens/tools/guestcode

go 1.26

require golang.org/x/tools v0.43.0

require (
	golang.org/x/mod v0.34.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
)
