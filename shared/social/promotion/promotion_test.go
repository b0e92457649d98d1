package promotion

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/pagecursor"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/money"
	"github.com/etalase/etalase/shared/social/snapshot"
)

var t0 = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func TestStateAt(t *testing.T) {
	p := Promotion{StartsAt: t0, EndsAt: t0.Add(time.Hour), Status: StatusActive}
	tests := []struct {
		status Status
		at     time.Time
		want   State
	}{
		{StatusActive, t0.Add(-time.Second), StateScheduled},
		{StatusActive, t0, StateLive},
		{StatusActive, t0.Add(59 * time.Minute), StateLive},
		{StatusActive, t0.Add(time.Hour), StateExpired},
		{StatusPaused, t0.Add(time.Minute), StatePaused},
		{StatusPaused, t0.Add(2 * time.Hour), StateExpired},
		{StatusEnded, t0.Add(time.Minute), StateEnded},
		{StatusEnded, t0.Add(2 * time.Hour), StateEnded},
	}
	for _, tt := range tests {
		p.Status = tt.status
		if got := p.StateAt(tt.at); got != tt.want {
			t.Errorf("%s at %s: %s, want %s", tt.status, tt.at.Sub(t0), got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := NewPromotion{ProductID: "p_rocsknolsez4jj42y44l7ga3ou", Kind: KindVideo, MediaURL: "https://cdn.example/v.mp4",
		CommissionBps: 1000, EndsAt: t0.Add(24 * time.Hour)}
	tests := []struct {
		name   string
		change func(*NewPromotion)
		fields []string
	}{
		{"valid", func(*NewPromotion) {}, nil},
		{"showcase needs no media", func(p *NewPromotion) { p.Kind, p.MediaURL = KindShowcase, "" }, nil},
		{"storefront path", func(p *NewPromotion) { p.MediaURL = "/media/v.mp4" }, nil},
		{"rate bounds low", func(p *NewPromotion) { p.CommissionBps = 99 }, []string{"commissionBps"}},
		{"rate bounds high", func(p *NewPromotion) { p.CommissionBps = 5001 }, []string{"commissionBps"}},
		{"rate lowest", func(p *NewPromotion) { p.CommissionBps = 100 }, nil},
		{"rate highest", func(p *NewPromotion) { p.CommissionBps = 5000 }, nil},
		{"no kind", func(p *NewPromotion) { p.Kind = "" }, []string{"kind"}},
		{"bad kind", func(p *NewPromotion) { p.Kind = "story" }, []string{"kind"}},
		{"live needs media", func(p *NewPromotion) { p.Kind, p.MediaURL = KindLive, "" }, []string{"mediaUrl"}},
		{"http media", func(p *NewPromotion) { p.MediaURL = "http://cdn.example/v.mp4" }, []string{"mediaUrl"}},
		{"javascript media", func(p *NewPromotion) { p.MediaURL = "javascript:alert(1)" }, []string{"mediaUrl"}},
		{"protocol-relative media", func(p *NewPromotion) { p.MediaURL = "//evil.example/v.mp4" }, []string{"mediaUrl"}},
		{"no product", func(p *NewPromotion) { p.ProductID = "" }, []string{"productId"}},
		{"odd product", func(p *NewPromotion) { p.ProductID = "p 1" }, []string{"productId"}},
		{"long caption", func(p *NewPromotion) { p.Caption = strings.Repeat("é", MaxCaptionRunes+1) }, []string{"caption"}},
		{"control in caption", func(p *NewPromotion) { p.Caption = "a\x00b" }, []string{"caption"}},
		{"newline in caption", func(p *NewPromotion) { p.Caption = "a\nb" }, nil},
		{"no end", func(p *NewPromotion) { p.EndsAt = time.Time{} }, []string{"endsAt"}},
		{"window too short", func(p *NewPromotion) { p.EndsAt = t0.Add(time.Minute) }, []string{"endsAt"}},
		{"window too long", func(p *NewPromotion) { p.EndsAt = t0.Add(367 * 24 * time.Hour) }, []string{"endsAt"}},
		{"start in the past", func(p *NewPromotion) { p.StartsAt = t0.Add(-time.Hour) }, []string{"startsAt"}},
		{"start a little in the past is now", func(p *NewPromotion) { p.StartsAt = t0.Add(-time.Minute) }, nil},
		{"start too far ahead", func(p *NewPromotion) { p.StartsAt, p.EndsAt = t0.Add(91*24*time.Hour), t0.Add(92*24*time.Hour) }, []string{"startsAt"}},
		{"everything wrong", func(p *NewPromotion) { *p = NewPromotion{Kind: "x"} }, []string{"productId", "kind", "commissionBps", "endsAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid
			tt.change(&in)
			err := in.normalize(t0).validate(t0)
			var fields []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					fields = append(fields, p.Field)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	in := valid
	in.StartsAt = t0.Add(-time.Minute)
	if got := in.normalize(t0).StartsAt; !got.Equal(t0) {
		t.Errorf("a start within the skew is moved to now: %v", got)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{CreatedAt: t0.Add(123 * time.Nanosecond), ID: "pr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}
	got, err := pagecursor.Decode(pagecursor.Encode(c), ValidID)
	if err != nil || got == nil || *got != c {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	for _, bad := range []string{"!!", "e30", strings.Repeat("a", 600), pagecursor.Encode(Cursor{CreatedAt: t0, ID: "p_1"})} {
		if _, err := pagecursor.Decode(bad, ValidID); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

// The handler serves exactly the routes template.yaml gives SocialPromotionFunction,
// and requires exactly the scopes the template's JWT authorizer checks.
func TestRoutesMatchTemplate(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("SocialPromotionFunction")
	if err != nil {
		t.Fatal(err)
	}
	fromTemplate := map[string]string{}
	for _, ev := range fn.Events() {
		if ev.Type != "HttpApi" {
			continue
		}
		key := fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])
		scope := ""
		if auth, ok := ev.Properties["Auth"].(map[string]any); ok {
			scopes, _ := auth["AuthorizationScopes"].([]any)
			if len(scopes) != 1 {
				t.Fatalf("%s: scopes %v, want exactly one", key, scopes)
			}
			scope = fmt.Sprint(scopes[0])
		}
		fromTemplate[key] = scope
	}
	fromHandler := map[string]string{}
	h := NewHandler(nil, nil)
	for _, r := range h.routes() {
		fromHandler[r.key] = r.scope
	}
	if diff := cmp.Diff(fromTemplate, fromHandler); diff != "" {
		t.Errorf("route key → scope (-template +handler):\n%s", diff)
	}
	keys := make([]string, 0, len(fromTemplate))
	for k := range fromTemplate {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff(h.router.RouteKeys(), keys); diff != "" {
		t.Errorf("router keys (-router +template):\n%s", diff)
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{ErrNotFound, 404, CodePromotionNotFound},
		{fmt.Errorf("x: %w", ErrCreatorNotFound), 404, CodeCreatorNotFound},
		{ErrProductNotFound, 404, CodeProductNotFound},
		{ErrProductUnavailable, 409, CodeProductUnavailable},
		{ErrNotLive, 409, CodePromotionNotLive},
		{ErrEnded, 409, CodePromotionEnded},
		{ErrConflict, 409, CodeConflict},
		{&ValidationError{Problems: []Problem{{Field: "kind", Message: "bad"}}}, 400, httpapi.CodeValidationFailed},
	}
	for _, tt := range tests {
		var he *httpapi.Error
		if !errors.As(toHTTPError(tt.err), &he) || he.Status != tt.status || he.Code != tt.code {
			t.Errorf("%v → %+v, want %d %s", tt.err, he, tt.status, tt.code)
		}
	}
	if plain := errors.New("boom"); toHTTPError(plain) != plain {
		t.Error("an unknown error must stay internal")
	}
}

// feedStore serves a fixed feed index, newest first, to test the feed's paging.
type feedStore struct {
	Store
	items   []Promotion // sorted newest first
	queries int
}

func (f *feedStore) Feed(_ context.Context, limit int, after *Cursor) ([]Promotion, bool, error) {
	f.queries++
	start := 0
	if after != nil {
		start = slices.IndexFunc(f.items, func(p Promotion) bool { return p.ID == after.ID }) + 1
	}
	end := min(start+limit, len(f.items))
	return f.items[start:end], end < len(f.items), nil
}

type snaps map[string]snapshot.Snapshot

func (s snaps) Get(_ context.Context, id string) (snapshot.Snapshot, error) {
	if v, ok := s[id]; ok {
		return v, nil
	}
	return snapshot.Snapshot{}, snapshot.ErrNotFound
}

func (s snaps) GetMany(_ context.Context, ids []string) (map[string]snapshot.Snapshot, error) {
	out := map[string]snapshot.Snapshot{}
	for _, id := range ids {
		if v, ok := s[id]; ok {
			out[id] = v
		}
	}
	return out, nil
}

type noLedger struct{}

func (noLedger) Stats(context.Context, []commission.StatsKey) (map[string]commission.Stats, error) {
	return map[string]commission.Stats{}, nil
}

func (noLedger) Earnings(context.Context, string) ([]commission.Earnings, error) { return nil, nil }

// The feed skips what is not live or whose product is delisted, pages by cursor without
// gaps or repeats, and bounds the queries of one page.
func TestFeedPaging(t *testing.T) {
	var items []Promotion
	live := map[string]bool{}
	for i := range 40 {
		p := Promotion{
			ID:        fmt.Sprintf("pr_%s%c%c", strings.Repeat("a", 24), 'a'+rune(i/26), 'a'+rune(i%26)),
			ProductID: "p_listed", Status: StatusActive,
			StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(time.Hour), CreatedAt: t0.Add(-time.Duration(i) * time.Minute),
		}
		switch {
		case i%5 == 1:
			p.StartsAt = t0.Add(time.Minute) // scheduled
		case i%5 == 2:
			p.EndsAt = t0 // expired
		case i%7 == 3:
			p.ProductID = "p_delisted"
		default:
			live[p.ID] = true
		}
		items = append(items, p)
	}
	store := &feedStore{items: items}
	s := NewService(store, snaps{
		"p_listed":   {ProductID: "p_listed", Listed: true, InStock: true, Price: money.Money{Amount: 1, Currency: "IDR"}},
		"p_delisted": {ProductID: "p_delisted", Listed: false},
	}, noLedger{}, nil, WithClock(func() time.Time { return t0 }))
	seen := map[string]bool{}
	var order []time.Time
	cursor := ""
	for page := 0; ; page++ {
		if page > 40 {
			t.Fatal("the feed never ends")
		}
		store.queries = 0
		got, err := s.Feed(context.Background(), 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Items) > 3 || store.queries > maxFeedRounds {
			t.Fatalf("page %d: %d items in %d queries", page, len(got.Items), store.queries)
		}
		for _, v := range got.Items {
			if !live[v.ID] || seen[v.ID] {
				t.Errorf("page %d: %s (live %v, seen %v)", page, v.ID, live[v.ID], seen[v.ID])
			}
			seen[v.ID] = true
			order = append(order, v.CreatedAt)
		}
		if got.NextCursor == "" {
			break
		}
		cursor = got.NextCursor
	}
	if len(seen) != len(live) {
		t.Errorf("saw %d of %d live promotions", len(seen), len(live))
	}
	if !slices.IsSortedFunc(order, func(a, b time.Time) int { return b.Compare(a) }) {
		t.Error("the feed is not newest first")
	}
	for _, bad := range []struct {
		limit  int
		cursor string
	}{{-1, ""}, {51, ""}, {10, "nope"}} {
		if _, err := s.Feed(context.Background(), bad.limit, bad.cursor); !errors.Is(err, ErrInvalid) {
			t.Errorf("Feed(%d, %q): err = %v, want ErrInvalid", bad.limit, bad.cursor, err)
		}
	}
}
