package sources

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// Schedule is a parsed EventBridge schedule expression: rate(), cron() or, for
// EventBridge Scheduler, at().
type Schedule struct {
	expr  string
	every time.Duration
	at    time.Time
	cron  *cronSpec
	loc   *time.Location
}

// String returns the expression.
func (s Schedule) String() string { return s.expr }

// In returns the schedule evaluated in loc instead of UTC, as EventBridge Scheduler's
// ScheduleExpressionTimezone does. It does not change rate().
func (s Schedule) In(loc *time.Location) Schedule {
	s.loc = loc
	if !s.at.IsZero() {
		s.at = time.Date(s.at.Year(), s.at.Month(), s.at.Day(), s.at.Hour(), s.at.Minute(), s.at.Second(), 0, loc)
	}
	return s
}

// Next returns the first fire time strictly after after, or the zero time if there is
// none. A rate schedule fires every period from when it starts, so its Next is after
// plus the period; cron and at times are whole minutes (seconds for at) in the
// schedule's location, UTC unless In says otherwise.
func (s Schedule) Next(after time.Time) time.Time {
	switch {
	case s.every > 0:
		return after.Add(s.every)
	case !s.at.IsZero():
		if s.at.After(after) {
			return s.at
		}
		return time.Time{}
	case s.cron != nil:
		return s.cron.next(after, s.location())
	}
	return time.Time{}
}

func (s Schedule) location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// ParseSchedule parses "rate(5 minutes)", "cron(0/15 * * * ? *)" or
// "at(2026-01-02T15:04:05)".
//
// rate takes a positive whole number and minute, hour or day, singular for 1 and
// plural otherwise, as EventBridge requires. cron takes AWS's six fields — minutes,
// hours, day-of-month, month, day-of-week, year — with , - * / in every field, ? in
// exactly one of day-of-month and day-of-week, month and weekday names (JAN, SUN),
// weekdays numbered 1 (SUN) to 7 (SAT), L and W in day-of-month (L, LW, 15W) and
// L and # in day-of-week (6L, 2#1).
func ParseSchedule(expr string) (Schedule, error) {
	e := strings.TrimSpace(expr)
	open := strings.IndexByte(e, '(')
	if open < 0 || !strings.HasSuffix(e, ")") {
		return Schedule{}, fmt.Errorf("schedule %q: want rate(...), cron(...) or at(...)", expr)
	}
	kind, body := e[:open], strings.TrimSpace(e[open+1:len(e)-1])
	switch kind {
	case "rate":
		d, err := parseRate(body)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", expr, err)
		}
		return Schedule{expr: e, every: d}, nil
	case "cron":
		c, err := parseCron(body)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", expr, err)
		}
		return Schedule{expr: e, cron: c}, nil
	case "at":
		t, err := time.Parse("2006-01-02T15:04:05", body)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: want at(yyyy-mm-ddThh:mm:ss)", expr)
		}
		return Schedule{expr: e, at: t}, nil
	}
	return Schedule{}, fmt.Errorf("schedule %q: want rate(...), cron(...) or at(...)", expr)
}

// parseRate parses the inside of rate().
func parseRate(body string) (time.Duration, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 {
		return 0, errors.New("rate needs a value and a unit")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rate value %q is not a positive whole number", fields[0])
	}
	unit := fields[1]
	singular := strings.TrimSuffix(unit, "s")
	var d time.Duration
	switch singular {
	case "minute":
		d = time.Minute
	case "hour":
		d = time.Hour
	case "day":
		d = 24 * time.Hour
	default:
		return 0, fmt.Errorf("rate unit %q is not minute(s), hour(s) or day(s)", unit)
	}
	if n == 1 && unit != singular {
		return 0, fmt.Errorf("rate of 1 needs the singular unit %q", singular)
	}
	if n > 1 && unit == singular {
		return 0, fmt.Errorf("rate of %d needs the plural unit %q", n, singular+"s")
	}
	return time.Duration(n) * d, nil
}

// cronSpec is a parsed six-field cron expression.
type cronSpec struct {
	minutes, hours, months bitset
	dom, dow               bitset
	years                  bitset // bit i is year minYear+i
	domAny, dowAny         bool   // the field is ?
	domLast                bool   // L
	domLastWeekday         bool   // LW
	domNearWeekday         int    // 15W: the weekday nearest the 15th
	dowLast                int    // 6L: the last Friday
	dowNth, dowNthWeek     int    // 2#1: the first Monday
}

