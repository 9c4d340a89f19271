//go:build !unix

package lab

// processAlive cannot be checked portably here; HAProxy tests run on unix.
func processAlive(pid int) bool { return false }
