//go:build linux

// Command procmon samples the CPU time and resident memory of named
// processes (and the whole machine's CPU) from /proc until SIGTERM or
// SIGINT, then prints a JSON summary. The load benchmark
// (bench/load/run.sh) watches the IVR server, the RTP peer and SIPp with
// it.
//
//	procmon -interval 1s -json out.json -csv timeline.csv server=1234 sipp=5678
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on Linux
// for every architecture Go supports).
const userHZ = 100

// target is one watched process.
type target struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`

	CPUAvgPct  float64 `json:"cpu_avg_pct"`  // over the whole sampling, % of one core
	CPUMaxPct  float64 `json:"cpu_max_pct"`  // highest one-interval sample
	RSSPeakMiB float64 `json:"rss_peak_mib"` // VmHWM: the kernel's high-water mark
	RSSLastMiB float64 `json:"rss_last_mib"`
	Threads    int     `json:"threads_max"`
	Exited     bool    `json:"exited"` // the process ended while watched

	firstTicks, lastTicks uint64
	firstAt, lastAt       time.Time
	seen                  bool
}

// summary is the JSON printed at the end.
type summary struct {
	IntervalS     float64   `json:"interval_s"`
	Samples       int       `json:"samples"`
	CPUs          int       `json:"cpus"`
	SystemBusyAvg float64   `json:"system_busy_avg_pct"` // all cores, % of the machine
	SystemBusyMax float64   `json:"system_busy_max_pct"`
	Procs         []*target `json:"procs"`
}

func main() {
	interval := flag.Duration("interval", time.Second, "sampling interval")
	jsonPath := flag.String("json", "", "write the summary here as well as to stdout")
	csvPath := flag.String("csv", "", "write one line per sample: unix time, system busy %, then cpu % and RSS MiB of each process")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("procmon: ")
	var ts []*target
	for _, a := range flag.Args() {
		name, pid, ok := strings.Cut(a, "=")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 {
			log.Fatalf("%q: want name=pid", a)
		}
		ts = append(ts, &target{Name: name, PID: n})
	}
	if len(ts) == 0 {
		log.Fatal("no processes to watch: give name=pid arguments")
	}
	var csv *bufio.Writer
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		csv = bufio.NewWriter(f)
		defer csv.Flush()
		fmt.Fprint(csv, "unix_s,system_busy_pct")
		for _, t := range ts {
			fmt.Fprintf(csv, ",%s_cpu_pct,%s_rss_mib", t.Name, t.Name)
		}
		fmt.Fprintln(csv)
	}

	sum := summary{IntervalS: interval.Seconds(), CPUs: runtime.NumCPU(), Procs: ts}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	prevBusy, prevTotal, _ := systemTicks()
	firstBusy, firstTotal := prevBusy, prevTotal
	sample(ts, nil) // baseline
loop:
	for {
		select {
		case <-sig:
			break loop
		case <-tick.C:
		}
		busy, total, err := systemTicks()
		sysPct := 0.0
		if err == nil && total > prevTotal {
			sysPct = 100 * float64(busy-prevBusy) / float64(total-prevTotal)
			prevBusy, prevTotal = busy, total
		}
		sum.SystemBusyMax = max(sum.SystemBusyMax, sysPct)
		sum.Samples++
		if csv != nil {
			fmt.Fprintf(csv, "%.3f,%.1f", float64(time.Now().UnixMilli())/1e3, sysPct)
		}
		sample(ts, csv)
		if csv != nil {
			fmt.Fprintln(csv)
		}
	}
	if prevTotal > firstTotal {
		sum.SystemBusyAvg = round1(100 * float64(prevBusy-firstBusy) / float64(prevTotal-firstTotal))
	}
	sum.SystemBusyMax = round1(sum.SystemBusyMax)
	for _, t := range ts {
		if d := t.lastAt.Sub(t.firstAt).Seconds(); d > 0 {
			t.CPUAvgPct = round1(100 * float64(t.lastTicks-t.firstTicks) / userHZ / d)
		}
		t.CPUMaxPct = round1(t.CPUMaxPct)
	}
	out, err := json.Marshal(sum)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	if *jsonPath != "" {
		if err := os.WriteFile(*jsonPath, append(out, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// sample reads each live process once, updating its peaks, and appends
// its CPU % since the previous sample and its RSS to csv.
func sample(ts []*target, csv *bufio.Writer) {
	now := time.Now()
	for _, t := range ts {
		cpuPct, rss := 0.0, 0.0
		if !t.Exited {
			ticks, err := procTicks(t.PID)
			st, err2 := procStatus(t.PID)
			if err != nil || err2 != nil {
				t.Exited = t.seen
			} else {
				if !t.seen {
					t.firstTicks, t.firstAt, t.seen = ticks, now, true
				} else if d := now.Sub(t.lastAt).Seconds(); d > 0 {
					cpuPct = 100 * float64(ticks-t.lastTicks) / userHZ / d
					t.CPUMaxPct = max(t.CPUMaxPct, cpuPct)
				}
				t.lastTicks, t.lastAt = ticks, now
				rss = st.rssMiB
				t.RSSLastMiB = round1(st.rssMiB)
				t.RSSPeakMiB = max(t.RSSPeakMiB, round1(st.hwmMiB))
				t.Threads = max(t.Threads, st.threads)
			}
		}
		if csv != nil {
			fmt.Fprintf(csv, ",%.1f,%.1f", cpuPct, rss)
		}
	}
}

// procTicks is utime+stime of a process (proc(5): fields 14 and 15 of
// /proc/PID/stat, counted after the parenthesised command name, which may
// hold spaces).
func procTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("stat: short")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("stat: bad cpu times")
	}
	return u + s, nil
}

type status struct {
	rssMiB, hwmMiB float64
	threads        int
}

// procStatus reads VmRSS, VmHWM and Threads from /proc/PID/status.
func procStatus(pid int) (status, error) {
	var st status
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			st.rssMiB = n / 1024 // kB
		case "VmHWM":
			st.hwmMiB = n / 1024
		case "Threads":
			st.threads = int(n)
		}
	}
	if st.rssMiB == 0 && st.hwmMiB == 0 {
		return st, errors.New("status: no memory lines (zombie?)")
	}
	return st, nil
}

// systemTicks reads the aggregate "cpu" line of /proc/stat: busy ticks
// (everything but idle and iowait) and the total.
func systemTicks() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	// user nice system idle iowait irq softirq steal (guest is inside user).
	for i, s := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
