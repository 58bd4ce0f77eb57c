package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"detente/internal/hotline"
	"detente/internal/nodetest"
	"detente/internal/server"
)

// servedNode makes a node in a new directory and serves it on loopback
// until the test ends, as 'detente serve' would.
func servedNode(t *testing.T, name string) (dir, url, key string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	mustCLI(t, "", "init", "--dir", dir, "--name", name)
	n, err := nodetest.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(n, nil, server.Options{Hotline: hotline.RunOptions{Poll: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond}})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		n.Close()
	})
	return dir, srv.URL(), n.PublicKey().String()
}

func messagesOf(t *testing.T, dir string) []hotline.MessageView {
	t.Helper()
	var vs []hotline.MessageView
	if err := json.Unmarshal([]byte(mustCLI(t, "", "message", "list", "--dir", dir, "--json")), &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestChannelCommands drives a channel between two served nodes through
// the command line only: open, accept, messages with acknowledgement and
// response, notices that conflict, bad GeoJSON, suspend and close.
func TestChannelCommands(t *testing.T) {
	alpha, alphaURL, alphaKey := servedNode(t, "alpha")
	bravo, bravoURL, bravoKey := servedNode(t, "bravo")
	mustCLI(t, "", "partner", "add", "--dir", alpha, "--name", "bravo", "--key", bravoKey, "--url", bravoURL)
	mustCLI(t, "", "partner", "add", "--dir", bravo, "--name", "alpha", "--key", alphaKey, "--url", alphaURL)

	out := mustCLI(t, "", "channel", "open", "--dir", alpha, "--partner", "bravo", "--purpose", "Euro 2028 security",
		"--event", "Euro 2028", "--from", "-1h", "--until", "24h", "--contact", "J. Smith <duty-officer>",
		"--contact", "bravo:K. Jones <liaison officer>", "--ack", "crisis-alert=5m")
	id := regexp.MustCompile(`channel--[0-9a-f-]+`).FindString(out)
	if id == "" || !strings.Contains(out, "is proposed") || !strings.Contains(out, "bravo: informed") {
		t.Fatalf("channel open:\n%s", out)
	}
	var chs []*hotline.Channel
	json.Unmarshal([]byte(mustCLI(t, "", "channel", "list", "--dir", bravo, "--json")), &chs)
	if len(chs) != 1 || chs[0].ID != id || chs[0].State != hotline.StateProposed || chs[0].Parties[1].Contacts[0].Name != "K. Jones" {
		t.Fatalf("bravo's channels: %+v", chs)
	}
	if out := mustCLI(t, "", "channel", "accept", "--dir", bravo, "--id", id, "--reason", "agreed"); !strings.Contains(out, "is open") || !strings.Contains(out, "alpha: informed") {
		t.Fatalf("channel accept:\n%s", out)
	}
	if out := mustCLI(t, "", "channel", "list", "--dir", alpha); !strings.Contains(out, "open") || !strings.Contains(out, "Euro 2028 security") {
		t.Errorf("alpha's list:\n%s", out)
	}

	out = mustCLI(t, "", "message", "send", "--dir", alpha, "--type", "request", "--to-channel", id, "--subject", "fan zone",
		"--text", "Expected attendance on 14 June?", "--due", "2h", "--by", "J. Smith", "--tlp", "clear")
	if !strings.Contains(out, "delivered to bravo") {
		t.Fatalf("message send:\n%s", out)
	}
	req := regexp.MustCompile(`message--[0-9a-f-]+`).FindString(out)
	out = mustCLI(t, "", "message", "send", "--dir", alpha, "--type", "crisis-alert", "--to-channel", id, "--text", "Drone over the stadium")
	crisis := regexp.MustCompile(`message--[0-9a-f-]+`).FindString(out)
	mustCLI(t, "", "message", "ack", "--dir", bravo, "--id", crisis, "--by", "K. Jones")
	mustCLI(t, "", "message", "send", "--dir", bravo, "--type", "response", "--to-channel", id, "--reply-to", req, "--text", "About 40 000")
	states := map[string]hotline.MessageView{}
	for _, v := range messagesOf(t, alpha) {
		states[v.Message.ID] = v
	}
	if v := states[crisis]; v.State != hotline.Acknowledged || len(v.AckedBy) != 1 || !strings.Contains(v.AckedBy[0], "K. Jones") {
		t.Errorf("crisis alert at alpha: %+v", v)
	}
	if v := states[req]; v.State != hotline.Answered {
		t.Errorf("request at alpha: %s", v.State)
	}
	if out := mustCLI(t, "", "message", "list", "--dir", alpha); !strings.Contains(out, "sent → delivered → acknowledged by K. Jones (bravo)") {
		t.Errorf("alpha's message list:\n%s", out)
	}
	if code, _, errs := cli(t, "", "message", "ack", "--dir", bravo, "--id", "message--00000000-0000-4000-8000-000000000000", "--by", "K. Jones"); code != exitError || !strings.Contains(errs, "not found") {
		t.Errorf("ack of an unknown message: %d %s", code, errs)
	}

	out = mustCLI(t, "", "notice", "file", "--dir", alpha, "--channel", id, "--circle", "48.9245,2.3602,3000", "--alt", "0..FL50",
		"--from", "1h", "--until", "5h", "--nature", "police helicopter patrols")
	if !strings.Contains(out, "no conflicts") || !strings.Contains(out, "delivered to bravo") {
		t.Fatalf("first notice:\n%s", out)
	}
	activity := strings.Fields(out)[1] // "activity activity--… filed (notice …)"
	area := filepath.Join(t.TempDir(), "area.json")
	os.WriteFile(area, []byte(`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[2.37,48.91],[2.42,48.91],[2.42,48.94],[2.37,48.94],[2.37,48.91]]]}}`), 0o600)
	out = mustCLI(t, "", "notice", "file", "--dir", bravo, "--channel", id, "--geojson", area, "--alt", "500m..1500m",
		"--from", "3h", "--until", "8h", "--nature", "counter-drone trials")
	if !strings.Contains(out, "CONFLICT: ") || !strings.Contains(out, "alpha's activity--") || !strings.Contains(out, "bravo's activity--") {
		t.Fatalf("conflicting notice:\n%s", out)
	}
	if out := mustCLI(t, "", "notice", "list", "--dir", alpha); !strings.Contains(out, "CONFLICT:") || !strings.Contains(out, "counter-drone trials") {
		t.Errorf("alpha's notices:\n%s", out)
	}
	out = mustCLI(t, "", "notice", "amend", "--dir", alpha, "--id", activity, "--until", "2h", "--reason", "patrols end earlier")
	if !strings.Contains(out, "amended (version 2") || !strings.Contains(out, "no conflicts") || !strings.Contains(out, "delivered to bravo") {
		t.Errorf("amendment ending before bravo's notice:\n%s", out)
	}
	if code, _, errs := cli(t, "", "notice", "amend", "--dir", alpha, "--id", activity); code != exitUsage || !strings.Contains(errs, "nothing to amend") {
		t.Errorf("empty amendment: exit %d, %s", code, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"type":"Polygon","coordinates":[[[2.37,48.91],[2.42,48.91],[2.42,48.94]]]}`), 0o600)
	code, _, errs := cli(t, "", "notice", "file", "--dir", alpha, "--channel", id, "--geojson", bad, "--alt", "0..100", "--from", "1h", "--until", "2h", "--nature", "x")
	if code != exitError || !strings.Contains(errs, "GeoJSON polygon") {
		t.Errorf("malformed GeoJSON: exit %d, %s", code, errs)
	}

	mustCLI(t, "", "channel", "suspend", "--dir", alpha, "--id", id, "--reason", "incident under review")
	code, _, errs = cli(t, "", "message", "send", "--dir", bravo, "--type", "notice", "--to-channel", id, "--text", "routine")
	if code != exitError || !strings.Contains(errs, "suspended") {
		t.Errorf("notice on a suspended channel: exit %d, %s", code, errs)
	}
	if out := mustCLI(t, "", "message", "send", "--dir", bravo, "--type", "crisis-alert", "--to-channel", id, "--text", "Crowd crush at gate C"); !strings.Contains(out, "delivered to alpha") {
		t.Errorf("crisis alert on a suspended channel:\n%s", out)
	}
	mustCLI(t, "", "channel", "close", "--dir", bravo, "--id", id, "--reason", "tournament over")
	code, _, errs = cli(t, "", "message", "send", "--dir", alpha, "--type", "crisis-alert", "--to-channel", id, "--text", "late")
	if code != exitError || !strings.Contains(errs, "closed") {
		t.Errorf("crisis alert on a closed channel: exit %d, %s", code, errs)
	}
	if code, _, _ := cli(t, "", "channel", "open", "--dir", alpha, "--purpose", "x"); code != exitUsage {
		t.Errorf("channel open without partner: exit %d", code)
	}
}

func TestParseBandAndWhen(t *testing.T) {
	for _, c := range []struct {
		in     string
		lo, hi hotline.Height
	}{
		{"0..FL50", hotline.Height{Value: 0, Unit: "m"}, hotline.Height{Value: 50, Unit: "fl"}},
		{"500m..1500m", hotline.Height{Value: 500, Unit: "m"}, hotline.Height{Value: 1500, Unit: "m"}},
		{"0ft..fl100", hotline.Height{Value: 0, Unit: "ft"}, hotline.Height{Value: 100, Unit: "fl"}},
	} {
		b, err := parseBand(c.in)
		if err != nil || b.Lower != c.lo || b.Upper != c.hi {
			t.Errorf("parseBand(%q) = %+v, %v", c.in, b, err)
		}
	}
	for _, bad := range []string{"100", "a..b", "0..FLx"} {
		if _, err := parseBand(bad); err == nil {
			t.Errorf("parseBand(%q) succeeded", bad)
		}
	}
	now := time.Date(2028, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2028-05-01":           time.Date(2028, 5, 1, 0, 0, 0, 0, time.UTC),
		"2028-06-14T18:00:00Z": time.Date(2028, 6, 14, 18, 0, 0, 0, time.UTC),
		"2h":                   now.Add(2 * time.Hour),
		"-1h":                  now.Add(-time.Hour),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseWhen("tomorrow", now); err == nil {
		t.Error("parseWhen accepted 'tomorrow'")
	}
}
