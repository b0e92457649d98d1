package samtemplate

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `
Parameters:
  Side: {Type: String, AllowedValues: [a, b]}
  Prefix: {Type: String, Default: px}
Conditions:
  IsA: !Equals [!Ref Side, a]
  IsB: !Not [!Condition IsA]
Globals:
  Function:
    Timeout: 10
    Environment: {Variables: {G: g}}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Condition: IsA
    Properties:
      QueueName: !Sub "${Prefix}-q-${AWS::Region}"
      Arn2: !GetAtt Q.Arn
      Both: !If [IsA, yes-a, !Ref AWS::NoValue]
      Literal: !Sub "${!NotAVar}"
      Joined: !Join [",", [x, !Ref Prefix]]
  F:
    Type: AWS::Serverless::Function
    Condition: IsB
    Properties:
      Timeout: 3
      Environment: {Variables: {L: !Ref Q}}
      Events:
        E1: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
`

func TestEvaluate(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.NewContext(map[string]string{"Side": "a"}, map[string]string{"AWS::Region": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	c.Ref = func(id string) (string, error) { return "ref-" + id, nil }
	c.GetAtt = func(id, attr string) (string, error) { return id + "." + attr, nil }
	got, err := tpl.Evaluate(tpl.Resources["Q"].Properties, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"QueueName": "px-q-r1", "Arn2": "Q.Arn", "Both": "yes-a", "Literal": "${NotAVar}", "Joined": "x,px"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("evaluate (-want +got):\n%s", d)
	}
	active, err := tpl.Active(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := active["Q"]; !ok || len(active) != 1 {
		t.Errorf("Active under Side=a = %v, want only Q", active)
	}

	cb, _ := tpl.NewContext(map[string]string{"Side": "b"}, nil)
	v, err := tpl.Evaluate(map[string]any{"Fn::If": []any{"IsA", "x", map[string]any{"Ref": "AWS::NoValue"}}}, cb)
	if !errors.Is(err, ErrNoValue) {
		t.Errorf("NoValue at top: got %v, %v", v, err)
	}
}

func TestNewContextChecksParameters(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.NewContext(nil, nil); err == nil {
		t.Error("missing Side accepted")
	}
	if _, err := tpl.NewContext(map[string]string{"Side": "c"}, nil); err == nil {
		t.Error("Side outside AllowedValues accepted")
	}
}

func TestFunctionMergesGlobals(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tpl.Function("F")
	if err != nil {
		t.Fatal(err)
	}
	if f.Properties["Timeout"] != 3 {
		t.Errorf("Timeout = %v, want function's 3", f.Properties["Timeout"])
	}
	wantEnv := map[string]any{"G": "g", "L": map[string]any{"Ref": "Q"}}
	if d := cmp.Diff(wantEnv, asMap(asMap(f.Properties["Environment"])["Variables"])); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
	ev := f.Events()
	if len(ev) != 1 || ev[0].Type != "SQS" {
		t.Errorf("events = %+v", ev)
	}
}

func TestParseRejects(t *testing.T) {
	for name, src := range map[string]string{
		"unknown tag":  "Resources: {A: {Type: X, Properties: {P: !Nope x}}}",
		"bad getatt":   "Resources: {A: {Type: X, Properties: {P: !GetAtt nodot}}}",
		"no type":      "Resources: {A: {Properties: {}}}",
		"not a map":    "- a\n- b\n",
		"invalid yaml": "a: [",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestRepoTemplateParses(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"social", "commerce"} {
		c, err := tpl.NewContext(map[string]string{"Side": side, "PeerAccountId": "123456789012", "JwtIssuer": "i", "JwtAudience": "a"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		active, err := tpl.Active(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(active) == 0 {
			t.Errorf("side %s deploys nothing", side)
		}
		for id, r := range active {
			if r.Condition == "" {
				t.Errorf("resource %s has no side condition", id)
			}
		}
	}
}
