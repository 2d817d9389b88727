// workload.go - the trace tests' workload as a Go program: Go makes its
// system calls itself (no libc), from threads it starts on its own, and
// preempts goroutines with signals.  An open that succeeds, one that fails,
// four opens from goroutines locked to their own threads, then an exec of
// /bin/true.
package main

import (
	"os"
	"runtime"
	"sync"
	"syscall"
)

func main() {
	if f, err := os.Open("/etc/hostname"); err == nil {
		f.Close()
	}
	if _, err := os.Open("/nonexistent/bpfvm-trace"); err == nil {
		os.Exit(1)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			if f, err := os.Open("/etc/passwd"); err == nil {
				f.Close()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	syscall.Exec("/bin/true", []string{"true"}, nil)
	os.Exit(1)
}