// bitset holds small non-negative numbers.
type bitset [4]uint64

func (b *bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *bitset) has(i int) bool { return i >= 0 && i < 256 && b[i/64]&(1<<(i%64)) != 0 }
func (b *bitset) empty() bool    { return *b == bitset{} }

// The year field's range.
const (
	minYear = 1970
	maxYear = 2199
)

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// parseCron parses the inside of cron().
func parseCron(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cronSpec{}
	var err error
	if c.minutes, err = parseField(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if c.hours, err = parseField(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if c.months, err = parseField(f[3], 1, 12, monthNames); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	if c.years, err = parseField(f[5], minYear, maxYear, nil); err != nil {
		return nil, fmt.Errorf("year: %w", err)
	}
	c.domAny, c.dowAny = f[2] == "?", f[4] == "?"
	if c.domAny == c.dowAny {
		return nil, errors.New("exactly one of day-of-month and day-of-week must be ?")
	}
	if !c.domAny {
		if err := c.parseDayOfMonth(f[2]); err != nil {
			return nil, fmt.Errorf("day-of-month: %w", err)
		}
	}
	if !c.dowAny {
		if err := c.parseDayOfWeek(f[4]); err != nil {
			return nil, fmt.Errorf("day-of-week: %w", err)
		}
	}
	return c, nil
}

// parseDayOfMonth parses day-of-month, with L, LW and nW.
func (c *cronSpec) parseDayOfMonth(s string) error {
	switch {
	case s == "L":
		c.domLast = true
		return nil
	case s == "LW":
		c.domLastWeekday = true
		return nil
	case strings.HasSuffix(s, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "W"))
		if err != nil || n < 1 || n > 31 {
			return fmt.Errorf("%q: W needs a day from 1 to 31", s)
		}
		c.domNearWeekday = n
		return nil
	}
	b, err := parseField(s, 1, 31, nil)
	c.dom = b
	return err
}

// parseDayOfWeek parses day-of-week, with L, nL and n#k.
func (c *cronSpec) parseDayOfWeek(s string) error {
	switch {
	case s == "L":
		c.dow.set(7) // the last day of the week, Saturday
		return nil
	case strings.HasSuffix(s, "L"):
		n, err := dayValue(strings.TrimSuffix(s, "L"))
		if err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		c.dowLast = n
		return nil
	case strings.Contains(s, "#"):
		day, week, _ := strings.Cut(s, "#")
		n, err := dayValue(day)
		if err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		k, err := strconv.Atoi(week)
		if err != nil || k < 1 || k > 5 {
			return fmt.Errorf("%q: # needs a week from 1 to 5", s)
		}
		c.dowNth, c.dowNthWeek = n, k
		return nil
	}
	b, err := parseField(s, 1, 7, dayNames)
	c.dow = b
	return err
}

// dayValue parses one weekday, a number 1–7 or a name.
func dayValue(s string) (int, error) {
	if n, ok := dayNames[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 7 {
		return 0, fmt.Errorf("weekday %q is not 1-7 or SUN-SAT", s)
	}
	return n, nil
}

// parseField parses a comma-separated list of *, n, n-m, */s, n/s and n-m/s. A range
// whose end is below its start wraps around (FRI-MON). Years are stored as offsets
// from minYear.
func parseField(s string, lo, hi int, names map[string]int) (bitset, error) {
	var b bitset
	off := 0
	if lo == minYear {
		off = minYear
	}
	value := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v)
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("%d is not between %d and %d", n, lo, hi)
		}
		return n, nil
	}
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return b, fmt.Errorf("empty item in %q", s)
		}
		if strings.Contains(item, "?") {
			return b, errors.New("? is only for day-of-month or day-of-week, alone")
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return b, fmt.Errorf("step %q is not a positive number", stepText)
			}
			step = n
		}
		start, end := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, z, _ := strings.Cut(rng, "-")
			var err error
			if start, err = value(a); err != nil {
				return b, err
			}
			if end, err = value(z); err != nil {
				return b, err
			}
		default:
			n, err := value(rng)
			if err != nil {
				return b, err
			}
			start, end = n, n
			if hasStep {
				end = hi
			}
		}
		// Walk from start to end, wrapping past hi back to lo.
		span := end - start
		if span < 0 {
			span += hi - lo + 1
		}
		for i := 0; i <= span; i += step {
			v := start + i
			if v > hi {
				v -= hi - lo + 1
			}
			b.set(v - off)
		}
	}
	if b.empty() {
		return b, fmt.Errorf("%q matches nothing", s)
	}
	return b, nil
}

