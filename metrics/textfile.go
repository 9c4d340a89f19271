package metrics

import (
	"bytes"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
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

// WriteAtomic replaces path with data so that a reader (node_exporter, a
// person with cat) sees the old file or the new one, never a half-written
// one (see atomicfile). The temp name starts with a dot and does not end
// in .prom, so the textfile collector never reads it; the file is 0644, as
// node_exporter often runs as another user.
func WriteAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("metrics: textfile %s: %w", path, err)
	}
	return nil
}
