package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dnsfailover/failover"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// errLeadershipLost ends a session whose leader key is gone.
var errLeadershipLost = errors.New("etcd cluster: leadership lost")

// errTTLRaised ends Run: etcd granted a lease longer than LeaseTTL.
var errTTLRaised = errors.New("etcd cluster: etcd raised the lease TTL")

// session runs one lease's life: it grants the lease, registers the
// instance, loads the view, then renews, watches, campaigns and writes
// until ctx ends, the lease is lost (keepAlive alone decides that) or the
// leadership is (the election key deleted). Its lease is revoked on the way out
// (when etcd can be reached), so that its keys vanish at once; a lease
// that could not be revoked then is revoked before the next one is
// granted, so that the instance's own name is free again.
func (c *Cluster) session(ctx context.Context) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if err := c.revokeStale(sctx); err != nil {
		return c.lost(err)
	}
	sent := time.Now()
	lease, err := call(sctx, c.ttl, func(ctx context.Context) (*clientv3.LeaseGrantResponse, error) {
		return c.cli.Grant(ctx, int64(c.ttl/time.Second))
	})
	if err != nil {
		return c.lost(fmt.Errorf("granting a lease: %w", err))
	}
	if lease.TTL != int64(c.ttl/time.Second) {
		c.revoke(lease.ID)
		return c.lost(fmt.Errorf("%w: LeaseTTL %v was granted as %v (etcd's minimum is 1.5 × its election timeout, rounded up to whole seconds): set LeaseTTL to at least %[3]v",
			errTTLRaised, c.ttl, time.Duration(lease.TTL)*time.Second))
	}
	defer func() {
		if c.revoke(lease.ID) != nil {
			c.stale = lease.ID
		}
	}()
	snap, err := c.register(sctx, lease.ID)
	if err != nil {
		return c.lost(err)
	}

	v := c.viewOf(snap.Responses[1].GetResponseRange().Kvs)
	c.mu.Lock()
	c.v, c.connected, c.err = v, true, ""
	c.expires = sent.Add(time.Duration(lease.TTL) * time.Second)
	clear(c.written) // the old lease's verdicts are gone: publish them again
	for id := range c.own {
		c.dirty[id] = true
	}
	c.changes.Everything = true
	signal(c.changed)
	c.mu.Unlock()
	signal(c.flush)

	var wg sync.WaitGroup
	for _, run := range []func(context.Context, clientv3.LeaseID) error{c.keepAlive, c.campaign, c.flusher} {
		wg.Go(func() {
			if err := run(sctx, lease.ID); err != nil {
				cancel(err)
			}
		})
	}
	wg.Go(func() {
		if err := c.watch(sctx, snap.Header.Revision); err != nil {
			cancel(err)
		}
	})
	<-sctx.Done()
	c.mu.Lock()
	c.stopLeadingLocked()
	c.connected = false
	if ctx.Err() == nil {
		c.err = context.Cause(sctx).Error()
	}
	c.changes.Everything = true
	signal(c.changed)
	c.mu.Unlock()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return context.Cause(sctx)
}

// call runs one request to etcd, bounded by the lease's TTL.
func call[T any](ctx context.Context, ttl time.Duration, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, ttl)
	defer cancel()
	return f(cctx)
}

// lost records why the session ended, for Status, and returns err.
func (c *Cluster) lost(err error) error {
	c.mu.Lock()
	c.err = err.Error()
	c.mu.Unlock()
	return err
}

// revoke revokes the lease within a second. A lease etcd no longer
// knows counts as revoked.
func (c *Cluster) revoke(id clientv3.LeaseID) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.cli.Revoke(ctx, id)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return nil
	}
	return err
}

// revokeStale revokes the lease of an earlier session that could not be
// revoked when it ended: its instance key would keep the name taken until
// it expired.
func (c *Cluster) revokeStale(ctx context.Context) error {
	if c.stale == 0 {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := c.revoke(c.stale); err != nil {
		return fmt.Errorf("revoking the previous lease %x: %w", int64(c.stale), err)
	}
	c.stale = 0
	return nil
}

// register creates the instance's key under the lease, only if no lease
// holds it yet, and reads every key under the prefix, in one transaction:
// two instances of one name cannot both hold it. When another lease holds
// it, register returns a *nameTakenError.
func (c *Cluster) register(ctx context.Context, id clientv3.LeaseID) (*clientv3.TxnResponse, error) {
	key := c.prefix + instancesDir + instancePath(c.name)
	resp, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.TxnResponse, error) {
		return c.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(
			clientv3.OpPut(key, c.name, clientv3.WithLease(id)),
			clientv3.OpGet(c.prefix, clientv3.WithPrefix()),
		).Else(clientv3.OpGet(key)).Commit()
	})
	if err != nil {
		return nil, fmt.Errorf("registering instance %s: %w", c.name, err)
	}
	if resp.Succeeded {
		return resp, nil
	}
	taken := &nameTakenError{name: c.name, left: c.ttl}
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		taken.lease = clientv3.LeaseID(kvs[0].Lease)
	}
	ttl, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.LeaseTimeToLiveResponse, error) {
		return c.cli.TimeToLive(ctx, taken.lease)
	})
	if err == nil && ttl.TTL >= 0 {
		taken.left = time.Duration(ttl.TTL+1) * time.Second // etcd rounds it down
	}
	return nil, taken
}

