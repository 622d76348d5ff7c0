package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// stateLock is an exclusive flock on STATE_FILE.lock, held while a
// failoverd writes STATE_FILE: each failoverd rewrites the whole file
// from its own memory, so a second one on the same file would erase the
// first one's overrides. The lock is on a file beside the state file
// because the state file itself is replaced by a rename at each write.
type stateLock struct {
	path string // the state file
	f    *os.File
}

// lockState takes the lock of the state file path; a second failoverd
// (or any process holding the lock) makes it fail with an error naming
// the state file, the lock file and the holder's PID. The lock ends with
// release, or with the process.
func lockState(path string) (*stateLock, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state file %s: lock: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.ReadAt(holder, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder[:n]))
			if _, perr := strconv.Atoi(pid); perr != nil {
				pid = "unknown"
			}
			return nil, fmt.Errorf("state file %s is in use by another failoverd (pid %s): %s is locked; give each failoverd its own state_file", path, pid, name)
		}
		return nil, fmt.Errorf("state file %s: locking %s: %w", path, name, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &stateLock{path: path, f: f}, nil
}

// release ends the lock; a nil lock is none.
func (l *stateLock) release() {
	if l != nil {
		l.f.Close()
	}
}
