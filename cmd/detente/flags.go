package main

import (
	"flag"
	"net/url"
	"strings"

	"detente"
)

// badFlag is the usage error for a flag given a value it cannot take. It
// names the flag and the value and says what the flag wants, and, when the
// value looks like a typo of one of choices, which one was probably meant.
func badFlag(name, value, want string, choices ...string) error {
	return usagef("--%s %q: %s%s", name, value, want, detente.DidYouMean(value, choices))
}

// nameFlag checks the value of a flag that takes a node or partner name.
func nameFlag(name, value string) error {
	if !detente.ValidName(value) {
		var lower []string // "Alpha" was meant to be "alpha"; "Bravo Team" cannot be
		if l := strings.ToLower(value); detente.ValidName(l) {
			lower = append(lower, l)
		}
		return badFlag(name, value, "want lowercase letters, digits and hyphens, starting with a letter", lower...)
	}
	return nil
}

// webURLFlag checks the value of a flag that takes an http(s) URL.
func webURLFlag(name, value string) error {
	if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badFlag(name, value, "want an http:// or https:// URL")
	}
	return nil
}

// keyFlag parses the value of a flag that takes a node key.
func keyFlag(name, value string) (detente.PublicKey, error) {
	k, err := detente.ParsePublicKey(value)
	if err != nil {
		return nil, badFlag(name, value, "want a node key, "+detente.NodeKeyPrefix+" and 32 bytes of base64, as 'detente key' prints it")
	}
	return k, nil
}

// urlFlag checks the value of a flag that takes a partner's URL.
func urlFlag(name, value string) error {
	if detente.ValidPartnerURL(value) != nil {
		return badFlag(name, value, "want https://host[:port][/path], without credentials, query or fragment: partners talk over mutual TLS only")
	}
	return nil
}

// optionalString is a string flag that knows whether it was given, so
// that "--url ”" (clear it) differs from no --url (leave it).
type optionalString struct {
	value string
	set   bool
}

var _ flag.Value = (*optionalString)(nil)

func (o *optionalString) String() string { return o.value }

func (o *optionalString) Set(s string) error {
	o.value, o.set = s, true
	return nil
}

// ptr returns the value, or nil when the flag was not given.
func (o *optionalString) ptr() *string {
	if !o.set {
		return nil
	}
	return &o.value
}

// describe is how a command's output names an optional value.
func describe(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
