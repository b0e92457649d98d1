// Package envconfig reads a function's environment into one typed config struct at cold
// start, so that nothing else in a function reads the environment.
//
//	type Config struct {
//		CatalogTable string        `env:"CATALOG_TABLE,required"`
//		Timeout      time.Duration `env:"TIMEOUT" default:"3s"`
//	}
package envconfig

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Load fills the exported fields of *dst tagged `env:"NAME[,required]"` from the
// process environment; see LoadFrom.
func Load(dst any) error { return LoadFrom(os.LookupEnv, dst) }

// LoadFrom fills *dst from lookup. Supported field types: string, bool, int, int64,
// time.Duration and []string (comma-separated); untagged struct fields are filled
// recursively. A `default:"..."` tag applies when the variable is unset or empty. Every
// problem is reported, not only the first.
func LoadFrom(lookup func(string) (string, bool), dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return errors.New("envconfig: destination must be a pointer to a struct")
	}
	if err := errors.Join(load(lookup, rv.Elem())...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// load fills one struct; untagged struct fields (such as an embedded awsclient.Config)
// are filled recursively.
func load(lookup func(string) (string, bool), v reflect.Value) []error {
	var errs []error
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
				errs = append(errs, load(lookup, v.Field(i))...)
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		raw, set := lookup(name)
		if !set || raw == "" {
			if def, ok := f.Tag.Lookup("default"); ok {
				raw, set = def, true
			}
		}
		if !set || raw == "" {
			if opts == "required" {
				errs = append(errs, fmt.Errorf("%s is required", name))
			}
			continue
		}
		if err := setField(v.Field(i), raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errs
}

func setField(fv reflect.Value, raw string) error {
	switch fv.Interface().(type) {
	case string:
		fv.SetString(raw)
	case bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", raw)
		}
		fv.SetBool(b)
	case int, int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", raw)
		}
		fv.SetInt(n)
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration: %q", raw)
		}
		fv.SetInt(int64(d))
	case []string:
		var out []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		fv.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}
