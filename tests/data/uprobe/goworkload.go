// goworkload.go - uprobes on a Go program (test_kernel_uprobe.c): four
// goroutines, each locked to a thread of its own, call outer() 1000 times;
// outer (which checks its stack first: Go's prologue, a cmp and a jbe in
// its first bytes) calls tiny (a lone ret, padded with int3s) and work (a
// leaf taking its argument in rax, Go's register ABI).  Built with cgo, so
// it is dynamically linked, as a Go program the agent could be preloaded
// into.
package main

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

var glob int

//go:noinline
func tiny() {}

//go:noinline
func work(i int) int { return i*3 + glob }

//go:noinline
func outer(i int) int {
	tiny()
	return work(i)
}

func main() {
	var wg sync.WaitGroup
	sums := make([]int, 4)

	C.free(nil)
	for t := 0; t < 4; t++ {
		wg.Add(1)
		go func(t int) {
			runtime.LockOSThread()
			for i := 0; i < 1000; i++ {
				sums[t] += outer(i)
			}
			wg.Done()
		}(t)
	}
	wg.Wait()
	fmt.Println("sum", sums[0]+sums[1]+sums[2]+sums[3])
}
