// Command demo is a tiny long-running program to debug with bluepill-lens.
// It loops forever, calling compute once per tick, so there is always a live
// process to attach to and a line that is hit again and again.
package main

import (
	"fmt"
	"os"
	"time"
)

// compute sums the squares of 1..n; put a breakpoint on the marked line.
func compute(n int) int {
	total := 0
	for i := 1; i <= n; i++ {
		total += i * i // breakpoint here
	}
	return total
}

func main() {
	fmt.Printf("demo: pid %d\n", os.Getpid())
	for tick := 1; ; tick++ {
		result := compute(tick % 100)
		if tick%10 == 0 {
			fmt.Printf("tick %d: compute=%d\n", tick, result)
		}
		// Sleep so an idle demo costs no CPU.
		time.Sleep(200 * time.Millisecond)
	}
}
