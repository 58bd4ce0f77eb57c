package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommands() []*command {
	return []*command{
		define(command{
			name:    "version",
			noDir:   true,
			hasJSON: true,
			summary: "print detente's version, the Go version it was built with and, built from a checkout, the revision",
			example: "detente version --json",
		}, nil, runVersion),
	}
}

// versionInfo is what 'detente version' reports.
type versionInfo struct {
	Version      string `json:"version"`  // the module version, "(devel)" for a build from a checkout
	Go           string `json:"go"`       // the Go release it was built with
	Platform     string `json:"platform"` // GOOS/GOARCH
	Revision     string `json:"revision,omitempty"`
	RevisionTime string `json:"revision_time,omitempty"`
	Modified     bool   `json:"modified,omitempty"` // built with uncommitted changes
}

// buildVersion reads the version information the Go toolchain stamped into
// this binary.
func buildVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// versionOf is the version information in bi, which may be nil. The
// toolchain stamps the revision only into a build from a checkout with VCS
// stamping on (the default, -buildvcs=auto).
func versionOf(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.RevisionTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func runVersion(_ context.Context, e *env, _ *noArgs) error {
	if len(e.args) > 0 {
		return usagef("version takes no arguments")
	}
	v := buildVersion()
	if e.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "detente %s\nbuilt with %s for %s\n", v.Version, v.Go, v.Platform)
	if v.Revision != "" {
		fmt.Fprintf(e.stdout, "from revision %s", v.Revision)
		if v.RevisionTime != "" {
			fmt.Fprintf(e.stdout, " of %s", v.RevisionTime)
		}
		if v.Modified {
			fmt.Fprint(e.stdout, ", with uncommitted changes")
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}
