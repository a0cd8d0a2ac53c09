//go:build unix && !linux

package benchcpu

import "syscall"

const rusageThread = syscall.RUSAGE_SELF // no per-thread usage: the process
