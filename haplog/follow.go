package haplog

import (
	"context"
	"io"
	"os"
	"time"
)

// FollowPoll is how often a followed file is checked for growth.
const FollowPoll = 200 * time.Millisecond

// Follow returns a reader of path that, at the end of the file, waits for
// more instead of ending, as `tail -F` does: when the file is rotated
// (another file now has its name) it finishes the old one and goes on
// with the new one from its start; when it is truncated it starts over.
// It ends (io.EOF) when ctx is done. Close releases the open file. With
// fromEnd it starts at the current end, as a monitor does: what is already
// in the file is history, not news.
func Follow(ctx context.Context, path string, fromEnd bool) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fl := &follower{ctx: ctx, path: path, f: f}
	if fromEnd {
		if fl.pos, err = f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return nil, err
		}
	}
	return fl, nil
}

type follower struct {
	ctx  context.Context
	path string
	f    *os.File
	pos  int64
}

func (fl *follower) Read(p []byte) (int, error) {
	for {
		n, err := fl.f.Read(p)
		fl.pos += int64(n)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if fl.ctx.Err() != nil {
			return 0, io.EOF
		}
		if fl.reopen() {
			continue
		}
		select {
		case <-fl.ctx.Done():
		case <-time.After(FollowPoll):
		}
	}
}

// reopen switches to a rotated or truncated file; it reports whether it
// did, so reading resumes at once.
func (fl *follower) reopen() bool {
	cur, err1 := fl.f.Stat()
	now, err2 := os.Stat(fl.path)
	if err1 != nil || err2 != nil {
		return false
	}
	if !os.SameFile(cur, now) {
		nf, err := os.Open(fl.path)
		if err != nil {
			return false
		}
		fl.f.Close()
		fl.f, fl.pos = nf, 0
		return true
	}
	if now.Size() < fl.pos {
		if _, err := fl.f.Seek(0, io.SeekStart); err == nil {
			fl.pos = 0
			return true
		}
	}
	return false
}

func (fl *follower) Close() error { return fl.f.Close() }
