package sources

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// utc parses a "2006-01-02 15:04" time in UTC.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // part of the error
	}{
		{"", "want rate"},
		{"every(5 minutes)", "want rate"},
		{"rate(5 minutes", "want rate"},
		{"rate(0 minutes)", "positive"},
		{"rate(-1 minutes)", "positive"},
		{"rate(1.5 hours)", "positive"},
		{"rate(5)", "value and a unit"},
		{"rate(5 weeks)", "minute(s), hour(s) or day(s)"},
		{"rate(1 minutes)", `singular unit "minute"`},
		{"rate(5 minute)", `plural unit "minutes"`},
		{"rate(2 day)", `plural unit "days"`},
		{"cron(0 12 * * ?)", "6 fields"},
		{"cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"},
		{"cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"},
		{"cron(60 12 * * ? *)", "minutes: 60 is not between 0 and 59"},
		{"cron(0 24 * * ? *)", "hours"},
		{"cron(0 12 32 * ? *)", "day-of-month"},
		{"cron(0 12 0 * ? *)", "day-of-month"},
		{"cron(0 12 * 13 ? *)", "month"},
		{"cron(0 12 * FOO ? *)", "month"},
		{"cron(0 12 ? * 8 *)", "day-of-week"},
		{"cron(0 12 ? * 0 *)", "day-of-week"},
		{"cron(0 12 ? * 2#6 *)", "week from 1 to 5"},
		{"cron(0 12 ? * 9L *)", "day-of-week"},
		{"cron(0 12 32W * ? *)", "W needs a day"},
		{"cron(0 12 * * ? 1969)", "year"},
		{"cron(0 12 * * ? 2200)", "year"},
		{"cron(0/0 12 * * ? *)", "step"},
		{"cron(0,,5 12 * * ? *)", "empty item"},
		{"cron(? 12 * * ? *)", "only for day-of-month"},
		{"cron(x 12 * * ? *)", "not a number"},
		{"at(2026-13-01T00:00:00)", "want at("},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseSchedule(tt.expr)
			if err == nil {
				t.Fatalf("ParseSchedule(%q) = nil error, want one containing %q", tt.expr, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchedule(%q) error %q, want it to contain %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestRateNext(t *testing.T) {
	tests := []struct {
		expr  string
		after string
		want  string
	}{
		{"rate(1 minute)", "2026-03-01 10:00", "2026-03-01 10:01"},
		{"rate(5 minutes)", "2026-03-01 10:00", "2026-03-01 10:05"},
		{"rate(1 hour)", "2026-03-01 23:30", "2026-03-02 00:30"},
		{"rate(12 hours)", "2026-03-01 10:00", "2026-03-01 22:00"},
		{"rate(1 day)", "2026-02-28 10:00", "2026-03-01 10:00"},
		{"rate(7 days)", "2028-02-25 00:00", "2028-03-03 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.Next(utc(t, tt.after)), utc(t, tt.want); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tt.after, got, want)
			}
		})
	}
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		expr  string
		after string
		want  []string // the next fire times, one after the other
	}{
		{"cron(0/15 * * * ? *)", "2026-03-01 10:00", []string{"2026-03-01 10:15", "2026-03-01 10:30", "2026-03-01 10:45", "2026-03-01 11:00"}},
		{"cron(*/20 * * * ? *)", "2026-03-01 10:07", []string{"2026-03-01 10:20", "2026-03-01 10:40", "2026-03-01 11:00"}},
		{"cron(5/20 * * * ? *)", "2026-03-01 10:07", []string{"2026-03-01 10:25", "2026-03-01 10:45", "2026-03-01 11:05"}},
		{"cron(* * * * ? *)", "2026-03-01 23:59", []string{"2026-03-02 00:00", "2026-03-02 00:01"}},
		{"cron(0 10 * * ? *)", "2026-03-01 10:00", []string{"2026-03-02 10:00", "2026-03-03 10:00"}},
		{"cron(0 10 * * ? *)", "2026-03-01 09:59", []string{"2026-03-01 10:00"}},
		{"cron(15 10 ? * 6L 2026-2027)", "2026-01-01 00:00", []string{"2026-01-30 10:15", "2026-02-27 10:15", "2026-03-27 10:15"}},
		{"cron(0 18 ? * MON-FRI *)", "2026-03-06 18:00", []string{"2026-03-09 18:00", "2026-03-10 18:00"}}, // Fri → Mon
		{"cron(0 8 1 * ? *)", "2026-01-15 00:00", []string{"2026-02-01 08:00", "2026-03-01 08:00"}},
		{"cron(0/10 * ? * MON-FRI *)", "2026-03-06 23:55", []string{"2026-03-09 00:00", "2026-03-09 00:10"}},
		{"cron(0 12 L * ? *)", "2026-01-31 12:00", []string{"2026-02-28 12:00", "2026-03-31 12:00", "2026-04-30 12:00"}},
		{"cron(0 12 L 2 ? *)", "2027-03-01 00:00", []string{"2028-02-29 12:00"}},
		{"cron(0 0 29 2 ? *)", "2026-01-01 00:00", []string{"2028-02-29 00:00", "2032-02-29 00:00"}},
		{"cron(0 9 ? * 2#1 *)", "2026-03-01 00:00", []string{"2026-03-02 09:00", "2026-04-06 09:00", "2026-05-04 09:00"}},
		{"cron(0 9 ? * SUN#3 *)", "2026-03-01 00:00", []string{"2026-03-15 09:00", "2026-04-19 09:00"}},
		{"cron(0 9 15W * ? *)", "2026-02-01 00:00", []string{"2026-02-16 09:00", "2026-03-16 09:00", "2026-04-15 09:00"}}, // Feb 15 and Mar 15 2026 are Sundays
		{"cron(0 9 1W * ? *)", "2026-07-15 00:00", []string{"2026-08-03 09:00"}},                                          // Aug 1 2026 is a Saturday: Monday the 3rd
		{"cron(0 9 LW * ? *)", "2026-05-01 00:00", []string{"2026-05-29 09:00"}},                                          // May 31 2026 is a Sunday
		{"cron(30 1,13 ? * FRI-MON *)", "2026-03-05 00:00", []string{"2026-03-06 01:30", "2026-03-06 13:30", "2026-03-07 01:30"}},
		{"cron(0 0 1 JAN,JUL ? 2026)", "2026-01-01 00:00", []string{"2026-07-01 00:00"}},
		{"cron(0 0 1 JAN ? 2026)", "2026-01-01 00:00", []string{""}}, // no more fire times
		{"cron(0 0 31 2 ? *)", "2026-01-01 00:00", []string{""}},     // never
		{"cron(0 22 ? * L *)", "2026-03-01 00:00", []string{"2026-03-07 22:00"}},
		{"cron(10-12 3 * * ? *)", "2026-03-01 00:00", []string{"2026-03-01 03:10", "2026-03-01 03:11", "2026-03-01 03:12", "2026-03-02 03:10"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" after "+tt.after, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			at := utc(t, tt.after)
			for i, w := range tt.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("fire %d: Next(%s) = %s, want none", i, at, got)
					}
					return
				}
				if want := utc(t, w); !got.Equal(want) {
					t.Fatalf("fire %d: Next(%s) = %s, want %s", i, at, got, want)
				}
				at = got
			}
		})
	}
}

