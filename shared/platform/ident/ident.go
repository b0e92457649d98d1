// Package ident checks the character shape of identifiers and codes — an order id is
// "o_" then lower-case base32, a currency three capital letters — with plain loops over
// their bytes.
//
// It replaces package-level regular expressions, which every function compiled in its
// package initialisation on every cold start (docs/bench.md). Each function here accepts
// exactly what the regular expression in its comment matches; ident_test.go checks
// that against package regexp.
package ident

// Base32 reports whether s is prefix followed by one or more characters of lower-case
// RFC 4648 base32: ^prefix[a-z2-7]+$.
func Base32(s, prefix string) bool {
	if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Token reports whether s is one or more letters, digits, '_' or '-' (the URL-safe
// base64 alphabet): ^[A-Za-z0-9_-]+$.
func Token(s string) bool { return AlnumOr(s, "_-") }

// AlnumOr reports whether s is one or more ASCII letters, digits or bytes of extra
// (ASCII punctuation): ^[A-Za-z0-9<extra>]+$.
func AlnumOr(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && !in(c, extra) {
			return false
		}
	}
	return true
}

// Upper reports whether s is exactly n capital ASCII letters: ^[A-Z]{n}$.
func Upper(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Snake reports whether s is a lower-case ASCII letter followed by lower-case letters,
// digits or '_': ^[a-z][a-z0-9_]*$.
func Snake(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

func in(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
