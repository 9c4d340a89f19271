// Package deploy holds no code: it holds the files a user copies to run
// stickyprobe for real, and the tests that keep them valid.
//
//   - systemd/stickyprobe-monitor.service: `stickyprobe monitor` as a
//     service, metrics on 127.0.0.1:9341.
//   - systemd/stickyprobe-smoke.service and .timer: `stickyprobe run
//     --prom-textfile` every 15 minutes, for node_exporter's textfile
//     collector.
//   - kubernetes/stickyprobe-monitor.yaml: a Deployment of the monitor with
//     prometheus.io scrape annotations; stickyprobe-servicemonitor.yaml for
//     the Prometheus Operator; stickyprobe-smoke-cronjob.yaml, a suspended
//     CronJob a deploy pipeline runs as a post-deploy smoke test.
//   - prometheus/stickyprobe-alerts.yml: alerting rules.
//   - Dockerfile: the image the Kubernetes examples run.
//
// The tests parse every file (YAML, systemd units, the Dockerfile), run
// `systemd-analyze verify` on the units when it is installed, check that
// the alert rules only name metrics the code exports, and that the
// Kubernetes scrape annotations match the port the monitor listens on.
// cmd/stickyprobe's tests check that every flag the files pass exists.
package deploy
