package track

import (
	"bytes"
	"os"
	"strconv"
)

// procInfo is what the matchers need to know about one process.
type procInfo struct {
	comm    string
	cmdline []byte // nil when not read
}

// readProc reads a process's name (from /proc/PID/stat, which also tells
// a zombie apart: keepalived, unlike pgrep, does not count those) and, when
// needed, its command line. ok is false when the process is gone or a
// zombie.
func readProc(root string, pid int, wantCmdline bool) (procInfo, bool) {
	dir := root + "/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	open := bytes.IndexByte(stat, '(')
	closing := bytes.LastIndexByte(stat, ')')
	if open < 0 || closing < open || closing+2 >= len(stat) || stat[closing+2] == 'Z' {
		return procInfo{}, false
	}
	info := procInfo{comm: string(stat[open+1 : closing])}
	if wantCmdline {
		if info.cmdline, err = os.ReadFile(dir + "/cmdline"); err != nil {
			return procInfo{}, false
		}
	}
	return info, true
}

// listPIDs returns the process (not thread) IDs in /proc.
func listPIDs(root string) ([]int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() || e.Name()[0] < '1' || e.Name()[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
