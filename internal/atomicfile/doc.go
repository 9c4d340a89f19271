// Package atomicfile is the one way stickyprobe writes a file that a
// reader must see whole: the old version or the new one, never half of
// either, whatever happens to the process meanwhile (a second Ctrl-C,
// SIGKILL, a full disk, a power cut after the rename returns).
//
// Create opens a temp file in the destination's directory at once, so a
// command can prove every output writable before it sends a request;
// Commit syncs it and renames it over the destination; Abort removes it.
// Files not yet committed are tracked, so a forced exit can say which
// outputs it leaves unwritten and remove their temps (AbortAll).
//
// Temp names start with a dot and end in ".tmp-" and random digits, so
// collectors that read *.prom, and people listing the directory, skip them;
// one a killed process left behind is removed by a later write once it is
// older than any write in progress could be.
package atomicfile
