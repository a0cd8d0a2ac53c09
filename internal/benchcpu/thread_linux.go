package benchcpu

const rusageThread = 1 // RUSAGE_THREAD: this thread only
