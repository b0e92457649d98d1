package sources

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/samtemplate"
)

// Env is what FromEvents needs besides the events themselves.
type Env struct {
	// Function is the function's logical id; schedule rules are named after it.
	Function string
	// Account and Region are the function's account id and region.
	Account, Region string
	// SQS and Streams are the clients the SQS and DynamoDB sources use.
	SQS     SQSClient
	Streams StreamsClient
	// QueueURL returns the URL of the queue with an ARN (needed for SQS events).
	QueueURL func(arn string) (string, error)
	// Invoker invokes the function.
	Invoker invoke.Invoker
	// Log is given to every source.
	Log *slog.Logger
}

// sqsPollers is how many pollers FromEvents gives an SQS source: Lambda starts with
// several and scales; two are enough locally to show concurrent batches.
const sqsPollers = 2

// FromEvents returns the sources of a function's events, whose Properties must already
// be evaluated (samtemplate's Evaluate). SQS, DynamoDB, Schedule and ScheduleV2 events
// become sources, except disabled ones; HttpApi and Api events are served elsewhere
// and skipped; any other type, and settings that would change which records are
// delivered but are not emulated (FilterCriteria, TumblingWindowInSeconds), are an
// error. Settings that only matter at AWS scale (ParallelizationFactor,
// DestinationConfig, MaximumRecordAgeInSeconds) are ignored.
func FromEvents(evs []samtemplate.Event, env Env) ([]Source, error) {
	var out []Source
	for _, ev := range evs {
		p := props(ev.Properties)
		if ev.Type == "HttpApi" || ev.Type == "Api" {
			continue
		}
		for _, key := range []string{"FilterCriteria", "TumblingWindowInSeconds"} {
			if _, ok := p[key]; ok {
				return nil, fmt.Errorf("event %s: %s is not supported locally", ev.Name, key)
			}
		}
		enabled, err := p.boolean("Enabled", true)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.Name, err)
		}
		if state := p.str("State"); state == "DISABLED" {
			enabled = false
		}
		if !enabled {
			continue
		}
		var src Source
		switch ev.Type {
		case "SQS":
			src, err = sqsFromEvent(ev.Name, p, env)
		case "DynamoDB":
			src, err = streamFromEvent(ev.Name, p, env)
		case "Schedule", "ScheduleV2":
			src, err = scheduleFromEvent(ev.Name, ev.Type == "ScheduleV2", p, env)
		default:
			err = fmt.Errorf("event type %s is not supported locally", ev.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.Name, err)
		}
		out = append(out, src)
	}
	return out, nil
}

// sqsFromEvent builds the source of an SQS event.
func sqsFromEvent(name string, p props, env Env) (Source, error) {
	arn := p.str("Queue")
	if arn == "" {
		return nil, fmt.Errorf("no Queue ARN")
	}
	if env.QueueURL == nil {
		return nil, fmt.Errorf("no queue URL resolver")
	}
	url, err := env.QueueURL(arn)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", arn, err)
	}
	batch, err := p.integer("BatchSize", 0)
	if err != nil {
		return nil, err
	}
	window, err := p.seconds("MaximumBatchingWindowInSeconds")
	if err != nil {
		return nil, err
	}
	pollers := sqsPollers
	if sc := props(asMap(p["ScalingConfig"])); sc != nil {
		if n, err := sc.integer("MaximumConcurrency", pollers); err == nil {
			pollers = min(pollers, max(n, 1))
		}
	}
	return &SQSSource{
		Name:                    name,
		Client:                  env.SQS,
		QueueURL:                url,
		QueueARN:                arn,
		Region:                  env.Region,
		BatchSize:               batch,
		MaximumBatchingWindow:   window,
		ReportBatchItemFailures: p.reportsFailures(),
		Concurrency:             pollers,
		Invoker:                 env.Invoker,
		Log:                     env.Log,
	}, nil
}

// streamFromEvent builds the source of a DynamoDB event.
func streamFromEvent(name string, p props, env Env) (Source, error) {
	arn := p.str("Stream")
	if arn == "" {
		return nil, fmt.Errorf("no Stream ARN")
	}
	batch, err := p.integer("BatchSize", 0)
	if err != nil {
		return nil, err
	}
	window, err := p.seconds("MaximumBatchingWindowInSeconds")
	if err != nil {
		return nil, err
	}
	retries, err := p.integer("MaximumRetryAttempts", -1)
	if err != nil {
		return nil, err
	}
	bisect, err := p.boolean("BisectBatchOnFunctionError", false)
	if err != nil {
		return nil, err
	}
	return &StreamSource{
		Name:                       name,
		Client:                     env.Streams,
		StreamARN:                  arn,
		Region:                     env.Region,
		StartingPosition:           p.str("StartingPosition"),
		BatchSize:                  batch,
		MaximumBatchingWindow:      window,
		MaximumRetryAttempts:       retries,
		BisectBatchOnFunctionError: bisect,
		ReportBatchItemFailures:    p.reportsFailures(),
		Invoker:                    env.Invoker,
		Log:                        env.Log,
	}, nil
}

// scheduleFromEvent builds the source of a Schedule (EventBridge rule) or ScheduleV2
// (EventBridge Scheduler) event.
func scheduleFromEvent(name string, scheduler bool, p props, env Env) (Source, error) {
	s := &ScheduleSource{
		Name:      p.str("Name"),
		Input:     p.str("Input"),
		Scheduler: scheduler,
		Account:   env.Account,
		Region:    env.Region,
		Invoker:   env.Invoker,
		Log:       env.Log,
	}
	if s.Name == "" {
		// SAM names the rule's logical id after the function and the event.
		s.Name = env.Function + name
	}
	if scheduler {
		s.Expression = p.str("ScheduleExpression")
		s.Timezone = p.str("ScheduleExpressionTimezone")
	} else {
		s.Expression = p.str("Schedule")
	}
	if _, err := s.schedule(); err != nil {
		return nil, err
	}
	return s, nil
}

// props are an event's evaluated properties.
type props map[string]any

// str returns a string property, or "".
func (p props) str(key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// integer returns a whole-number property, or def when it is absent.
func (p props) integer(key string, def int) (int, error) {
	switch v := p[key].(type) {
	case nil:
		return def, nil
	case int:
		return v, nil
	case float64:
		if v == math.Trunc(v) {
			return int(v), nil
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: %v is not a whole number", key, p[key])
}

// seconds returns a property in whole seconds as a duration, zero when absent.
func (p props) seconds(key string) (time.Duration, error) {
	n, err := p.integer(key, 0)
	return time.Duration(n) * time.Second, err
}

// boolean returns a boolean property, or def when it is absent.
func (p props) boolean(key string, def bool) (bool, error) {
	switch v := p[key].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%s: %v is not a boolean", key, p[key])
}

// reportsFailures reports whether FunctionResponseTypes has ReportBatchItemFailures.
func (p props) reportsFailures() bool {
	list, _ := p["FunctionResponseTypes"].([]any)
	for _, v := range list {
		if v == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// asMap returns v as a map, or nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
