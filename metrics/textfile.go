package metrics

import (
	"bytes"
	"fmt"
	"io"

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
	data, err := gatherText(g)
	if err != nil {
		return err
	}
	return WriteAtomic(path, data)
}

// WriteText writes the stickyprobe_* series, as WriteTextfile does, to w:
// for a caller that opened the file itself (before a run, to know it can).
func (m *Metrics) WriteText(w io.Writer) error {
	data, err := gatherText(m.reg)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func gatherText(g prometheus.Gatherer) ([]byte, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("metrics: gather: %w", err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return nil, fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	return buf.Bytes(), nil
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
