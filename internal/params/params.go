// Package params reads the query parameters of HTTP requests, typed and
// checked, for the JSON API and the console. An endpoint declares the
// parameters it takes; Parse refuses, with an EINVALID error that names the
// parameter, a value that is not valid UTF-8, does not parse (numbers,
// booleans, enumerations, dates) or is out of range, a parameter given
// more than once that may be given only once, and a parameter the endpoint
// does not take. Nothing is dropped, rewritten or defaulted silently.
//
// An empty value counts as absent: HTML forms send every field, filled in
// or not.
package params

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"detente"
)

// Param declares one query parameter of an endpoint.
type Param struct {
	Name     string
	multi    bool // may be given more than once
	required bool
	min, max int64 // for integers
	kind     kind
	check    func(v string) error // for kindFunc
	values   []string             // for kindEnum
}

type kind int

const (
	kindText kind = iota
	kindInt
	kindEnum
	kindBool
	kindDate
	kindFunc
	kindOthers
)

// Text declares a parameter holding any text (valid UTF-8).
func Text(name string) Param { return Param{Name: name, kind: kindText} }

// List declares a text parameter that may be given several times.
func List(name string) Param { return Param{Name: name, kind: kindText, multi: true} }

// Int declares a decimal integer parameter between min and max inclusive.
func Int(name string, min, max int64) Param {
	return Param{Name: name, kind: kindInt, min: min, max: max}
}

// Enum declares a parameter whose value is one of values, exactly.
func Enum(name string, values ...string) Param {
	return Param{Name: name, kind: kindEnum, values: values}
}

// Bool declares a parameter that is true or false.
func Bool(name string) Param { return Param{Name: name, kind: kindBool} }

// Date declares a parameter holding a date or a part of one: YYYY,
// YYYY-MM or YYYY-MM-DD.
func Date(name string) Param { return Param{Name: name, kind: kindDate} }

// Func declares a text parameter that check accepts. check's error message
// says what is wrong with the value, e.g. `"Z9" is not a grading`; Parse
// prefixes it with the name.
func Func(name string, check func(v string) error) Param {
	return Param{Name: name, kind: kindFunc, check: check}
}

// Required returns p, made required.
func (p Param) Required() Param {
	p.required = true
	return p
}

// IgnoreOthers, among an endpoint's parameters, makes Parse ignore the
// parameters not declared instead of refusing them. The console uses it: a
// stray parameter in a bookmark must not break a page; the API does not.
var IgnoreOthers = Param{kind: kindOthers}

// Values are the checked parameters of one request. Getters panic for a
// name that was not declared: that is a bug of the endpoint.
type Values struct {
	declared map[string]bool
	text     map[string][]string
	ints     map[string]int64
}

// maxShown bounds how much of a bad value an error message repeats.
const maxShown = 40

func invalid(format string, args ...any) error {
	return detente.Errorf(detente.EINVALID, format, args...)
}

// show quotes v for an error message, shortened.
func show(v string) string {
	if len(v) > maxShown {
		return strconv.Quote(v[:maxShown]) + "…"
	}
	return strconv.Quote(v)
}

// Parse parses rawQuery, a URL's query string, and checks it against ps.
func Parse(rawQuery string, ps ...Param) (Values, error) {
	v := Values{declared: map[string]bool{}, text: map[string][]string{}, ints: map[string]int64{}}
	decl := map[string]Param{}
	others := false
	var names []string
	for _, p := range ps {
		if p.kind == kindOthers {
			others = true
			continue
		}
		decl[p.Name] = p
		v.declared[p.Name] = true
		names = append(names, p.Name)
	}
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" {
			continue
		}
		if strings.Contains(kv, ";") {
			return Values{}, invalid("query string: %s holds a semicolon: separate parameters with &", show(kv))
		}
		rawName, rawValue, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil || !utf8.ValidString(name) {
			if others {
				continue
			}
			return Values{}, invalid("query string: %s is not a parameter name", show(rawName))
		}
		if _, ok := decl[name]; !ok {
			if others {
				continue
			}
			return Values{}, invalid("unknown parameter %s: this endpoint takes %s", show(name), takes(names))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return Values{}, invalid("%s: %s is not valid URL encoding", name, show(rawValue))
		}
		if !utf8.ValidString(value) {
			return Values{}, invalid("%s: %s is not valid UTF-8", name, show(value))
		}
		if value != "" {
			v.text[name] = append(v.text[name], value)
		}
	}
	for _, name := range names {
		p, vs := decl[name], v.text[name]
		switch {
		case len(vs) == 0 && p.required:
			return Values{}, invalid("%s is required", name)
		case len(vs) > 1 && !p.multi:
			return Values{}, invalid("%s: given %d times, at most once", name, len(vs))
		}
		for _, s := range vs {
			if err := p.parse(s, &v); err != nil {
				return Values{}, err
			}
		}
	}
	return v, nil
}

func takes(names []string) string {
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}

// parse checks one non-empty value s of p and records what it needs to.
func (p Param) parse(s string, v *Values) error {
	switch p.kind {
	case kindInt:
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return invalid("%s: %s is %s", p.Name, show(s), p.rangeText())
		case err != nil:
			return invalid("%s: %s is not a number", p.Name, show(s))
		case n < p.min || n > p.max:
			return invalid("%s: %d is %s", p.Name, n, p.rangeText())
		}
		v.ints[p.Name] = n
	case kindEnum:
		if !slices.Contains(p.values, s) {
			return invalid("%s: %s is not one of %s", p.Name, show(s), strings.Join(p.values, ", "))
		}
	case kindBool:
		if s != "true" && s != "false" {
			return invalid("%s: %s is not true or false", p.Name, show(s))
		}
	case kindDate:
		for _, layout := range []string{"2006", "2006-01", time.DateOnly} {
			if _, err := time.Parse(layout, s); err == nil && len(s) == len(layout) {
				return nil
			}
		}
		return invalid("%s: %s is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", p.Name, show(s))
	case kindFunc:
		if err := p.check(s); err != nil {
			return invalid("%s: %s", p.Name, detente.ErrorMessage(err))
		}
	}
	return nil
}

func (p Param) rangeText() string {
	if p.max == math.MaxInt64 {
		return fmt.Sprintf("out of range (%d or more)", p.min)
	}
	return fmt.Sprintf("out of range (%d to %d)", p.min, p.max)
}

func (v Values) mustDeclare(name string) {
	if !v.declared[name] {
		panic("params: parameter " + name + " is not declared for this endpoint")
	}
}

// Has reports whether name was given, with a non-empty value.
func (v Values) Has(name string) bool {
	v.mustDeclare(name)
	return len(v.text[name]) > 0
}

// Text returns the value of name, "" when absent.
func (v Values) Text(name string) string {
	v.mustDeclare(name)
	if vs := v.text[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// List returns every value of name, in order.
func (v Values) List(name string) []string {
	v.mustDeclare(name)
	return slices.Clone(v.text[name])
}

// Int returns the integer value of name, def when absent.
func (v Values) Int(name string, def int64) int64 {
	v.mustDeclare(name)
	if n, ok := v.ints[name]; ok {
		return n
	}
	return def
}

// Bool returns whether name is "true".
func (v Values) Bool(name string) bool { return v.Text(name) == "true" }
