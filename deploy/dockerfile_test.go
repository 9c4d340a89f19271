package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks the image recipe without building it (a build
// pulls base images from the network): known instructions, a Go as new as
// go.mod's, the package path it builds, a non-root final stage, and the
// monitor's port.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"FROM": true, "ARG": true, "WORKDIR": true, "COPY": true, "RUN": true,
		"USER": true, "EXPOSE": true, "ENTRYPOINT": true}
	var froms, users []string
	var entrypoint, expose, build string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		if !known[instr] {
			t.Errorf("unexpected instruction %q", line)
		}
		switch instr {
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			users = append(users, rest)
		case "ENTRYPOINT":
			entrypoint = rest
		case "EXPOSE":
			expose = rest
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = rest
			}
		}
	}
	if len(froms) != 2 {
		t.Fatalf("FROM %v: want a build stage and a runtime stage", froms)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if want == nil || !strings.HasPrefix(froms[0], "golang:"+string(want[1])) {
		t.Errorf("build stage %q: want golang:%s, the go directive of go.mod", froms[0], want[1])
	}
	pkg := regexp.MustCompile(`\./cmd/\S+`).FindString(build)
	if st, err := os.Stat("../" + pkg); pkg == "" || err != nil || !st.IsDir() {
		t.Errorf("go build of %q: no such package directory", pkg)
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "main.version") {
		t.Errorf("build %q: want a static binary with the version injected", build)
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "0") || strings.HasPrefix(users[len(users)-1], "root") {
		t.Errorf("USER %v: the image must not run as root", users)
	}
	if entrypoint != `["/stickyprobe"]` || expose != "9341" {
		t.Errorf("ENTRYPOINT %s, EXPOSE %s: want the exec form of /stickyprobe and the monitor's port", entrypoint, expose)
	}
}
