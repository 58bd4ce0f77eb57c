package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "detente", Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "b3c2cce85cec810cee24412d1e0f2b45066881c9"},
		{Key: "vcs.time", Value: "2026-12-02T16:06:33Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	want := versionInfo{Version: "v1.4.0", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Revision: "b3c2cce85cec810cee24412d1e0f2b45066881c9", RevisionTime: "2026-12-02T16:06:33Z", Modified: true}
	if got := versionOf(bi); got != want {
		t.Errorf("versionOf(stamped) = %+v\nwant %+v", got, want)
	}
	want = versionInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	for _, bi := range []*debug.BuildInfo{nil, {Main: debug.Module{Path: "detente"}}} {
		if got := versionOf(bi); got != want {
			t.Errorf("versionOf(%v) = %+v, want %+v", bi, got, want)
		}
	}
}

// TestVersionOfBuiltBinary: the real binary reports what the toolchain
// stamped into it, as 'go version -m' reads it: the module version and,
// when built from a checkout with VCS stamping, the revision.
func TestVersionOfBuiltBinary(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got versionInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	m, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := versionInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	for sc := bufio.NewScanner(bytes.NewReader(m)); sc.Scan(); {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[2] != "":
			want.Version = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				want.Revision = v
			case "vcs.time":
				want.RevisionTime = v
			case "vcs.modified":
				want.Modified = v == "true"
			}
		}
	}
	if got != want {
		t.Errorf("version --json = %+v\ngo version -m says %+v", got, want)
	}
	text, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(text), "detente "+want.Version+"\n") ||
		(want.Revision != "") != strings.Contains(string(text), "from revision "+want.Revision) {
		t.Errorf("version: %v\n%s", err, text)
	}
}