// next returns the first minute strictly after after that matches, in loc, or zero
// before the end of the year field's range.
func (c *cronSpec) next(after time.Time, loc *time.Location) time.Time {
	t := after.In(loc).Truncate(time.Minute).Add(time.Minute)
	y, mo, d := t.Date()
	h, mi := t.Hour(), t.Minute()
	for y <= maxYear {
		switch {
		case y < minYear || !c.years.has(y-minYear):
			y, mo, d, h, mi = y+1, 1, 1, 0, 0
			continue
		case !c.months.has(int(mo)) || d > daysIn(y, mo):
			y, mo, d, h, mi = nextMonth(y, mo)
			continue
		case !c.dayMatches(y, mo, d):
			d, h, mi = d+1, 0, 0
			continue
		}
		for ; h < 24; h, mi = h+1, 0 {
			if !c.hours.has(h) {
				continue
			}
			for ; mi < 60; mi++ {
				if !c.minutes.has(mi) {
					continue
				}
				if at := time.Date(y, mo, d, h, mi, 0, 0, loc); at.After(after) {
					return at
				}
			}
		}
		d, h, mi = d+1, 0, 0
	}
	return time.Time{}
}

// nextMonth returns the first minute of the month after y-mo.
func nextMonth(y int, mo time.Month) (int, time.Month, int, int, int) {
	if mo == time.December {
		return y + 1, time.January, 1, 0, 0
	}
	return y, mo + 1, 1, 0, 0
}

// daysIn returns the number of days of a month.
func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayMatches reports whether a date matches the day-of-month or day-of-week field.
func (c *cronSpec) dayMatches(y int, mo time.Month, d int) bool {
	last := daysIn(y, mo)
	wd := int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 = SUN
	if c.dowAny {
		switch {
		case c.domLast:
			return d == last
		case c.domLastWeekday:
			return d == nearestWeekday(y, mo, last)
		case c.domNearWeekday > 0:
			return c.domNearWeekday <= last && d == nearestWeekday(y, mo, c.domNearWeekday)
		}
		return c.dom.has(d)
	}
	switch {
	case c.dowLast > 0:
		return wd == c.dowLast && d+7 > last
	case c.dowNth > 0:
		return wd == c.dowNth && (d-1)/7+1 == c.dowNthWeek
	}
	return c.dow.has(wd)
}

