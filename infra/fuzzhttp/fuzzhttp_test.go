package fuzzhttp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/etalase/etalase/shared/platform/httpapi"
)

// A fixture's own input rebuilds the fixture: the seeds start from real requests.
func TestFixtureInputRebuildsTheFixture(t *testing.T) {
	for fn, dir := range map[string]string{
		"CommerceCatalogFunction":        "catalog",
		"CommerceCartFunction":           "cart",
		"CommercePaymentWebhookFunction": "paymentwebhook",
	} {
		tg := New(t, "../../template.yaml", fn, "../../events/commerce/"+dir)
		for i, want := range tg.Fixtures {
			got := tg.Build(tg.FixtureInput(i))
			opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(httpapi.Request{}, "Body", "IsBase64Encoded")}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("%s: (-fixture +built):\n%s", tg.Names[i], diff)
			}
			if got.Body != want.Body && !want.IsBase64Encoded {
				t.Errorf("%s: body %q, want %q", tg.Names[i], got.Body, want.Body)
			}
		}
	}
}

func TestBuild(t *testing.T) {
	tg := New(t, "../../template.yaml", "CommerceCatalogFunction", "../../events/commerce/catalog")
	req := tg.Build(Input{Route: 1, Auth: 4, Path: "a/b", Query: "limit=1&limit=2&x", Headers: "X-Thing: 1\nno colon\ncookie: a=b\ncookie: c=d", Body: "{}", Base64: true})
	if req.RouteKey != tg.Routes[0] || req.RequestContext.RouteKey != req.RouteKey {
		t.Errorf("route %q, want %q", req.RouteKey, tg.Routes[0])
	}
	if p := httpapi.PrincipalFrom(req); p.Subject != "fuzz-other-subject" || !p.HasScope("seller") {
		t.Errorf("principal %+v", p)
	}
	if req.QueryStringParameters["limit"] != "1,2" || req.Headers["x-thing"] != "1" || len(req.Cookies) != 2 || req.Body != "e30=" || !req.IsBase64Encoded {
		t.Errorf("request %+v", req)
	}
	for auth, want := range map[uint8]httpapi.Principal{
		1: {},
		3: {Subject: "5b0e8f3c-2d1a-4c9e-9f7b-1a2b3c4d5e6f"},
		5: {Scopes: []string{"openid", "seller"}},
	} {
		got := httpapi.PrincipalFrom(tg.Build(Input{Fixture: 1, Auth: auth}))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("auth %d (-want +got):\n%s", auth, diff)
		}
	}
}