// nameTakenError reports that another lease holds the instance's name: a
// live instance of the same name, or one that crashed and whose lease has
// not expired yet.
type nameTakenError struct {
	name  string
	lease clientv3.LeaseID
	left  time.Duration // the holding lease's time to live when seen
}

func (e *nameTakenError) Error() string {
	return fmt.Sprintf("instance name %q is held by lease %x", e.name, int64(e.lease))
}

// stopLeadingLocked ends the leadership, if held: the writers' contexts are
// cancelled at once. c.mu is held.
func (c *Cluster) stopLeadingLocked() {
	if !c.leading {
		return
	}
	c.endLead()
	c.leading, c.leaderKey = false, ""
	clear(c.saves)
	clear(c.takes)
	c.changes.Leadership = true
	signal(c.changed)
}

// keepAlive renews the lease every third of its TTL. The expiry it keeps is
// the time the acknowledged renewal was sent plus the TTL: etcd renewed it
// after that, so the lease lasts at least that long. It returns when a
// renewal cannot be acknowledged before that expiry, or etcd no longer
// knows the lease.
func (c *Cluster) keepAlive(ctx context.Context, id clientv3.LeaseID) error {
	for {
		c.mu.Lock()
		expires := c.expires
		c.mu.Unlock()
		sent := time.Now()
		kctx, cancel := context.WithDeadline(ctx, expires)
		resp, err := c.cli.KeepAliveOnce(kctx, id)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil && resp.TTL > 0:
			c.mu.Lock()
			c.expires = sent.Add(time.Duration(resp.TTL) * time.Second)
			c.mu.Unlock()
		case err == nil:
			return errors.New("lease expired")
		case !time.Now().Before(expires):
			return fmt.Errorf("lease expired, not renewed: %w", err)
		}
		next := sent.Add(c.ttl / 3)
		if err != nil {
			next = sent.Add(c.ttl / 10) // try again soon, before the expiry
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// watch applies every change under the prefix after rev to the view. It
// returns only when ctx ends or the leader key is deleted: a failed watch
// (etcd without a leader for a while: the watch asks for a member with
// one, so that a stale view shows) is watched again from the last revision
// applied, after a pause growing from 50 ms to a second, and the view kept
// meanwhile, with Status saying it may be stale; when that revision was
// compacted, the view is read again.
func (c *Cluster) watch(ctx context.Context, rev int64) error {
	pause := 50 * time.Millisecond
	for {
		err := c.watchFrom(ctx, &rev, &pause)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errLeadershipLost):
			return err
		case errors.Is(err, rpctypes.ErrCompacted):
			err = c.reload(ctx, &rev)
			if errors.Is(err, errLeadershipLost) {
				return err
			}
		}
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Sprintf("etcd cluster: %v; view may be stale", err)
			c.mu.Unlock()
		}
		if !wait(ctx, pause) {
			return nil
		}
		pause = min(2*pause, time.Second)
	}
}

// watchFrom watches the prefix after *rev until the watch fails, moving
// *rev to each revision it applies. Once the watch is established it
// clears the error shown in Status and resets *pause.
func (c *Cluster) watchFrom(ctx context.Context, rev *int64, pause *time.Duration) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := c.cli.Watch(wctx, c.prefix, clientv3.WithPrefix(), clientv3.WithRev(*rev+1), clientv3.WithCreatedNotify())
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return fmt.Errorf("watching %s: %w", c.prefix, err)
		}
		c.mu.Lock()
		if wr.Created {
			c.err, *pause = "", 50*time.Millisecond
		}
		for _, ev := range wr.Events {
			key := string(ev.Kv.Key)
			deleted := ev.Type == mvccpb.DELETE
			if deleted && c.leading && key == c.leaderKey {
				c.mu.Unlock()
				return errLeadershipLost
			}
			c.noteLocked(c.v.apply(key[len(c.prefix):], ev.Kv.Value, ev.Kv.ModRevision, ev.Kv.CreateRevision, deleted))
			*rev = ev.Kv.ModRevision
		}
		c.mu.Unlock()
	}
	return fmt.Errorf("watching %s: closed", c.prefix)
}

