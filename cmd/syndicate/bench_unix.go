//go:build unix

package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// cpuSelf returns the user and system CPU time this process has used, all
// its threads included.
func cpuSelf() (user, sys time.Duration, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), nil
}

// peakRSS is the largest resident set of an exited child, in bytes.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss
	}
	return ru.Maxrss * 1024
}

// reportSignal asks the idle benchmark's child for its CPU time so far.
func reportSignal() os.Signal { return syscall.SIGUSR1 }

// stopSignal asks a child to stop as an operator would.
func stopSignal() os.Signal { return syscall.SIGTERM }
