package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/etalase/etalase/infra/localrun/lambda"
)

// requestsRun is what the requests scenario measured: the meter's and the pools'
// counters around it, and the split of the expiry consumer's work.
type requestsRun struct {
	Paid, Unpaid int
	// Before and After bracket the whole scenario; ExpiredAt is when the expiry
	// consumer had expired the unpaid orders and not yet seen a paid order's message.
	Before, ExpiredAt, After Snapshot
	// ExpirySplit says whether ExpiredAt separates the two kinds of expiry messages.
	ExpirySplit bool
	Pools       map[string]lambda.Stats
	Outbox      map[string]int // records written, by type
	Took        time.Duration
}

// runRequests runs the requests scenario on the metered runner: unpaid buyers first
// (hand-off, add to cart, checkout), a pause, then paying buyers (the same and a
// Xendit PAID notification right after the checkout), conc at a time, and waits until
// everything settled: paid orders PAID, unpaid ones EXPIRED, every expiry message
// consumed, relay and inbox done, queues empty. Each function does one kind of work in
// it, so its counters are that operation's.
func runRequests(ctx context.Context, m *metered, paid, unpaid, conc int) (*requestsRun, error) {
	t0 := time.Now()
	env := m.env
	if err := m.settle(ctx, 30*time.Second, 300*time.Millisecond, nil); err != nil {
		return nil, fmt.Errorf("before the scenario: %w", err)
	}
	run := &requestsRun{Paid: paid, Unpaid: unpaid, Before: m.meter.Snapshot()}
	pools0 := m.poolStats()
	out0, err := m.outboxTypes(ctx)
	if err != nil {
		return nil, err
	}

	// Watch the expiry consumer: once it has expired the unpaid orders, and before
	// the paid orders' messages come, its counters so far are the expiries'.
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watch sync.WaitGroup
	var split Snapshot
	splitOK := false
	watch.Go(func() {
		for watchCtx.Err() == nil {
			s := m.meter.Snapshot()
			d := s.Sub(run.Before).Calls.Function(fnExpiry)
			tx, gets := 0, 0
			for k, t := range d {
				switch k.Operation {
				case "TransactWriteItems":
					tx += t.Requests - t.Errors
				case "GetItem":
					gets += t.Requests
				}
			}
			if tx >= unpaid && m.r.Functions[fnExpiry].Pool.Stats().Busy == 0 {
				split, splitOK = s, gets == tx
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	defer func() { stopWatch(); watch.Wait() }()

	env.Progressf("requests: %d buyers who will not pay (hand-off, add to cart, checkout)", unpaid)
	unpaidOrders, err := m.buyMany(ctx, unpaid, conc, buyOptions{})
	if err != nil {
		return nil, err
	}
	// A pause, so that the unpaid orders' expiry messages come before the paid ones'.
	time.Sleep(700 * time.Millisecond)
	env.Progressf("requests: %d buyers who pay (hand-off, add to cart, checkout, Xendit PAID notification)", paid)
	paidOrders, err := m.buyMany(ctx, paid, conc, buyOptions{pay: true})
	if err != nil {
		return nil, err
	}
	env.Progressf("requests: waiting for payments, expiries (payment window %s), relay and inbox to settle", MeteredWindow)
	expiryGets := func() int {
		n := 0
		for k, t := range m.meter.Snapshot().Sub(run.Before).Calls.Function(fnExpiry) {
			if k.Operation == "GetItem" {
				n += t.Requests
			}
		}
		return n
	}
	err = m.settle(ctx, 60*time.Second, 300*time.Millisecond, func() (bool, error) {
		if expiryGets() < paid+unpaid {
			return false, nil
		}
		st, err := m.statuses(ctx, append(append([]placedOrder(nil), paidOrders...), unpaidOrders...))
		if err != nil {
			return false, err
		}
		for _, o := range paidOrders {
			if st[o.id] != "PAID" {
				return false, nil
			}
		}
		for _, o := range unpaidOrders {
			if st[o.id] != "EXPIRED" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		st, _ := m.statuses(ctx, append(append([]placedOrder(nil), paidOrders...), unpaidOrders...))
		counts := map[string]int{}
		for _, v := range st {
			counts[v]++
		}
		return nil, fmt.Errorf("%w (order statuses %v, expiry messages read %d of %d)", err, counts, expiryGets(), paid+unpaid)
	}
	stopWatch()
	watch.Wait()
	run.After = m.meter.Snapshot()
	run.ExpiredAt, run.ExpirySplit = split, splitOK
	if !splitOK {
		run.ExpiredAt = run.After
	}
	run.Pools = subStats(m.poolStats(), pools0)
	if run.Outbox, err = m.outboxSince(ctx, out0); err != nil {
		return nil, err
	}
	run.Took = time.Since(t0)
	if len(run.Outbox) == 0 {
		return run, errors.New("the scenario wrote no outbox record")
	}
	return run, nil
}
