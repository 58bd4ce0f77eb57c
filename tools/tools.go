//go:build tools

// Package tools pins the versions of the developer tools .ci/run uses, so
// CI never installs whatever @latest happens to be.
package tools

import (
	_ "golang.org/x/perf/cmd/benchstat"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
