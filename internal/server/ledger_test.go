package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/ledger"
)

// TestReciprocityHold: alpha's agreement with bravo holds releases when
// bravo gives back less than half of what it gets. Over loopback: the
// hold engages once bravo has taken without giving, bravo's pulls then
// bring nothing new, the hold lifts when bravo's own intelligence reaches
// alpha, engages again, and an admin releases it with a logged reason.
func TestReciprocityHold(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkWithHold(t, alpha, bravo)
	id := func(owner byte, i int) string {
		return fmt.Sprintf("indicator--00000000-0000-4000-8000-%02x00000000%02d", owner, i)
	}
	enforce := func() {
		t.Helper()
		if err := alpha.Ledger.Enforce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	held := func() string {
		t.Helper()
		d, err := alpha.CheckRelease(ctx, id(0xa, 1), "bravo")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonReciprocityHeld) {
			return "held"
		}
		return "free"
	}

	ingest(t, alpha, indicator(id(0xa, 1), detente.MarkingGreen, "one"))
	sync(t, bravo, "alpha")
	if holds(bravo, id(0xa, 1)) == nil {
		t.Fatal("bravo did not get alpha's first indicator")
	}
	enforce()
	if held() != "held" {
		t.Fatal("bravo took without giving and is not held")
	}
	ingest(t, alpha, indicator(id(0xa, 2), detente.MarkingGreen, "two"))
	if r := sync(t, bravo, "alpha"); r.Added != 0 || holds(bravo, id(0xa, 2)) != nil {
		t.Fatalf("a held partner pulled new intelligence: %+v", r)
	}

	// bravo gives back: two indicators of its own reach alpha.
	ingest(t, bravo, indicator(id(0xb, 1), detente.MarkingGreen, "b one"), indicator(id(0xb, 2), detente.MarkingGreen, "b two"))
	if r := sync(t, alpha, "bravo"); r.Added != 2 {
		t.Fatalf("alpha from bravo: %+v", r)
	}
	enforce()
	if held() != "free" {
		t.Fatal("the hold did not lift when the balance recovered")
	}
	sync(t, bravo, "alpha")
	if holds(bravo, id(0xa, 2)) == nil {
		t.Fatal("bravo did not get what was held once the hold lifted")
	}

	// alpha gives much more: held again; an admin releases the hold.
	for i := 3; i <= 8; i++ {
		ingest(t, alpha, indicator(id(0xa, i), detente.MarkingGreen, "more"))
	}
	sync(t, bravo, "alpha")
	enforce()
	if held() != "held" {
		t.Fatal("not held again")
	}
	if _, err := alpha.Ledger.ReleaseHold(ctx, "bravo", "", "admin"); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("release without a reason: %v", err)
	}
	if _, err := alpha.Ledger.ReleaseHold(ctx, "bravo", "joint operation this week", "admin"); err != nil {
		t.Fatal(err)
	}
	enforce() // an admin's release stands: the hold does not engage again at once
	if held() != "free" {
		t.Fatal("held again right after an admin released the hold")
	}
	ingest(t, alpha, indicator(id(0xa, 9), detente.MarkingGreen, "after release"))
	sync(t, bravo, "alpha")
	if holds(bravo, id(0xa, 9)) == nil {
		t.Fatal("bravo did not get what alpha released after the admin's release")
	}

	// The log tells the story, and the ledger agrees with bravo's side.
	es, err := alpha.Events(ctx, detente.EventFilter{Type: detente.EventReciprocity})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		var b struct{ Action, Reason string }
		json.Unmarshal(e.Body, &b)
		actions = append(actions, b.Action)
	}
	if fmt.Sprint(actions) != "[held lifted held released]" {
		t.Errorf("reciprocity log entries: %v", actions)
	}
	bs, err := alpha.Ledger.Balances(ctx, "bravo", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Each side's views give the other's own objects back to it: "own"
	// on both sides, weighing little.
	if b := bs[0]; b.GivenByNovelty[ledger.NoveltyNew] != 9 || b.ReceivedByNovelty[ledger.NoveltyNew] != 2 {
		t.Errorf("alpha's ledger with bravo: given %v received %v, want 9 and 2 new", b.GivenByNovelty, b.ReceivedByNovelty)
	}
	theirs, err := bravo.Ledger.Balances(ctx, "alpha", 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := theirs[0]; b.GivenByNovelty[ledger.NoveltyNew] != 2 || b.ReceivedByNovelty[ledger.NoveltyNew] != 9 {
		t.Errorf("bravo's ledger with alpha: given %v received %v, want 2 and 9 new", b.GivenByNovelty, b.ReceivedByNovelty)
	}
}

// linkWithHold makes a and b partners under agreements allowing intel up
// to AMBER; a's asks b to give back at least half of what it gets, or be
// held.
func linkWithHold(t *testing.T, a, b *peer) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, pair := range [][2]*peer{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		if _, err := x.AddPartner(ctx, y.Name, y.PublicKey(), y.srv.URL()); err != nil {
			t.Fatal(err)
		}
		doc := map[string]any{"partner": y.Name, "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
			"tlp_ceiling": "amber", "types": intel, "onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"}
		if x == a {
			doc["reciprocity"] = map[string]any{"window": "720h", "min_ratio": 0.5, "action": "hold"}
		}
		raw, _ := json.Marshal(doc)
		ag, err := detente.ParseAgreement(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.AddAgreement(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHoldSparesChannels: while releases to bravo are held, alpha's
// crisis alert referring to a held object, and its deconfliction notice,
// still reach bravo: a hold stops releases, never the line.
func TestHoldSparesChannels(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	linkWithHold(t, alpha, bravo)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "ok"))
	if _, err := alpha.Release(ctx, green, "bravo"); err != nil {
		t.Fatal(err)
	}
	if err := alpha.Ledger.Enforce(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := alpha.CheckRelease(ctx, green, "bravo"); d.Allowed {
		t.Fatal("bravo is not held")
	}
	id := openChannel(t, nil, alpha, bravo)
	crisis, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeCrisisAlert, Subject: "drone over the stadium", Refs: []string{green}})
	if err != nil {
		t.Fatalf("a crisis alert was held: %v", err)
	}
	now := time.Now().UTC()
	notice, err := alpha.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "J. Smith",
		Area:  hotline.Area{Circle: &hotline.Circle{Lat: 51.5560, Lon: -0.2796, Radius: 3000}},
		Band:  hotline.Band{Lower: hotline.Height{Value: 0, Unit: hotline.UnitMetres}, Upper: hotline.Height{Value: 30, Unit: hotline.UnitFlightLevel}},
		Start: now, End: now.Add(time.Hour), Nature: "drone sweep"})
	if err != nil {
		t.Fatalf("a deconfliction notice was held: %v", err)
	}
	for _, m := range []string{crisis.Record.Message.ID, notice.Record.Message.ID} {
		eventually(t, "bravo holds "+m, func() bool { _, err := bravo.Hotline.Message(ctx, m); return err == nil })
	}
}

