package schemacheck

import (
	"regexp"
	"sync"
)

// pattern is a compiled "pattern" keyword, with Go's regexp semantics (what JSON Schema
// validators in Go use).
//
// The contract's patterns are sequences of literals and character classes, each
// optionally repeated a bounded number of times, such as ^[A-Za-z0-9_-]{1,64}$. Those
// match here directly: Go's regexp compiler would expand a counted repetition into as
// many copies, which for {1,64} costs about a millisecond at cold start. Any other
// pattern uses package regexp.
type pattern struct {
	src string
	// begin and end: anchored at the start or end of the text (^, $ in Go's default
	// one-line mode).
	begin, end bool
	items      []patternItem
	// fallback: the pattern is outside the subset; re is compiled on first use.
	fallback bool
	once     sync.Once
	re       *regexp.Regexp
}

// patternItem is one character class repeated min to max times (max -1: unbounded).
type patternItem struct {
	ranges   []rune // inclusive pairs, as in syntax.Regexp.Rune
	min, max int
}

func (it *patternItem) has(r rune) bool {
	for i := 0; i+1 < len(it.ranges); i += 2 {
		if it.ranges[i] <= r && r <= it.ranges[i+1] {
			return true
		}
	}
	return false
}

// match reports whether s contains a match (the whole of s when anchored at both ends).
// It follows every position each item can reach, so it needs no backtracking.
func (p *pattern) match(s string) bool {
	if p.fallback {
		p.once.Do(func() { p.re = regexp.MustCompile(p.src) }) // compiled when generated
		return p.re.MatchString(s)
	}
	rs := []rune(s) // invalid UTF-8 bytes become U+FFFD, one each, as in regexp
	n := len(rs)
	at := make([]bool, n+1) // at[i]: the items so far can end at rune i
	for i := range at {
		at[i] = i == 0 || !p.begin
	}
	next := make([]bool, n+1)
	for _, it := range p.items {
		clear(next)
		reached := false
		for i, ok := range at {
			if !ok {
				continue
			}
			if it.min == 0 {
				next[i], reached = true, true
			}
			for k, j := 0, i; j < n && (it.max < 0 || k < it.max) && it.has(rs[j]); j++ {
				k++
				if k >= it.min {
					next[j+1], reached = true, true
				}
			}
		}
		if !reached {
			return false
		}
		at, next = next, at
	}
	if p.end {
		return at[n]
	}
	for _, ok := range at {
		if ok {
			return true
		}
	}
	return false
}
