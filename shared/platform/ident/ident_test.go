package ident_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/platform/ident"
)

// corpus is every string of up to two bytes from an alphabet with a few characters of
// each class and its neighbours, prefixes of the ids, and multi-byte and invalid UTF-8.
func corpus() []string {
	alphabet := []string{"", "a", "z", "A", "Z", "0", "1", "2", "7", "8", "9", "_", "-", ".", ":", "~", "+", "/", "=", " ",
		"\n", "`", "{", "@", "[", "é", "\xff", "\x00", "o", "p", "g", "r", "O"}
	var out []string
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range []string{"", "a", "A", "2"} {
				out = append(out, a+b+c)
			}
		}
	}
	for _, p := range []string{"o_", "p_", "g_", "pr_", "or_", "O_", "o-", "o"} {
		for _, rest := range []string{"", "a", "abc234567xyz", "abc8", "ABC", "a b", "a\n", "é", strings.Repeat("a", 26)} {
			out = append(out, p+rest, rest+p)
		}
	}
	return append(out, "IDR", "idr", "IDRX", "ID", "IDR\n", "status_changed", "notification_rejected", "1type", "_x", "a__1")
}

func TestAgreesWithRegexp(t *testing.T) {
	cases := []struct {
		re string
		fn func(string) bool
	}{
		{`^o_[a-z2-7]+$`, func(s string) bool { return ident.Base32(s, "o_") }},
		{`^or_[a-z2-7]+$`, func(s string) bool { return ident.Base32(s, "or_") }},
		{`^pr_[a-z2-7]+$`, func(s string) bool { return ident.Base32(s, "pr_") }},
		{`^[a-z2-7]+$`, func(s string) bool { return ident.Base32(s, "") }},
		{`^[A-Za-z0-9_-]+$`, ident.Token},
		{`^[A-Za-z0-9._:~+/=-]+$`, func(s string) bool { return ident.AlnumOr(s, "._:~+/=-") }},
		{`^[A-Z]{3}$`, func(s string) bool { return ident.Upper(s, 3) }},
		{`^[a-z][a-z0-9_]*$`, ident.Snake},
	}
	inputs := corpus()
	for _, c := range cases {
		re := regexp.MustCompile(c.re)
		matched := 0
		for _, s := range inputs {
			want := re.MatchString(s)
			if got := c.fn(s); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", c.re, s, got, want)
			}
			if want {
				matched++
			}
		}
		if matched == 0 || matched == len(inputs) {
			t.Errorf("%s: %d of %d inputs match; the corpus does not tell", c.re, matched, len(inputs))
		}
	}
}

func FuzzAgreesWithRegexp(f *testing.F) {
	for _, s := range corpus() {
		f.Add(s)
	}
	token, key := regexp.MustCompile(`^[A-Za-z0-9_-]+$`), regexp.MustCompile(`^[A-Za-z0-9._:~+/=-]+$`)
	base32, upper, snake := regexp.MustCompile(`^o_[a-z2-7]+$`), regexp.MustCompile(`^[A-Z]{3}$`), regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	f.Fuzz(func(t *testing.T, s string) {
		if ident.Token(s) != token.MatchString(s) || ident.AlnumOr(s, "._:~+/=-") != key.MatchString(s) ||
			ident.Base32(s, "o_") != base32.MatchString(s) || ident.Upper(s, 3) != upper.MatchString(s) || ident.Snake(s) != snake.MatchString(s) {
			t.Errorf("disagreement on %q", s)
		}
	})
}
