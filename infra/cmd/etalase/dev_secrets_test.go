package main

import (
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/provision"
)

// TestSummaryNamesSecretsNeverValues: make dev's summary lists each account's SSM
// parameter names and the emulator's URL, and none of the values.
func TestSummaryNamesSecretsNeverValues(t *testing.T) {
	r := &localrun.Runner{
		URL:       "http://127.0.0.1:3000",
		Resources: map[string]*provision.Resources{"social": {}, "commerce": {}},
		Secrets: map[string]map[string]string{
			"social":   {"/etalase/social/handoff-private-key": "-----BEGIN PRIVATE KEY-----\nsecret-private\n"},
			"commerce": {"/etalase/commerce/midtrans-server-key": "SB-Mid-server-secretvalue"},
		},
		SSMURL: "http://127.0.0.1:45678",
	}
	var out strings.Builder
	printSummary(&out, r, &emulator.Stack{}, "", time.Second)
	s := out.String()
	for _, want := range []string{"/etalase/social/handoff-private-key", "/etalase/commerce/midtrans-server-key", "http://127.0.0.1:45678"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary does not show %s:\n%s", want, s)
		}
	}
	for _, secret := range []string{"secret-private", "secretvalue"} {
		if strings.Contains(s, secret) {
			t.Errorf("summary shows a secret value:\n%s", s)
		}
	}
}
