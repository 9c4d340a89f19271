package deploy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A subset of the Kubernetes schema: every field the manifests use, decoded
// with unknown fields rejected, so a misspelt key fails here instead of
// being silently ignored by the cluster (which drops unknown fields).

type meta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type httpGet struct {
	Path string `yaml:"path"`
	Port string `yaml:"port"`
}

type probeSpec struct {
	HTTPGet          httpGet `yaml:"httpGet"`
	PeriodSeconds    int     `yaml:"periodSeconds"`
	FailureThreshold int     `yaml:"failureThreshold"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probeSpec `yaml:"livenessProbe"`
	ReadinessProbe *probeSpec `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type podTemplate struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		TerminationGracePeriodSeconds int    `yaml:"terminationGracePeriodSeconds"`
		AutomountServiceAccountToken  *bool  `yaml:"automountServiceAccountToken"`
		RestartPolicy                 string `yaml:"restartPolicy"`
		SecurityContext               struct {
			RunAsNonRoot   bool `yaml:"runAsNonRoot"`
			RunAsUser      int  `yaml:"runAsUser"`
			SeccompProfile struct {
				Type string `yaml:"type"`
			} `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		Containers []container `yaml:"containers"`
	} `yaml:"spec"`
}

type header struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
}

type deployment struct {
	header `yaml:",inline"`
	Spec   struct {
		Replicas int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template podTemplate `yaml:"template"`
	} `yaml:"spec"`
}

type cronJob struct {
	header `yaml:",inline"`
	Spec   struct {
		Schedule                   string `yaml:"schedule"`
		Suspend                    bool   `yaml:"suspend"`
		ConcurrencyPolicy          string `yaml:"concurrencyPolicy"`
		SuccessfulJobsHistoryLimit int    `yaml:"successfulJobsHistoryLimit"`
		FailedJobsHistoryLimit     int    `yaml:"failedJobsHistoryLimit"`
		JobTemplate                struct {
			Spec struct {
				BackoffLimit            int         `yaml:"backoffLimit"`
				ActiveDeadlineSeconds   int         `yaml:"activeDeadlineSeconds"`
				TTLSecondsAfterFinished int         `yaml:"ttlSecondsAfterFinished"`
				Template                podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type service struct {
	header `yaml:",inline"`
	Spec   struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type serviceMonitor struct {
	header `yaml:",inline"`
	Spec   struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port     string `yaml:"port"`
			Path     string `yaml:"path"`
			Interval string `yaml:"interval"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

// manifests decodes every document of every kubernetes/*.yaml strictly
// into the type its kind names.
type manifests struct {
	deployments []deployment
	cronJobs    []cronJob
	services    []service
	monitors    []serviceMonitor
}

func strict(doc []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) < 3 {
		t.Fatalf("kubernetes manifests: found %v, want the monitor, the ServiceMonitor and the CronJob", files)
	}
	var m manifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var h header
			if err := yaml.Unmarshal(doc, &h); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if h.APIVersion == "" || h.Kind == "" || h.Metadata.Name == "" {
				t.Fatalf("%s document %d: apiVersion, kind and metadata.name are required (%+v)", f, i, h)
			}
			var err2 error
			switch h.Kind {
			case "Deployment":
				var d deployment
				err2 = strict(doc, &d)
				m.deployments = append(m.deployments, d)
			case "CronJob":
				var c cronJob
				err2 = strict(doc, &c)
				m.cronJobs = append(m.cronJobs, c)
			case "Service":
				var s service
				err2 = strict(doc, &s)
				m.services = append(m.services, s)
			case "ServiceMonitor":
				var s serviceMonitor
				err2 = strict(doc, &s)
				m.monitors = append(m.monitors, s)
			default:
				t.Fatalf("%s document %d: kind %s has no test", f, i, h.Kind)
			}
			if err2 != nil && !errors.Is(err2, io.EOF) {
				t.Errorf("%s document %d (%s): %v", f, i, h.Kind, err2)
			}
		}
	}
	return m
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func checkPod(t *testing.T, what string, p podTemplate) container {
	t.Helper()
	if len(p.Spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(p.Spec.Containers))
	}
	c := p.Spec.Containers[0]
	if !p.Spec.SecurityContext.RunAsNonRoot || p.Spec.SecurityContext.RunAsUser == 0 {
		t.Errorf("%s: must run as a non-root user", what)
	}
	if c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: no memory limit", what)
	}
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation || !slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL") {
		t.Errorf("%s: want allowPrivilegeEscalation false and every capability dropped", what)
	}
	if len(c.Args) < 2 || !strings.HasPrefix(c.Args[len(c.Args)-1], "http") {
		t.Errorf("%s: args %v should end with the target URL", what, c.Args)
	}
	return c
}

