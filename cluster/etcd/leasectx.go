package etcd

import (
	"context"
	"time"
)

// leaseContext keeps the context Lead last handed out. Its zero value is ready
// to use; it is not safe for concurrent use (its owner's lock guards it).
type leaseContext struct {
	lead    context.Context
	expires time.Time
	ctx     context.Context
	cancel  context.CancelFunc // called by nobody: the deadline or lead's end frees it
}

// until returns a context that ends when lead ends, and at expires at the
// latest. It derives a new one only when lead or expires changed since the
// last call: a context handed out before a renewal keeps its earlier
// deadline, before which its holder was to be done anyway.
func (c *leaseContext) until(lead context.Context, expires time.Time) context.Context {
	if c.ctx == nil || c.lead != lead || !c.expires.Equal(expires) {
		c.lead, c.expires = lead, expires
		c.ctx, c.cancel = context.WithDeadline(lead, expires)
	}
	return c.ctx
}