// TestFeedback: alpha sends a sighting and an opinion back to the
// originator of an indicator it received; they reach bravo at once and
// count as feedback in both ledgers.
func TestFeedback(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", append(intel, "sighting", "opinion")...)
	ingest(t, bravo, indicator(bravos, detente.MarkingGreen, "bravo's own"))
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "alpha's own"))
	sync(t, alpha, "bravo")

	if _, err := alpha.SendFeedback(ctx, ledger.Feedback{Object: green, Kind: ledger.FeedbackSighting}); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("feedback on alpha's own object: %v", err)
	}
	if _, err := alpha.SendFeedback(ctx, ledger.Feedback{Object: bravos, Kind: ledger.FeedbackOpinion, Opinion: "agreed"}); detente.ErrorCode(err) != detente.EINVALID ||
		!strings.Contains(detente.ErrorMessage(err), `did you mean "agree"`) {
		t.Errorf("a misspelt opinion: %v", err)
	}
	res, err := alpha.SendFeedback(ctx, ledger.Feedback{Object: bravos, Kind: ledger.FeedbackSighting, Count: 3, Note: "seen at the port"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Decision.Allowed || !res.Delivered || res.Partner != "bravo" {
		t.Fatalf("sighting: %+v", res)
	}
	got := holds(bravo, res.ID)
	if got == nil || got.Originator != "alpha" {
		t.Fatalf("the sighting did not reach bravo as alpha's: %+v", got)
	}
	op, err := alpha.SendFeedback(ctx, ledger.Feedback{Object: bravos, Kind: ledger.FeedbackOpinion, Opinion: "disagree", Note: "not theirs"})
	if err != nil || !op.Delivered {
		t.Fatalf("opinion: %+v, %v", op, err)
	}
	// bravo's later pull brings nothing new: the pushed copies are held.
	sync(t, bravo, "alpha")

	mine, _ := alpha.Ledger.Balances(ctx, "bravo", 0)
	theirs, _ := bravo.Ledger.Balances(ctx, "alpha", 0)
	if mine[0].FeedbackGiven != 2 || theirs[0].FeedbackReceived != 2 {
		t.Errorf("feedback given by alpha %d, received by bravo %d; want 2 and 2", mine[0].FeedbackGiven, theirs[0].FeedbackReceived)
	}
}
