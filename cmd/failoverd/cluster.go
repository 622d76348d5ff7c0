package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/cluster/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// clusterConfig is the cluster: section. With it, several failoverd with
// the same zones run as one deployment on etcd (package cluster/etcd):
// each checks every endpoint and publishes its verdicts, an endpoint's
// health is the quorum of the live instances' verdicts, and only the
// elected leader writes DNS. Operator state (overrides, manual failback
// requests) is kept in etcd, so that any instance's API sets it and it
// survives the restart of every instance: state_file is refused beside
// cluster:.
//
// A dry run does not join the cluster: it decides alone, from its own
// checks, and writes nothing (as a leader, it would keep the others from
// writing). The connection to etcd is made at start and kept for the
// daemon's life: a reload keeps the instance's lease and leadership; it
// may change quorum:, and a reload that changes anything else of
// cluster: (adds or removes it) is rejected: restart failoverd for that.
type clusterConfig struct {
	// Endpoints are the etcd members' client URLs, such as
	// https://10.0.0.1:2379 (http://, https:// or host:port; never with
	// credentials in them: see Username). Required.
	Endpoints []string `yaml:"endpoints"`
	// CAFile verifies the members' certificates (empty: the system's
	// roots); CertFile and KeyFile, given together, are the client's
	// certificate. Any of them, or an https:// endpoint, makes the
	// connection TLS, host:port endpoints included; an http:// endpoint
	// is then refused (etcd's client would dial it, or every member, in
	// clear). The files are read at start: a reload does not see new
	// contents (restart failoverd after rotating them).
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Username and Password (password_env or password_file), given
	// together, authenticate to an etcd with auth enabled. With them,
	// failoverd authenticates at start, and does not start when etcd
	// cannot be reached within clusterDialTimeout. They are refused with
	// an http:// endpoint, which would send the password in clear.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Instance (default: the host name), Prefix (default /failover/) and
	// LeaseTTL (default 10s; whole seconds, above provider_timeout).
	etcd.Options `yaml:",inline"`
	// Quorum combines the instances' verdicts: the zero value (no field)
	// is a majority; down_at_least: N or healthy_above_percent: X choose
	// another rule.
	Quorum failover.Quorum `yaml:"quorum"`
}

// clusterDialTimeout bounds connecting and authenticating to etcd.
const clusterDialTimeout = 5 * time.Second

func init() {
	fieldRules[reflect.TypeFor[clusterConfig]()] = map[string]rule{
		"Endpoints": {required: true},
		"Password":  {secret: true},
	}
	fieldRules[reflect.TypeFor[etcd.Options]()] = map[string]rule{
		"Client": {deny: true}, // made from endpoints and the TLS files
		"Logger": {deny: true}, // the daemon's log
	}
}

// validateCluster checks the cluster: section, fills in its defaults, and
// sets fc.Config's Cluster and Quorum for the library's validation. The
// Cluster set is a stand-in that is never run: etcd.New starts nothing
// and sends nothing, and the library's New only asks its name and lease.
func (d *decoder) validateCluster(fc *fileConfig) {
	c := fc.Cluster
	if c == nil {
		return
	}
	if fc.StateFile != "" {
		d.failAt("StateFile", "not with cluster: the operators' state is kept in etcd, for every instance; remove state_file")
	}
	tlsOn := c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || slices.ContainsFunc(c.Endpoints, isHTTPS)
	for i, ep := range c.Endpoints {
		err := checkEtcdEndpoint(ep)
		switch {
		case err != nil:
		case isHTTP(ep) && tlsOn:
			err = fmt.Errorf("%s is plaintext beside TLS (an https:// endpoint, ca_file or cert_file): etcd's client would dial it, or every member, in clear; write https:// (a host:port is dialled with TLS)", quote(ep))
		case isHTTP(ep) && c.Username != "":
			err = fmt.Errorf("%s is plaintext, and username: would send the password in clear: use https:// endpoints (with ca_file for a private CA)", quote(ep))
		}
		if err != nil {
			d.failAt(fmt.Sprintf("Cluster.Endpoints[%d]", i), err.Error())
		}
	}
	_, passwordGiven := d.lookup("Cluster.Password")
	switch {
	case c.Username != "" && !passwordGiven:
		d.failAt("Cluster.Username", "username without a password: give password_env (an environment variable) or password_file (a file); etcd's client skips authentication without one")
	case c.Username == "" && passwordGiven:
		d.failAt("Cluster.Password", "a password without username: give both, or neither")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		d.failAt("Cluster.CertFile", "cert_file and key_file go together: give both for a client certificate, or neither")
	} else if _, err := c.tlsConfig(); err != nil {
		d.warnAt("Cluster", clip(err.Error(), 300))
	}
	if c.Instance == "" {
		host, err := os.Hostname()
		if err != nil {
			d.failAt("Cluster.Instance", fmt.Sprintf("not given, and the host name is not known (%v): give instance:", err))
		}
		c.Instance = host
	}
	c.Options.Client = new(clientv3.Client)
	cl, err := etcd.New(c.Options)
	c.Options.Client = nil
	if err != nil {
		for _, e := range unjoin(err) {
			d.failAt("Cluster", e.Error())
		}
		return
	}
	fc.Config.Cluster, fc.Config.Quorum = cl, c.Quorum
	d.alias["Quorum"] = "Cluster.Quorum"
}

