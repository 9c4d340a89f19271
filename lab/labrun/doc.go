// Package labrun runs the lab's presets through the probe and shows what
// each got: the table behind `stickyprobe lab`, usable from Go too.
//
// Cases are the lab's rows: a lab preset, the probe spec changes it needs
// (source addresses, a second node to rotate over), and the verdict a
// correct probe gives it against that real load balancer. Run starts the
// backends (shared by rows whose backends behave alike), starts each row's
// load balancer, probes it with pipeline.Run, and renders the rows side by
// side with the line check-config points at in each HAProxy config; a row
// whose verdict differs from its Expect is listed in Result.Unexpected, so
// the lab doubles as a check that these load balancers behave as the probe
// expects. Serve keeps one preset running and prints how to probe, restart
// and break it.
//
// It is a subpackage, not part of lab, because it needs hacheck and the
// pipeline, and hacheck imports lab.
package labrun
