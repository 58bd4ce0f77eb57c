package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/stix"
)

func markingCommands() []*command {
	return []*command{
		define(command{
			name:    "marking new",
			noDir:   true,
			summary: "print a new handling-caveat marking-definition (third-party-rule, releasable-to, purpose, fingerprint) to reference and ingest",
			example: "detente marking new --caveat releasable-to --to bravo,charlie > only-bravo-charlie.json",
		}, markingNewFlags, runMarkingNew),
	}
}

type markingNewArgs struct{ caveat, to, purpose string }

func markingNewFlags(a *markingNewArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.caveat, "caveat", "", "third-party-rule, releasable-to, purpose or fingerprint (required)")
	fs.StringVar(&a.to, "to", "", "for releasable-to: comma-separated partner names or node keys")
	fs.StringVar(&a.purpose, "purpose", "", "for purpose: the purpose, e.g. counter-terrorism")
}

func runMarkingNew(_ context.Context, e *env, a *markingNewArgs) error {
	var recipients []string
	for _, r := range strings.Split(a.to, ",") {
		if r = strings.TrimSpace(r); r != "" {
			recipients = append(recipients, r)
		}
	}
	caveats := []string{detente.CaveatThirdPartyRule, detente.CaveatReleasableTo, detente.CaveatPurpose, detente.CaveatFingerprint}
	if a.caveat != "" && !slices.Contains(caveats, a.caveat) {
		return badFlag("caveat", a.caveat, "want third-party-rule, releasable-to, purpose or fingerprint", caveats...)
	}
	switch {
	case (a.caveat == detente.CaveatThirdPartyRule || a.caveat == detente.CaveatFingerprint) && len(recipients) == 0 && a.purpose == "":
	case a.caveat == detente.CaveatReleasableTo && len(recipients) > 0 && a.purpose == "":
	case a.caveat == detente.CaveatPurpose && a.purpose != "" && len(recipients) == 0:
	default:
		return usagef("--caveat third-party-rule or fingerprint, or --caveat releasable-to with --to, or --caveat purpose with --purpose")
	}
	raw := stix.NewCaveatMarking(a.caveat, recipients, a.purpose, time.Now())
	if _, err := stix.ParseObject(raw); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "%s\n", raw)
	return err
}
