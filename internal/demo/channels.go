package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/node"
)

// Demo liaison channel: what alpha and bravo set up for the tournament.
const (
	demoPurpose = "Euro 2028 security"
	// The real tournament runs 2028-05-01 to 2028-07-31. A channel
	// carries nothing outside its window, so the demo's window is around
	// now instead; the event scope says so.
	demoEvent = "Euro 2028 (2028-05-01 to 2028-07-31; the demo's window is around now so that it carries messages)"
	// demoCrisisAck is the crisis-alert acknowledgement deadline of the
	// demo channel: short, so that the unacknowledged alert shows overdue
	// (and escalates) within a minute of starting the demo.
	demoCrisisAck = 30 * time.Second
)

// openChannels sets up the demo's liaison channel between alpha and
// bravo so that each state shows: a request answered, one acknowledged,
// one that will be overdue, a crisis alert left unacknowledged, and two
// notices of planned activity, one from each side, that conflict.
func (d *Demo) openChannels(ctx context.Context, opts Options) error {
	if opts.Insecure || len(d.Agencies) < 2 {
		return nil // partners cannot authenticate each other without TLS
	}
	alpha, bravo := d.Agencies[0].Node, d.Agencies[1].Node
	now := time.Now().UTC()
	res, err := alpha.Hotline.ProposeChannel(ctx, hotline.ChannelRequest{
		Purpose: demoPurpose, Event: demoEvent, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 1, 0),
		Partners: []string{"bravo"}, Reason: "liaison for the tournament",
		Contacts: map[string][]hotline.Contact{
			"alpha": {{Name: "Duty officer J. Smith", Role: hotline.RoleDutyOfficer, Phone: "+44 20 7946 0001"}},
			"bravo": {{Name: "Liaison officer K. Jones", Role: "liaison officer"}, {Name: "Duty officer M. Weber", Role: hotline.RoleDutyOfficer}},
		},
		AckWithin: map[hotline.MessageType]hotline.Duration{hotline.TypeCrisisAlert: hotline.Duration(demoCrisisAck)},
	})
	if err != nil {
		return fmt.Errorf("demo: channel: %w", err)
	}
	id := res.Channel.ID
	if _, err := bravo.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "agreed by bravo's liaison office"); err != nil {
		return fmt.Errorf("demo: accept channel: %w", err)
	}
	if err := waitFor(ctx, "alpha sees the channel open", func() bool {
		ch, err := alpha.Hotline.Channel(ctx, id)
		return err == nil && ch.State == hotline.StateOpen
	}); err != nil {
		return err
	}
	send := func(n *node.Node, req hotline.MessageRequest) (string, error) {
		req.Channel = id
		r, err := n.Hotline.SendMessage(ctx, req)
		if err != nil {
			return "", fmt.Errorf("demo: message: %w", err)
		}
		return r.Record.Message.ID, nil
	}
	received := func(n *node.Node, mid string) error {
		return waitFor(ctx, n.Name+" receives "+mid, func() bool {
			_, err := n.Hotline.Message(ctx, mid)
			return err == nil
		})
	}
	// Three requests from alpha: one answered, one acknowledged, one
	// that nobody answers and that will be overdue a minute from now.
	answered, err := send(alpha, hotline.MessageRequest{Type: hotline.TypeRequest, Author: "J. Smith", Subject: "Fan zone attendance",
		Body: "Expected attendance at the fan zone on match days?", Due: now.Add(2 * time.Hour), Markings: []string{detente.MarkingGreen}})
	if err != nil {
		return err
	}
	acked, err := send(alpha, hotline.MessageRequest{Type: hotline.TypeRequest, Author: "J. Smith", Subject: "Approach roads",
		Body: "Closure times of the stadium approach roads?", Due: now.Add(3 * time.Hour)})
	if err != nil {
		return err
	}
	if _, err := send(alpha, hotline.MessageRequest{Type: hotline.TypeRequest, Author: "J. Smith", Subject: "Travelling supporters",
		Body: "Numbers of travelling supporters by ferry?", Due: now.Add(time.Minute)}); err != nil {
		return err
	}
	for _, mid := range []string{answered, acked} {
		if err := received(bravo, mid); err != nil {
			return err
		}
	}
	if _, err := send(bravo, hotline.MessageRequest{Type: hotline.TypeResponse, InReplyTo: answered, Author: "K. Jones",
		Body: "About 40 000 a day; twice that on the final."}); err != nil {
		return err
	}
	if _, err := bravo.Hotline.AckMessage(ctx, acked, "K. Jones"); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// A crisis alert nobody acknowledges: overdue after 30 s.
	if _, err := send(alpha, hotline.MessageRequest{Type: hotline.TypeCrisisAlert, Author: "J. Smith", Subject: "Unidentified drone",
		Body: "Unidentified drone over the north stand; requesting your counter-drone team's position."}); err != nil {
		return err
	}
	// Two notices of planned activity that overlap near the stadium, in
	// altitude (FL30 ≈ 914 m) and in time.
	start := now.Add(time.Hour).Truncate(time.Minute)
	if _, err := alpha.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "J. Smith",
		Area:  hotline.Area{Circle: &hotline.Circle{Lat: 51.5560, Lon: -0.2796, Radius: 3000}},
		Band:  hotline.Band{Lower: hotline.Height{Value: 0, Unit: hotline.UnitMetres}, Upper: hotline.Height{Value: 30, Unit: hotline.UnitFlightLevel}},
		Start: start, End: start.Add(4 * time.Hour), Nature: "police helicopter patrols"}); err != nil {
		return fmt.Errorf("demo: notice: %w", err)
	}
	area := &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{{{-0.30, 51.54}, {-0.24, 51.54}, {-0.24, 51.57}, {-0.30, 51.57}, {-0.30, 51.54}}}}
	if _, err := bravo.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "K. Jones", Area: hotline.Area{Polygon: area},
		Band:  hotline.Band{Lower: hotline.Height{Value: 150, Unit: hotline.UnitMetres}, Upper: hotline.Height{Value: 600, Unit: hotline.UnitMetres}},
		Start: start.Add(2 * time.Hour), End: start.Add(6 * time.Hour), Nature: "counter-drone jamming trials"}); err != nil {
		return fmt.Errorf("demo: notice: %w", err)
	}
	return nil
}

// waitFor polls cond until it holds, for at most 15 seconds: the demo
// nodes deliver to each other in the background.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: timed out waiting until %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// printChannels tells a newcomer where to look at the liaison channel.
func (d *Demo) printChannels(w io.Writer) {
	if len(d.Agencies) < 2 {
		return
	}
	a, b := d.Agencies[0], d.Agencies[1]
	chs, err := a.Node.Hotline.Channels(context.Background())
	if err != nil || len(chs) == 0 {
		return
	}
	fmt.Fprintf(w, `
alpha and bravo run a liaison channel, %q (window around now for the
demo; the real tournament is 2028-05-01 to 2028-07-31). alpha's requests are
answered, acknowledged, or (one) overdue a minute from now; its crisis alert
is not acknowledged and escalates after %s; each side filed a notice of
planned activity near the stadium, and the two conflict:
  go run ./cmd/detente channel list --dir %[3]s
  go run ./cmd/detente message list --dir %[3]s
  go run ./cmd/detente notice list --dir %[4]s
  go run ./cmd/detente message ack --dir %[4]s --id MESSAGE-ID --by 'K. Jones'
  curl -k -H 'Authorization: Bearer %[5]s' %[6]s/api/v1/messages
`, demoPurpose, demoCrisisAck, a.Dir, b.Dir, a.Analyst, a.Server.URL())
}
