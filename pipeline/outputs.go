package pipeline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
)

// Outputs says where a run's results go. An empty path is not written;
// "-" is stdout, for the outputs that allow it.
type Outputs struct {
	Files        map[string]string // format name (see Formats) → path
	Events       string            // the events file (JSON Lines), streamed as the run goes
	SaveState    string            // the sessions, for a later resume
	PromTextfile string            // the metrics, for node_exporter's textfile collector
	HARAll       bool              // the HAR holds every session, not only the broken ones
	Private      bool              // secrets are in clear: every file is readable by its owner only
	Quiet        bool              // no table on stdout
}

// Output names, as messages and the flags that set them spell them.
const (
	OutputEvents       = "events"
	OutputSaveState    = "save-state"
	OutputPromTextfile = "prom-textfile"
)

// opened is every output of a run, created before the first request so
// that a path that cannot be written is a usage error before any traffic,
// not a lost verdict after all of it.
type opened struct {
	files  []openedFile
	events *os.File
	// eventsDone ends the forced exit's watch on the events file.
	eventsDone func()
	state      *atomicfile.File
	prom       *atomicfile.File
	stdout     string // the output that writes to stdout, "" for the table
}

type openedFile struct {
	format Format
	path   string
	f      *atomicfile.File // nil for stdout
}

// mode is a file's mode: private ones hold secrets in clear.
func (o Outputs) mode() os.FileMode {
	if o.Private {
		return 0o600
	}
	return 0o644
}

// check refuses outputs that cannot all be honoured, before anything is
// created: two on one path, two on stdout, stdout for a file-only format.
func (o Outputs) check() error {
	seen := map[string]string{} // cleaned absolute path → flag
	var onStdout []string
	claim := func(flag, path string, stdoutOK bool) error {
		if path == "" {
			return nil
		}
		if path == "-" {
			if !stdoutOK {
				return fmt.Errorf("--%s writes to a file, not stdout (- is for --json and --events); "+
					"`stickyprobe report --format %s EVENTS` prints it", flag, flag)
			}
			onStdout = append(onStdout, "--"+flag+" -")
			return nil
		}
		key := canonical(path)
		if other, ok := seen[key]; ok {
			return fmt.Errorf("--%s %s and --%s %s: two outputs on one file; give each its own", other, path, flag, path)
		}
		seen[key] = flag
		return nil
	}
	for _, f := range FileFormats() {
		if err := claim(f.Flag, o.Files[f.Name], f.Stdout); err != nil {
			return err
		}
	}
	for _, c := range []struct{ flag, path string }{{OutputEvents, o.Events}, {OutputSaveState, o.SaveState}, {OutputPromTextfile, o.PromTextfile}} {
		if err := claim(c.flag, c.path, c.flag == OutputEvents); err != nil {
			return err
		}
	}
	if len(onStdout) > 1 {
		return fmt.Errorf("%s all want stdout; send all but one of them to a file", strings.Join(onStdout, " and "))
	}
	if o.HARAll && o.Files["har"] == "" {
		return errors.New("--har-all: give --har FILE too")
	}
	return nil
}

// canonical is the path as the file system will find it, so that x.json
// and ./x.json, or a symbolic link to a file, count as one.
func canonical(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// open checks and creates every output. On error nothing is left behind.
func (o Outputs) open() (*opened, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	op := &opened{}
	fail := func(flag, path string, err error) (*opened, error) {
		op.abort()
		return nil, fmt.Errorf("--%s %s: %w", flag, path, err)
	}
	for _, f := range FileFormats() {
		path := o.Files[f.Name]
		switch path {
		case "":
			continue
		case "-":
			op.stdout = f.Name
			op.files = append(op.files, openedFile{format: f, path: path})
			continue
		}
		af, err := atomicfile.Create(path, "--"+f.Flag+" "+path, o.mode())
		if err != nil {
			return fail(f.Flag, path, err)
		}
		op.files = append(op.files, openedFile{format: f, path: path, f: af})
	}
	var err error
	if o.SaveState != "" {
		if op.state, err = atomicfile.Create(o.SaveState, "--save-state "+o.SaveState, 0o600); err != nil {
			return fail(OutputSaveState, o.SaveState, err)
		}
	}
	if o.PromTextfile != "" {
		// node_exporter often runs as another user; metrics hold no secret.
		if op.prom, err = atomicfile.Create(o.PromTextfile, "--prom-textfile "+o.PromTextfile, 0o644); err != nil {
			return fail(OutputPromTextfile, o.PromTextfile, err)
		}
	}
	switch o.Events {
	case "":
	case "-":
		op.stdout = OutputEvents
	default:
		if op.events, err = createStream(o.Events, o.Private); err != nil {
			return fail(OutputEvents, o.Events, err)
		}
		op.eventsDone = atomicfile.Watch("--events " + o.Events + " (no trailer: it replays as an interrupted run)")
	}
	return op, nil
}

// abort removes every temp file and closes the events file.
func (op *opened) abort() {
	for _, f := range op.files {
		if f.f != nil {
			f.f.Abort()
		}
	}
	for _, f := range []*atomicfile.File{op.state, op.prom} {
		if f != nil {
			f.Abort()
		}
	}
	if op.events != nil {
		op.events.Close()
		op.eventsDone()
	}
}

// createStream creates (or truncates) a file written as the run goes, the
// events file: it is not atomic, because a probe that is killed must leave
// what it recorded, which replays as an interrupted run. Mode 0644, or
// 0600 when private, an existing file included.
func createStream(path string, private bool) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	mode := os.FileMode(0o644)
	if private {
		mode = 0o600
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	if private {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// render writes one opened file with its format and commits it.
func (f openedFile) render(stdout io.Writer, in Input) error {
	if f.f == nil {
		return f.format.Render(stdout, in)
	}
	if err := f.format.Render(f.f, in); err != nil {
		f.f.Abort()
		return err
	}
	return f.f.Commit()
}
