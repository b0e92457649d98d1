package schemacheck

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// validateDateTime checks the date-time format (RFC 3339, section 5.6) exactly as the
// JSON Schema validator the tests compare against (santhosh-tekuri/jsonschema v6) does:
// a 't' or 'T' between date and time, 'z' or 'Z' or a ±hh:mm offset, optional fractional
// seconds, and a leap second only at 23:59:60 UTC.
func validateDateTime(s string) error {
	// min: yyyy-mm-ddThh:mm:ssZ
	if len(s) < 20 {
		return errors.New("less than 20 characters long")
	}
	if s[10] != 't' && s[10] != 'T' {
		return errors.New("11th character must be t or T")
	}
	if _, err := time.Parse("2006-01-02", s[:10]); err != nil {
		return errors.New("invalid date")
	}
	return validateTime(s[11:])
}

// validateTime checks the full-time part of a date-time.
func validateTime(str string) error {
	// min: hh:mm:ssZ
	if len(str) < 9 {
		return errors.New("time less than 9 characters long")
	}
	if str[2] != ':' || str[5] != ':' {
		return errors.New("missing colon in time")
	}
	var hms [3]int
	for i, tok := range strings.SplitN(str[:8], ":", 3) {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return errors.New("invalid hour, minute or second")
		}
		hms[i] = n
	}
	h, m, sec := hms[0], hms[1], hms[2]
	if h > 23 || m > 59 || sec > 60 {
		return errors.New("hour, minute or second out of range")
	}
	str = str[8:]
	if rem, ok := strings.CutPrefix(str, "."); ok {
		digits := 0
		for _, ch := range rem {
			if ch < '0' || ch > '9' {
				break
			}
			digits++
		}
		if digits == 0 {
			return errors.New("no digits in second fraction")
		}
		str = rem[digits:]
	}
	if str != "z" && str != "Z" {
		if len(str) != 6 {
			return errors.New("offset must be 6 characters long")
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = +1
		default:
			return errors.New("offset must begin with plus or minus")
		}
		str = str[1:]
		if str[2] != ':' {
			return errors.New("missing colon in offset")
		}
		var zhm [2]int
		for i, tok := range strings.SplitN(str, ":", 2) {
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 {
				return errors.New("invalid offset")
			}
			zhm[i] = n
		}
		zh, zm := zhm[0], zhm[1]
		if zh > 23 || zm > 59 {
			return errors.New("offset out of range")
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	if sec >= 60 && (h != 23 || m != 59) {
		return errors.New("invalid leap second")
	}
	return nil
}