func TestCronNextMidMinute(t *testing.T) {
	s, err := ParseSchedule("cron(* * * * ? *)")
	if err != nil {
		t.Fatal(err)
	}
	after := utc(t, "2026-03-01 10:00").Add(30 * time.Second)
	if got, want := s.Next(after), utc(t, "2026-03-01 10:01"); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", after, got, want)
	}
}

func TestScheduleTimezone(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	s, err := ParseSchedule("cron(0 9 * * ? *)")
	if err != nil {
		t.Fatal(err)
	}
	got := s.In(jakarta).Next(utc(t, "2026-03-01 00:00"))
	if want := utc(t, "2026-03-01 02:00"); !got.Equal(want) { // 09:00 WIB is 02:00 UTC
		t.Errorf("Next = %s, want %s", got.UTC(), want)
	}
	at, err := ParseSchedule("at(2026-03-01T09:00:00)")
	if err != nil {
		t.Fatal(err)
	}
	if got := at.In(jakarta).Next(utc(t, "2026-03-01 00:00")); !got.Equal(utc(t, "2026-03-01 02:00")) {
		t.Errorf("at Next = %s, want 02:00 UTC", got.UTC())
	}
	if got := at.Next(utc(t, "2026-03-01 09:00")); !got.IsZero() {
		t.Errorf("at Next after its time = %s, want none", got)
	}
}

// recorder is an invoke.Invoker that records payloads.
type recorder struct {
	mu       sync.Mutex
	payloads [][]byte
	err      error
	called   chan struct{}
}

func newRecorder() *recorder { return &recorder{called: make(chan struct{}, 100)} }

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, payload)
	err := r.err
	r.mu.Unlock()
	r.called <- struct{}{}
	return nil, err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