func TestKubernetesMonitorDeployment(t *testing.T) {
	m := loadManifests(t)
	if len(m.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(m.deployments))
	}
	d := m.deployments[0]
	c := checkPod(t, "Deployment", d.Spec.Template)
	if d.Spec.Replicas != 1 {
		t.Errorf("replicas %d: more than one probe multiplies the load and counts findings twice", d.Spec.Replicas)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels", k, v)
		}
	}
	if c.Args[0] != "monitor" {
		t.Errorf("args %v: want the monitor subcommand", c.Args)
	}
	listen, ok := flagValue(c.Args, "listen")
	if !ok {
		t.Fatal("no --listen: the default 127.0.0.1 is unreachable for a scraper outside the pod")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || net.ParseIP(host) == nil || net.ParseIP(host).IsLoopback() {
		t.Errorf("--listen %q: want a non-loopback address in a pod", listen)
	}
	ann := d.Spec.Template.Metadata.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != port {
		t.Errorf("scrape annotations %v do not match --listen %s and /metrics", ann, listen)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port {
		t.Errorf("containerPort %+v does not match --listen port %s", c.Ports, port)
	}
	for name, p := range map[string]*probeSpec{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("%s probe %+v: want GET /healthz on the metrics port", name, p)
		}
	}
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds < 10 {
		t.Error("terminationGracePeriodSeconds too short for the cycle to be cut and the log flushed")
	}

	// The optional Service + ServiceMonitor point at the same pods and port.
	if len(m.services) != 1 || len(m.monitors) != 1 {
		t.Fatalf("%d Services and %d ServiceMonitors, want 1 each", len(m.services), len(m.monitors))
	}
	svc, sm := m.services[0], m.monitors[0]
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selector %s=%s matches no monitor pod", k, v)
		}
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("ServiceMonitor selector %s=%s does not match the Service", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name ||
		len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("Service ports %+v / ServiceMonitor endpoints %+v do not lead to the metrics port", svc.Spec.Ports, sm.Spec.Endpoints)
	}
}

func TestKubernetesSmokeCronJob(t *testing.T) {
	m := loadManifests(t)
	if len(m.cronJobs) != 1 {
		t.Fatalf("%d CronJobs, want 1", len(m.cronJobs))
	}
	cj := m.cronJobs[0]
	job := cj.Spec.JobTemplate.Spec
	c := checkPod(t, "CronJob", job.Template)
	if c.Args[0] != "run" {
		t.Errorf("args %v: a smoke test is one `run`, whose exit code is the verdict", c.Args)
	}
	if fields := strings.Fields(cj.Spec.Schedule); len(fields) != 5 {
		t.Errorf("schedule %q: want 5 cron fields", cj.Spec.Schedule)
	}
	if job.Template.Spec.RestartPolicy != "Never" || job.BackoffLimit != 0 {
		t.Errorf("restartPolicy %q, backoffLimit %d: a failed smoke test is a finding, not something to retry",
			job.Template.Spec.RestartPolicy, job.BackoffLimit)
	}
	if job.ActiveDeadlineSeconds == 0 {
		t.Error("no activeDeadlineSeconds: a hung job would block the pipeline")
	}
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q: two smoke tests at once double the load", cj.Spec.ConcurrencyPolicy)
	}
}