// nearestWeekday returns the weekday (Monday to Friday) nearest day n of the month,
// without leaving the month.
func nearestWeekday(y int, mo time.Month, n int) int {
	last := daysIn(y, mo)
	switch time.Date(y, mo, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

// ScheduleSource invokes a function on a schedule, as an EventBridge rule (the
// template's Schedule event) or an EventBridge Scheduler schedule (ScheduleV2) does.
type ScheduleSource struct {
	// Name names the rule in logs and in the default RuleARN.
	Name string
	// Expression is the schedule: "rate(5 minutes)", "cron(0/15 * * * ? *)", or for
	// Scheduler also "at(...)".
	Expression string
	// Timezone is Scheduler's ScheduleExpressionTimezone (an IANA name); empty is UTC.
	Timezone string
	// Input, when set, is the payload instead of the default event; it must be JSON.
	Input string
	// Scheduler makes the default event EventBridge Scheduler's (source
	// "aws.scheduler", detail the string "{}") rather than an EventBridge rule's.
	Scheduler bool
	// RuleARN is the event's resources entry; empty builds one from Region, Account
	// and Name.
	RuleARN string
	// Account and Region are the event's account and region.
	Account, Region string
	// Invoker runs the function.
	Invoker invoke.Invoker
	// Log receives each invocation's outcome; nil discards.
	Log *slog.Logger
	// Now is the clock (default time.Now); tests move it on.
	Now func() time.Time
	// Tick is how often Run looks at Now while it waits (default 1 s), so that a
	// moved clock is noticed.
	Tick time.Duration
	// AsyncRetryDelays are the waits before the retries of a failed scheduled
	// invocation. EventBridge invokes asynchronously and Lambda retries a function
	// error twice, after about 1 and 2 more minutes: nil means that; an empty,
	// non-nil slice means no retries. FireNow does not retry.
	AsyncRetryDelays []time.Duration
}

// schedule parses the expression in its timezone and checks Input.
func (s *ScheduleSource) schedule() (Schedule, error) {
	if s.Invoker == nil {
		return Schedule{}, errors.New("schedule source: no invoker")
	}
	sched, err := ParseSchedule(s.Expression)
	if err != nil {
		return Schedule{}, err
	}
	if s.Timezone != "" {
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %s: timezone: %w", s.Name, err)
		}
		sched = sched.In(loc)
	}
	if s.Input != "" && !json.Valid([]byte(s.Input)) {
		return Schedule{}, fmt.Errorf("schedule %s: input is not JSON", s.Name)
	}
	return sched, nil
}

func (s *ScheduleSource) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Run invokes the function at each fire time until ctx is done. Invocations are
// asynchronous, as EventBridge's are: a slow one does not delay the next.
func (s *ScheduleSource) Run(ctx context.Context) error {
	sched, err := s.schedule()
	if err != nil {
		return err
	}
	log := logger(s.Log).With("source", "schedule", "event", s.Name, "schedule", sched.String())
	tick := s.Tick
	if tick <= 0 {
		tick = time.Second
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	next := sched.Next(s.now())
	for {
		if next.IsZero() {
			log.Info("schedule has no more fire times")
			<-ctx.Done()
			return nil
		}
		now := s.now()
		if wait := next.Sub(now); wait > 0 {
			if !sleep(ctx, min(wait, tick)) {
				return nil
			}
			continue
		}
		at := next
		wg.Go(func() { s.fireWithRetries(ctx, log, at) })
		next = sched.Next(at)
		if !next.IsZero() && !next.After(now) {
			// The clock jumped past several fire times: EventBridge does not
			// make up missed ones.
			next = sched.Next(now)
		}
	}
}

// fireWithRetries makes one scheduled invocation and its asynchronous retries.
func (s *ScheduleSource) fireWithRetries(ctx context.Context, log *slog.Logger, at time.Time) {
	delays := s.AsyncRetryDelays
	if delays == nil {
		delays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	payload, err := s.Payload(at)
	if err != nil {
		log.Error("build event", "err", err)
		return
	}
	for attempt := 0; ; attempt++ {
		err := s.invoke(ctx, payload)
		if err == nil {
			log.Debug("scheduled invocation done", "time", at)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= len(delays) {
			log.Warn("scheduled invocation failed, no retries left", "time", at, "err", err)
			return
		}
		log.Info("scheduled invocation failed, will retry", "time", at, "err", err, "in", delays[attempt])
		if !sleep(ctx, delays[attempt]) {
			return
		}
	}
}

// FireNow invokes the function once, now, with the event a fire at Now would send,
// and returns the invocation's error. The local runner uses it to trigger a schedule
// on demand.
func (s *ScheduleSource) FireNow(ctx context.Context) error {
	if _, err := s.schedule(); err != nil {
		return err
	}
	payload, err := s.Payload(s.now())
	if err != nil {
		return err
	}
	return s.invoke(ctx, payload)
}

// invoke invokes once, waiting out throttling for a while as Lambda's asynchronous
// queue does.
func (s *ScheduleSource) invoke(ctx context.Context, payload []byte) error {
	b := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	for range 8 {
		_, err := s.Invoker.Invoke(ctx, payload)
		if !errors.Is(err, invoke.ErrThrottled) {
			return err
		}
		if !sleep(ctx, b.next()) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("schedule %s: %w", s.Name, invoke.ErrThrottled)
}

// Payload returns the payload of a fire at time at: Input if set, otherwise the
// "Scheduled Event" that EventBridge (or Scheduler) sends.
func (s *ScheduleSource) Payload(at time.Time) ([]byte, error) {
	if s.Input != "" {
		return []byte(s.Input), nil
	}
	ev := events.EventBridgeEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  s.Account,
		Time:       at.UTC().Truncate(time.Second),
		Region:     s.Region,
		Resources:  []string{s.ruleARN()},
		Detail:     json.RawMessage("{}"),
	}
	if s.Scheduler {
		ev.Source = "aws.scheduler"
		ev.Detail = json.RawMessage(`"{}"`)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode scheduled event: %w", err)
	}
	return b, nil
}

// ruleARN returns RuleARN or the ARN of a rule (or schedule) named Name.
func (s *ScheduleSource) ruleARN() string {
	if s.RuleARN != "" {
		return s.RuleARN
	}
	if s.Scheduler {
		return fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", s.Region, s.Account, s.Name)
	}
	return fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", s.Region, s.Account, s.Name)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
