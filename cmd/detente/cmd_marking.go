package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/stix"
)

func markingCommands() []*command {
	var caveat, to, purpose string
	return []*command{{
		name:    "marking new",
		noDir:   true,
		summary: "print a new handling-caveat marking-definition (third-party-rule, releasable-to, purpose) to reference and ingest",
		example: "detente marking new --caveat releasable-to --to bravo,charlie > only-bravo-charlie.json",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&caveat, "caveat", "", "third-party-rule, releasable-to or purpose (required)")
			fs.StringVar(&to, "to", "", "for releasable-to: comma-separated partner names or node keys")
			fs.StringVar(&purpose, "purpose", "", "for purpose: the purpose, e.g. counter-terrorism")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			var recipients []string
			for _, r := range strings.Split(to, ",") {
				if r = strings.TrimSpace(r); r != "" {
					recipients = append(recipients, r)
				}
			}
			switch {
			case caveat == detente.CaveatThirdPartyRule && len(recipients) == 0 && purpose == "":
			case caveat == detente.CaveatReleasableTo && len(recipients) > 0 && purpose == "":
			case caveat == detente.CaveatPurpose && purpose != "" && len(recipients) == 0:
			default:
				return usagef("--caveat third-party-rule, or --caveat releasable-to with --to, or --caveat purpose with --purpose")
			}
			raw := stix.NewCaveatMarking(caveat, recipients, purpose, time.Now())
			if _, err := stix.ParseObject(raw); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "%s\n", raw)
			return err
		},
	}}
}
