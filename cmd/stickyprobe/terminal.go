package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether w is a character device, so progress and
// carriage returns never end up in a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// useColor: only on a terminal, and never when NO_COLOR is set
// (https://no-color.org) or the terminal is dumb.
func useColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// isTerminalReader reports whether r is a terminal a person can type into.
// A character device is not enough: /dev/null is one, and a pause phase
// reading it would see end-of-file at once.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
