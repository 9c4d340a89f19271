package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RequestLog is the path of the file HAProxy writes its HTTP request log
// to (HAProxyConfig.HTTPLog), "" when it does not log. The file outlives
// Restart, Reload and Reconfigure, which append to it; when the lab chose
// the path, Stop removes it.
func (h *HAProxy) RequestLog() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.httpLog.path
}

// httpLog copies what haproxy processes write to their fd 3 into one
// file. haproxy cannot be handed the file itself: it sets O_NONBLOCK with
// F_SETFL, which clears O_APPEND, so after a restart the new process would
// write over the old one's lines. Each process gets a pipe instead, and
// whole lines are appended here, so two processes of a reload interleave
// by line.
type httpLog struct {
	path string // "" until a start opened it
	dir  string // the temp dir when the lab chose the path
	mu   sync.Mutex
	file *os.File
	wg   sync.WaitGroup // one copier per process started
}

// httpLogDrain bounds how long Stop waits for the last lines of a process
// that has exited.
const httpLogDrain = 2 * time.Second

// openHTTPLogLocked returns the write end of a new pipe for a haproxy
// process, as the one-element list of its extra descriptors (fd 3), or nil
// when cfg does not log. The caller closes it once the process started.
func (h *HAProxy) openHTTPLogLocked(cfg HAProxyConfig) ([]*os.File, error) {
	if !cfg.HTTPLog {
		return nil, nil
	}
	l := &h.httpLog
	if l.file == nil {
		if err := l.open(cfg.HTTPLogPath); err != nil {
			return nil, err
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("haproxy: request log pipe: %w", err)
	}
	l.wg.Add(1)
	go l.copy(r)
	return []*os.File{w}, nil
}

func (l *httpLog) open(path string) error {
	if path == "" {
		dir, err := os.MkdirTemp("", "stickyprobe-haproxy-log-")
		if err != nil {
			return fmt.Errorf("haproxy: request log dir: %w", err)
		}
		l.dir, path = dir, filepath.Join(dir, "requests.log")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		if l.dir != "" {
			os.RemoveAll(l.dir)
			l.dir = ""
		}
		return fmt.Errorf("haproxy: request log: %w", err)
	}
	l.file, l.path = f, path
	return nil
}

// copy appends whole lines from one process's pipe until it exits.
func (l *httpLog) copy(r *os.File) {
	defer l.wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			l.mu.Lock()
			_, _ = l.file.Write(line)
			l.mu.Unlock()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// closeHTTPLogLocked waits (bounded) for the copiers of exited processes,
// closes the file and removes it when the lab chose its path.
func (h *HAProxy) closeHTTPLogLocked() {
	l := &h.httpLog
	if l.file == nil || h.proc != nil {
		return
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(httpLogDrain):
	}
	l.mu.Lock()
	l.file.Close()
	l.file = nil
	l.mu.Unlock()
	if l.dir != "" {
		os.RemoveAll(l.dir)
		l.dir, l.path = "", ""
	}
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