// checkEtcdEndpoint checks one etcd client URL. Its error never quotes
// an endpoint with an '@', which may hold a password.
func checkEtcdEndpoint(ep string) error {
	if strings.Contains(ep, "@") {
		return errors.New("holds an '@': credentials in an endpoint are ignored by etcd's client and would be logged; give username: and password_env: or password_file: instead")
	}
	hostPort := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("%s is not an etcd client URL such as https://10.0.0.1:2379", quote(ep))
		}
		hostPort = u.Host
	}
	if _, port, err := net.SplitHostPort(hostPort); err != nil || port == "" {
		return fmt.Errorf("%s has no port: etcd's client port is usually 2379", quote(ep))
	}
	return nil
}

// isHTTP and isHTTPS report whether the etcd endpoint ep is an http://
// or an https:// URL.
func isHTTP(ep string) bool  { return hasScheme(ep, "http://") }
func isHTTPS(ep string) bool { return hasScheme(ep, "https://") }

func hasScheme(ep, scheme string) bool {
	return len(ep) >= len(scheme) && strings.EqualFold(ep[:len(scheme)], scheme)
}

// tlsConfig is the client's TLS configuration: nil when neither a file
// nor an https:// endpoint asks for TLS.
func (c *clusterConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" && c.CertFile == "" && !slices.ContainsFunc(c.Endpoints, isHTTPS) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := readBounded(c.CAFile, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file and key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// client connects to etcd. Without a user name it returns at once and
// connects in the background; with one, it authenticates first.
func (c *clusterConfig) client(ctx context.Context) (*clientv3.Client, error) {
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	endpoints := make([]string, len(c.Endpoints))
	for i, ep := range c.Endpoints {
		if tc != nil && !strings.Contains(ep, "://") {
			ep = "https://" + ep
		}
		endpoints[i] = ep
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: endpoints, TLS: tc, Username: c.Username, Password: c.Password,
		DialTimeout: clusterDialTimeout, Context: ctx, Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: connecting to etcd at %s: %w", strings.Join(c.Endpoints, ", "), err)
	}
	return cli, nil
}

// sameConnection reports whether a and b make the same cluster
// membership: every setting but the quorum, which each Manager applies.
func (a *clusterConfig) sameConnection(b *clusterConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Quorum, y.Quorum = failover.Quorum{}, failover.Quorum{}
	return reflect.DeepEqual(x, y)
}

// clusterOf is the cluster lc's daemon joins: none in a dry run, which
// decides alone, since a dry-run leader would write nothing and keep the
// others from writing.
func (d *daemon) clusterOf(lc *loaded) *clusterConfig {
	if lc.DryRun || d.dryRun {
		return nil
	}
	return lc.Cluster
}

// daemonCluster is the daemon's membership of its cluster: one etcd
// client and one Cluster from start to exit, run by the daemon itself so
// that a reload keeps the instance's lease, its leadership and its
// verdicts. Each Manager gets it through lend.
type daemonCluster struct {
	*etcd.Cluster
	cli   *clientv3.Client
	inUse atomic.Bool
	// failed receives Run's error when it cannot take part at all (an
	// instance name already live, say).
	failed chan error
	stop   func()
}

// startCluster connects to etcd and runs the Cluster until stop is
// called (after the last Manager stopped, so that its last writes are
// made under the lease); stop gives up the leadership, revokes the lease
// and closes the client. It returns nil for a file without cluster:.
func (d *daemon) startCluster(ctx context.Context, c *clusterConfig) (*daemonCluster, error) {
	if c == nil {
		return nil, nil
	}
	cli, err := c.client(ctx)
	if err != nil {
		return nil, err
	}
	opts := c.Options
	opts.Client, opts.Logger = cli, d.log
	cl, err := etcd.New(opts)
	if err != nil {
		cli.Close()
		return nil, err
	}
	dc := &daemonCluster{Cluster: cl, cli: cli, failed: make(chan error, 1)}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cl.Run(runCtx); err != nil {
			dc.failed <- err
		}
	}()
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		logClusterChanges(runCtx, cl, d.log)
	}()
	dc.stop = func() {
		cancel()
		<-done
		<-logged
		cli.Close()
	}
	d.log.Info("cluster: joining", "instance", cl.Instance(), "etcd", strings.Join(c.Endpoints, ","), "prefix", c.Prefix, "lease_ttl", cl.LeaseTTL())
	return dc, nil
}