func TestScheduledEventShape(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 15, 0, 123, time.UTC)
	tests := []struct {
		name string
		src  ScheduleSource
		want map[string]any // fields of the payload, besides id
	}{
		{
			name: "rule",
			src:  ScheduleSource{Name: "ReconcileEvery15", Expression: "rate(15 minutes)", Account: "222222222222", Region: "ap-southeast-3"},
			want: map[string]any{
				"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
				"account": "222222222222", "time": "2026-03-01T10:15:00Z", "region": "ap-southeast-3",
				"resources": []any{"arn:aws:events:ap-southeast-3:222222222222:rule/ReconcileEvery15"},
				"detail":    map[string]any{},
			},
		},
		{
			name: "scheduler",
			src:  ScheduleSource{Name: "nightly", Expression: "cron(0 1 * * ? *)", Scheduler: true, Account: "222222222222", Region: "ap-southeast-3"},
			want: map[string]any{
				"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler",
				"account": "222222222222", "time": "2026-03-01T10:15:00Z", "region": "ap-southeast-3",
				"resources": []any{"arn:aws:scheduler:ap-southeast-3:222222222222:schedule/default/nightly"},
				"detail":    "{}",
			},
		},
		{
			name: "input",
			src:  ScheduleSource{Name: "x", Expression: "rate(1 day)", Input: `{"olderThanMinutes":30}`},
			want: map[string]any{"olderThanMinutes": float64(30)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			src := tt.src
			src.Invoker = rec
			src.Now = func() time.Time { return at }
			if err := src.FireNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if rec.count() != 1 {
				t.Fatalf("%d invocations, want 1", rec.count())
			}
			var got map[string]any
			if err := json.Unmarshal(rec.payloads[0], &got); err != nil {
				t.Fatal(err)
			}
			if tt.src.Input == "" {
				id, _ := got["id"].(string)
				if len(id) != 36 || strings.Count(id, "-") != 4 {
					t.Errorf("id %q is not a UUID", id)
				}
				delete(got, "id")
				var ev events.EventBridgeEvent
				if err := json.Unmarshal(rec.payloads[0], &ev); err != nil {
					t.Errorf("payload does not decode as events.EventBridgeEvent: %v", err)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("payload has %d fields, want %d: %s", len(got), len(tt.want), rec.payloads[0])
			}
			for k, w := range tt.want {
				g, _ := json.Marshal(got[k])
				wb, _ := json.Marshal(w)
				if string(g) != string(wb) {
					t.Errorf("%s = %s, want %s", k, g, wb)
				}
			}
		})
	}
}

func TestScheduleRunFollowsClock(t *testing.T) {
	var mu sync.Mutex
	now := utc(t, "2026-03-01 10:07")
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(s string) { mu.Lock(); now = utc(t, s); mu.Unlock() }
	rec := newRecorder()
	src := &ScheduleSource{Name: "r", Expression: "cron(0/15 * * * ? *)", Invoker: rec, Now: clock, Tick: 5 * time.Millisecond, Account: "1", Region: "r"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	wait := func(want int) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for rec.count() < want {
			select {
			case <-rec.called:
			case <-deadline:
				t.Fatalf("%d invocations after 5s, want %d", rec.count(), want)
			}
		}
	}
	time.Sleep(30 * time.Millisecond)
	if n := rec.count(); n != 0 {
		t.Fatalf("%d invocations before the first fire time, want 0", n)
	}
	set("2026-03-01 10:15")
	wait(1)
	set("2026-03-01 10:29")
	time.Sleep(30 * time.Millisecond)
	if n := rec.count(); n != 1 {
		t.Fatalf("%d invocations at 10:29, want 1", n)
	}
	set("2026-03-01 10:30")
	wait(2)
	var times []string
	for _, p := range rec.payloads[:2] {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatal(err)
		}
		times = append(times, ev.Time.Format(time.RFC3339))
	}
	if times[0] != "2026-03-01T10:15:00Z" || times[1] != "2026-03-01T10:30:00Z" {
		t.Errorf("event times %v, want 10:15 and 10:30", times)
	}
}

func TestScheduleRunRetriesFunctionErrors(t *testing.T) {
	var mu sync.Mutex
	now := utc(t, "2026-03-01 10:00")
	rec := newRecorder()
	rec.err = &invoke.FunctionError{Type: "Unhandled", Message: "boom"}
	src := &ScheduleSource{Name: "r", Expression: "rate(1 minute)", Invoker: rec, Tick: 5 * time.Millisecond,
		Now:              func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		AsyncRetryDelays: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	now = now.Add(time.Minute) // the first fire is due
	mu.Unlock()
	for rec.count() < 3 {
		select {
		case <-rec.called:
		case <-ctx.Done():
			t.Fatalf("%d invocations, want 3 (the fire and two retries)", rec.count())
		}
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if n := rec.count(); n != 3 {
		t.Errorf("%d invocations, want 3", n)
	}
}

func TestScheduleSourceErrors(t *testing.T) {
	rec := newRecorder()
	tests := []struct {
		name string
		src  ScheduleSource
	}{
		{"bad expression", ScheduleSource{Expression: "rate(soon)", Invoker: rec}},
		{"bad input", ScheduleSource{Expression: "rate(1 day)", Input: "{not json", Invoker: rec}},
		{"bad timezone", ScheduleSource{Expression: "rate(1 day)", Timezone: "Mars/Olympus", Invoker: rec}},
		{"no invoker", ScheduleSource{Expression: "rate(1 day)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.src.Run(context.Background()); err == nil {
				t.Error("Run = nil, want an error")
			}
		})
	}
}
