package etcd

import (
	"net/url"
	"strings"

	"github.com/dnsfailover/failover"
)

// The keys under Options.Prefix, each part path-escaped (an instance name
// too: it may hold a space, a comma, a percent sign, a non-ASCII letter):
//
//	instances/INSTANCE                          the instance's name, under its lease
//	election/LEASE                              concurrency.Election's keys
//	verdicts/INSTANCE/ZONE/NAME/TYPE/VALUE      "up" or "down", under the instance's lease
//	decisions/ZONE/NAME/TYPE                    the leader's decision state (no lease)
//	overrides/ZONE/NAME/TYPE/VALUE              an override as JSON (no lease)
//	failbacks/ZONE/NAME/TYPE                    a manual failback request (no lease)
const (
	instancesDir = "instances/"
	electionDir  = "election/"
	verdictsDir  = "verdicts/"
	decisionsDir = "decisions/"
	overridesDir = "overrides/"
	failbacksDir = "failbacks/"
)

func escape(parts ...string) string {
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// unescape splits rest into n path-escaped parts.
func unescape(rest string, n int) ([]string, bool) {
	parts := strings.Split(rest, "/")
	if len(parts) != n {
		return nil, false
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func instancePath(name string) string { return escape(name) }

func parseInstance(rest string) (string, bool) {
	p, ok := unescape(rest, 1)
	if !ok {
		return "", false
	}
	return p[0], true
}

func recordPath(r failover.RecordID) string { return escape(r.Zone, r.Name, r.Type) }

func endpointPath(e failover.EndpointID) string {
	return escape(e.Record.Zone, e.Record.Name, e.Record.Type, e.Value)
}

func parseRecord(rest string) (failover.RecordID, bool) {
	p, ok := unescape(rest, 3)
	if !ok {
		return failover.RecordID{}, false
	}
	return failover.RecordID{Zone: p[0], Name: p[1], Type: p[2]}, true
}

func parseEndpoint(rest string) (failover.EndpointID, bool) {
	p, ok := unescape(rest, 4)
	if !ok {
		return failover.EndpointID{}, false
	}
	return failover.EndpointID{Record: failover.RecordID{Zone: p[0], Name: p[1], Type: p[2]}, Value: p[3]}, true
}