// logClusterChanges logs the instance's connection and leadership as
// they change, looking every clusterLogEvery, until ctx ends.
func logClusterChanges(ctx context.Context, cl failover.Cluster, log *slog.Logger) {
	var last failover.ClusterStatus
	tick := time.NewTicker(clusterLogEvery)
	defer tick.Stop()
	for {
		s := cl.Status()
		switch {
		case s.Connected && !last.Connected:
			log.Info("cluster: connected", "instance", s.Instance, "instances", strings.Join(s.Instances, ","))
		case !s.Connected && last.Connected:
			log.Warn("cluster: disconnected: this instance writes nothing until it has a lease again", "instance", s.Instance, "err", s.Err)
		}
		if s.Leading != last.Leading {
			log.Info("cluster: leadership", "instance", s.Instance, "leading", s.Leading)
		}
		last = s
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// clusterLogEvery is how often logClusterChanges looks.
const clusterLogEvery = 250 * time.Millisecond

// errClusterInUse is a second Manager's Run of the daemon's Cluster while
// the first still runs.
var errClusterInUse = errors.New("failoverd: the cluster is in use by another Manager")

// lentCluster is the daemon's Cluster as one Manager sees it. The
// Manager's Run of it does not run the Cluster (the daemon does, for its
// whole life): it holds the Cluster for that Manager until its Run ends,
// and refuses another Manager meanwhile, so that one Manager at a time
// reads its changes and writes under its leadership.
type lentCluster struct {
	*etcd.Cluster
	inUse *atomic.Bool
}

// lend returns the Cluster for the next Manager.
func (dc *daemonCluster) lend() *lentCluster { return &lentCluster{dc.Cluster, &dc.inUse} }

// Run holds the Cluster until ctx ends.
func (l *lentCluster) Run(ctx context.Context) error {
	if !l.inUse.CompareAndSwap(false, true) {
		return errClusterInUse
	}
	defer l.inUse.Store(false)
	<-ctx.Done()
	return nil
}

// withdraw takes back the verdicts of the endpoints of the records st
// holds that changed or went away in a reload: their health starts
// afresh (or is no longer checked), so the verdicts published on it must
// not count. Endpoints never published cost nothing.
func (dc *daemonCluster) withdraw(st failover.Status, kept func(failover.RecordID) bool) {
	for _, z := range st.Zones {
		for _, r := range z.Records {
			id := failover.RecordID{Zone: z.Name, Name: r.Name, Type: r.Type}
			if kept(id) {
				continue
			}
			for _, e := range r.Endpoints {
				dc.PublishVerdict(failover.EndpointID{Record: id, Value: e.Value}, failover.HealthUnknown)
			}
		}
	}
}

// onlineCluster connects to the cluster's etcd and reports its members,
// for `failoverd check -online`. It returns false when etcd cannot be
// reached.
func onlineCluster(ctx context.Context, c *clusterConfig, w io.Writer) bool {
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	cli, err := c.client(ctx)
	if err != nil {
		fmt.Fprintf(w, "cluster: %s\n", clip(err.Error(), 400))
		return false
	}
	defer cli.Close()
	members, err := cli.MemberList(ctx)
	if err != nil {
		fmt.Fprintf(w, "cluster: etcd at %s: cannot list the members: %s\n", strings.Join(c.Endpoints, ", "), clip(err.Error(), 400))
		return false
	}
	var names []string
	for _, m := range members.Members {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	live, err := cli.Get(ctx, prefixOf(c.Prefix), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		fmt.Fprintf(w, "cluster: etcd at %s: cannot read %s: %s\n", strings.Join(c.Endpoints, ", "), prefixOf(c.Prefix), clip(err.Error(), 400))
		return false
	}
	fmt.Fprintf(w, "cluster: etcd at %s: %d members (%s), %d keys under %s; this instance is %s\n",
		strings.Join(c.Endpoints, ", "), len(names), strings.Join(names, ", "), live.Count, prefixOf(c.Prefix), c.Instance)
	return true
}

// prefixOf is the key prefix a Cluster uses for p.
func prefixOf(p string) string {
	if p == "" {
		p = etcd.DefaultPrefix
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