// reload reads every key under the prefix again and replaces the view by
// them, moving *rev to the revision read: the changes since the view's
// revision were compacted away.
func (c *Cluster) reload(ctx context.Context, rev *int64) error {
	resp, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.GetResponse, error) {
		return c.cli.Get(clientv3.WithRequireLeader(ctx), c.prefix, clientv3.WithPrefix())
	})
	if err != nil {
		return fmt.Errorf("reading %s again after a compaction: %w", c.prefix, err)
	}
	v := c.viewOf(resp.Kvs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leading && !slices.ContainsFunc(resp.Kvs, func(kv *mvccpb.KeyValue) bool { return string(kv.Key) == c.leaderKey }) {
		return errLeadershipLost
	}
	c.v, *rev = v, resp.Header.Revision
	c.changes.Everything = true
	signal(c.changed)
	return nil
}

// wait waits for d, or until ctx ends: it reports whether ctx lives.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// viewOf returns the view of the keys under the prefix kvs.
func (c *Cluster) viewOf(kvs []*mvccpb.KeyValue) view {
	v := newView(c.name)
	for _, kv := range kvs {
		v.apply(string(kv.Key[len(c.prefix):]), kv.Value, kv.ModRevision, kv.CreateRevision, false)
	}
	return v
}

// campaign waits to be elected, then leads until ctx ends. Once elected it
// checks, in one transaction, that its election key is still there and
// reads every decision state, so that the term starts from what the
// previous leader stored last. A campaign that fails (etcd without a
// leader, a request timed out) is started again, after a pause growing
// from 50 ms to a second, under the same lease: only the loss of the
// lease or of the election key ends the session.
func (c *Cluster) campaign(ctx context.Context, id clientv3.LeaseID) error {
	// The election sees a client whose own context is ctx: when it gives up
	// a campaign it resigns with that context, which must not outlive the
	// session (with etcd down, it would wait forever).
	cli := clientv3.NewCtxClient(ctx)
	cli.KV, cli.Watcher, cli.Lease = c.cli.KV, c.cli.Watcher, c.cli.Lease
	// The session only names the lease for the election. It must not renew
	// the lease (keepAlive does, knowing when it was renewed), so its
	// context is done from the start.
	done, stop := context.WithCancel(ctx)
	stop()
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(id), concurrency.WithContext(done))
	if err != nil {
		return fmt.Errorf("election session: %w", err)
	}
	pause := 50 * time.Millisecond
	for {
		err := c.elect(ctx, concurrency.NewElection(sess, c.prefix+electionDir))
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			<-ctx.Done()
			return nil
		case errors.Is(err, errLeadershipLost):
			return err
		}
		c.log.Warn("etcd cluster: campaigning again", "instance", c.name, "err", err)
		if !wait(ctx, pause) {
			return nil
		}
		pause = min(2*pause, time.Second)
	}
}

// elect campaigns in e until elected, then starts the term.
func (c *Cluster) elect(ctx context.Context, e *concurrency.Election) error {
	if err := e.Campaign(ctx, c.name); err != nil {
		return fmt.Errorf("campaigning: %w", err)
	}
	resp, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.TxnResponse, error) {
		return c.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(e.Key()), "=", e.Rev())).
			Then(clientv3.OpGet(c.prefix+decisionsDir, clientv3.WithPrefix())).Commit()
	})
	if err != nil {
		return fmt.Errorf("starting the term: %w", err)
	}
	if !resp.Succeeded {
		return errLeadershipLost
	}
	c.mu.Lock()
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		c.v.apply(string(kv.Key[len(c.prefix):]), kv.Value, kv.ModRevision, kv.CreateRevision, false)
	}
	c.leading, c.term, c.leaderKey = true, e.Rev(), e.Key()
	c.leadCtx, c.endLead = context.WithCancel(ctx)
	c.changes.Leadership = true
	signal(c.changed)
	c.mu.Unlock()
	signal(c.flush) // expired overrides, if any
	return nil
}

// flusher writes what the instance queued, whenever something is queued,
// and removes expired overrides while it leads.
func (c *Cluster) flusher(ctx context.Context, id clientv3.LeaseID) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.flush:
		case <-t.C:
		}
		next, err := c.flushOnce(ctx, id)
		switch {
		case errors.Is(err, errLeadershipLost):
			return err
		case err != nil && ctx.Err() == nil:
			c.log.Warn("etcd cluster: write failed", "instance", c.name, "err", err)
			next = time.Now().Add(c.ttl / 10)
		}
		if next.IsZero() {
			next = time.Now().Add(time.Hour)
		}
		t.Reset(time.Until(next))
	}
}

