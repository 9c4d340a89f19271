package report

import (
	"encoding/json"
	"io"
)

// JSON writes the report as indented JSON (schema stickyprobe.report/v1).
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
