package metrics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// WriteTextfile writes the stickyprobe_* series to path for
// node_exporter's textfile collector (see WriteAtomic). The runtime's go_*
// and process_* series are left out: node_exporter has its own, and a
// duplicate name makes the collector reject the file.
func (m *Metrics) WriteTextfile(path string) error {
	return WriteGathered(path, m.reg)
}

// WriteGathered encodes what g gathers in the text exposition format and
// writes it to path with WriteAtomic.
func WriteGathered(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("metrics: gather: %w", err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	return WriteAtomic(path, buf.Bytes())
}

// staleTemp is how old a leftover temp file must be before a later write
// removes it: older than any write in progress, young enough not to pile up.
const staleTemp = 10 * time.Minute

// WriteAtomic replaces path with data so that a reader (node_exporter, a
// person with cat) sees the old file or the new one, never a half-written
// one, whatever happens to this process meanwhile (SIGKILL, a full disk,
// a power cut after the rename returns). The data goes to a temp file in
// the same directory (a rename is only atomic within one file system),
// which is synced, then renamed over path. The temp name starts with a dot
// and does not end in .prom, so the textfile collector never reads it.
func WriteAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	prefix := "." + base + ".tmp-"
	removeStaleTemps(dir, prefix, time.Now())
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return fmt.Errorf("metrics: textfile: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("metrics: textfile %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	// CreateTemp makes the file 0600; node_exporter often runs as
	// another user.
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("metrics: textfile %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("metrics: textfile: %w", err)
	}
	// Persist the rename itself; failing to is not worth failing the write.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// removeStaleTemps deletes temp files a killed writer left behind.
func removeStaleTemps(dir, prefix string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
