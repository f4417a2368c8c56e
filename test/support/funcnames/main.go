// Command funcnames prints the name of every function a Go binary's DWARF describes, one per line:
// the compiled ones and those that exist only inlined (abstract DW_TAG_subprogram entries), which
// the symbol table (go tool nm) does not list. Used by test/runsc to check generated tables.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./test/support/funcnames BINARY")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "funcnames:", err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, "funcnames: no DWARF:", err)
		os.Exit(1)
	}
	r := d.Reader()
	seen := map[string]bool{}
	for {
		e, err := r.Next()
		if err != nil {
			fmt.Fprintln(os.Stderr, "funcnames:", err)
			os.Exit(1)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagSubprogram {
			if name, ok := e.Val(dwarf.AttrName).(string); ok && !seen[name] {
				seen[name] = true
				fmt.Println(name)
			}
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
		}
	}
}