// flushOnce writes the queued verdicts (in transactions of up to maxOps),
// and, while leading, the queued decision states (only while the leader
// key stands), the failback requests taken and the overrides expired (each
// only if unchanged since it was read). Only what a committed transaction
// wrote is marked written: what a failed one held stays queued, and the
// flusher tries it again. It returns when the next override expires
// (zero: none).
func (c *Cluster) flushOnce(ctx context.Context, id clientv3.LeaseID) (time.Time, error) {
	var verdicts []verdictWrite
	var saves []saveWrite
	var removals []removal // each deleted only if unchanged: a Txn per key
	var nextExpiry time.Time
	now := time.Now()
	c.mu.Lock()
	for ep := range c.dirty {
		h := c.own[ep]
		if c.written[ep] == h {
			delete(c.dirty, ep)
			continue
		}
		verdicts = append(verdicts, verdictWrite{ep, h})
	}
	leaderKey, term := c.leaderKey, c.term
	if c.leading {
		for rec, state := range c.saves {
			saves = append(saves, saveWrite{rec, state})
		}
		for rec, rev := range c.takes {
			removals = append(removals, removal{key: c.prefix + failbacksDir + recordPath(rec), rev: rev, take: &rec})
		}
		for ep, o := range c.v.overrides {
			switch {
			case o.state.Until.IsZero():
			case !now.Before(o.state.Until):
				removals = append(removals, removal{key: c.prefix + overridesDir + endpointPath(ep), rev: o.rev})
			default:
				nextExpiry = earliest(nextExpiry, o.state.Until)
			}
		}
	}
	c.mu.Unlock()

	for chunk := range slices.Chunk(verdicts, maxOps) {
		ops := make([]clientv3.Op, len(chunk))
		for i, v := range chunk {
			key := c.prefix + verdictsDir + instancePath(c.name) + "/" + endpointPath(v.id)
			if v.h == failover.HealthUnknown {
				ops[i] = clientv3.OpDelete(key)
			} else {
				ops[i] = clientv3.OpPut(key, v.h.String(), clientv3.WithLease(id))
			}
		}
		if _, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.TxnResponse, error) {
			return c.cli.Txn(ctx).Then(ops...).Commit()
		}); err != nil {
			return nextExpiry, fmt.Errorf("writing %d verdicts: %w", len(chunk), err)
		}
		c.mu.Lock()
		for _, v := range chunk {
			c.written[v.id] = v.h
			if c.own[v.id] == v.h {
				delete(c.dirty, v.id)
			}
		}
		c.mu.Unlock()
	}

	for chunk := range slices.Chunk(saves, maxOps) {
		ops := make([]clientv3.Op, len(chunk))
		for i, s := range chunk {
			ops[i] = clientv3.OpPut(c.prefix+decisionsDir+recordPath(s.rec), string(s.state))
		}
		resp, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.TxnResponse, error) {
			return c.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(leaderKey), "=", term)).Then(ops...).Commit()
		})
		if err != nil {
			return nextExpiry, fmt.Errorf("writing %d decision states: %w", len(chunk), err)
		}
		if !resp.Succeeded {
			return nextExpiry, errLeadershipLost
		}
		c.mu.Lock()
		for _, s := range chunk {
			if string(c.saves[s.rec]) == string(s.state) {
				delete(c.saves, s.rec)
			}
			if resp.Header.Revision > c.v.decisions[s.rec].rev {
				c.v.decisions[s.rec] = stored{value: s.state, rev: resp.Header.Revision}
			}
		}
		c.mu.Unlock()
	}

	for _, r := range removals {
		if _, err := call(ctx, c.ttl, func(ctx context.Context) (*clientv3.TxnResponse, error) {
			return c.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(r.key), "=", r.rev)).Then(clientv3.OpDelete(r.key)).Commit()
		}); err != nil {
			return nextExpiry, fmt.Errorf("removing %s: %w", r.key, err)
		}
		if r.take != nil {
			c.mu.Lock()
			if c.takes[*r.take] == r.rev {
				delete(c.takes, *r.take)
			}
			c.mu.Unlock()
		}
	}
	return nextExpiry, nil
}

// verdictWrite is one of this instance's verdicts to write (HealthUnknown:
// to delete).
type verdictWrite struct {
	id failover.EndpointID
	h  failover.Health
}

// saveWrite is one decision state to write.
type saveWrite struct {
	rec   failover.RecordID
	state []byte
}

// removal is a key to delete only if its mod revision is still rev: an
// expired override, or a failback request taken (take names its record).
type removal struct {
	key  string
	rev  int64
	take *failover.RecordID
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
