//go:build !unix

package main

import (
	"errors"
	"os"
	"time"
)

// errNoRusage: the benchmarks read getrusage, which only unix systems have.
var errNoRusage = errors.New("benchmarks need getrusage, which this system lacks")

func cpuSelf() (user, sys time.Duration, err error) { return 0, 0, errNoRusage }

func peakRSS(*os.ProcessState) int64 { return 0 }

func reportSignal() os.Signal { return nil }

func stopSignal() os.Signal { return os.Kill }
