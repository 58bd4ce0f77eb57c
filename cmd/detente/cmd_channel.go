package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/hotline"
)

// channelCommands returns the liaison channel commands: channel, message
// (cmd_message.go) and notice (cmd_notice.go), as docs/channels.md
// describes them.
func channelCommands() []*command {
	cs := []*command{
		define(command{
			name:    "channel open",
			summary: "propose a liaison channel to partners; it opens when an admin of each partner accepts it",
			example: "detente channel open --dir /var/lib/detente --partner bravo --purpose 'Euro 2028 security' \\\n" +
				"    --event 'Euro 2028' --from 2028-05-01 --until 2028-07-31 \\\n" +
				"    --contact 'J. Smith <duty-officer>' --contact 'bravo:K. Jones <liaison officer>' --ack crisis-alert=5m --ack request=15m",
		}, channelOpenFlags, runChannelOpen),
		define(command{
			name:    "channel accept",
			summary: "accept a channel a partner proposed (an admin's decision: it opens when every party has accepted)",
			example: "detente channel accept --dir /var/lib/detente --id channel--6f1c... --reason 'agreed with liaison office'",
		}, channelAcceptFlags, runChannelAccept),
		define(command{
			name:    "channel list",
			summary: "list channels: state, purpose, window and parties",
			example: "detente channel list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runChannelList),
		channelStateCommand("suspend", hotline.StateSuspended, "suspend a channel: it then carries only crisis alerts and their acknowledgements", "incident under review"),
		channelStateCommand("reopen", hotline.StateOpen, "reopen a suspended channel", "review over"),
		channelStateCommand("close", hotline.StateClosed, "close a channel for good: it then carries nothing", "tournament over"),
	}
	cs = append(cs, messageCommands()...)
	return append(cs, noticeCommands()...)
}

type channelOpenArgs struct {
	partners, contacts, acks                       multiFlag
	purpose, event, from, until, heartbeat, reason string
}

func channelOpenFlags(a *channelOpenArgs, fs *flag.FlagSet) {
	fs.Var(&a.partners, "partner", "a partner to join (repeatable; required)")
	fs.StringVar(&a.purpose, "purpose", "", "what the channel is for (required)")
	fs.StringVar(&a.event, "event", "", "the event it is scoped to")
	fs.StringVar(&a.from, "from", "", "start of the validity window: a date, an RFC 3339 time, or a duration from now")
	fs.StringVar(&a.until, "until", "", "end of the validity window (exclusive), in the same forms")
	fs.Var(&a.contacts, "contact", "a point of contact 'Name <role>', of a partner as 'bravo:Name <role>' (repeatable); role duty-officer is named in alerts")
	fs.Var(&a.acks, "ack", "acknowledgement deadline per message type, e.g. crisis-alert=5m (repeatable; crisis alerts default to 5m)")
	fs.StringVar(&a.heartbeat, "heartbeat", "", "heartbeat interval, 1s to 30s (default 20s)")
	fs.StringVar(&a.reason, "reason", "", "why (logged; default: the purpose)")
}

func runChannelOpen(ctx context.Context, e *env, a *channelOpenArgs) error {
	if len(a.partners) == 0 || a.purpose == "" {
		return usagef("--partner and --purpose are required")
	}
	now := time.Now()
	req := hotline.ChannelRequest{Purpose: a.purpose, Event: a.event, Reason: a.reason, Contacts: map[string][]hotline.Contact{}}
	for _, p := range a.partners {
		req.Partners = append(req.Partners, strings.Split(p, ",")...)
	}
	var err error
	if req.NotBefore, err = parseWhen(a.from, now); err != nil {
		return usagef("--from: %v", err)
	}
	if req.NotAfter, err = parseWhen(a.until, now); err != nil {
		return usagef("--until: %v", err)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	for _, c := range a.contacts {
		party, contact, err := parseContact(c, n.Name, req.Partners)
		if err != nil {
			return usagef("--contact: %v", err)
		}
		req.Contacts[party] = append(req.Contacts[party], contact)
	}
	if req.AckWithin, err = parseAcks(a.acks); err != nil {
		return err
	}
	if a.heartbeat != "" {
		d, err := time.ParseDuration(a.heartbeat)
		if err != nil {
			return usagef("--heartbeat: %v", err)
		}
		req.Heartbeat = hotline.Duration(d)
	}
	res, err := n.Hotline.ProposeChannel(ctx, req)
	if err != nil {
		return err
	}
	printChannelResult(e.stdout, res)
	fmt.Fprintf(e.stdout, "an admin of each partner accepts it with: detente channel accept --dir DIR --id %s --reason ...\n", res.Channel.ID)
	return nil
}

// parseAcks reads the --ack flags, TYPE=DURATION each; none is nil.
func parseAcks(acks []string) (map[hotline.MessageType]hotline.Duration, error) {
	if len(acks) == 0 {
		return nil, nil
	}
	out := map[hotline.MessageType]hotline.Duration{}
	for _, a := range acks {
		typ, d, ok := strings.Cut(a, "=")
		dur, err := time.ParseDuration(d)
		if !ok || err != nil {
			return nil, usagef("--ack %q: want TYPE=DURATION, e.g. crisis-alert=5m", a)
		}
		out[hotline.MessageType(typ)] = hotline.Duration(dur)
	}
	return out, nil
}

type channelAcceptArgs struct{ id, reason string }

func channelAcceptFlags(a *channelAcceptArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.id, "id", "", "the channel (required)")
	fs.StringVar(&a.reason, "reason", "accepted", "why (signed and logged on both sides)")
}

func runChannelAccept(ctx context.Context, e *env, a *channelAcceptArgs) error {
	if a.id == "" {
		return usagef("--id is required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ch, err := n.Hotline.Channel(ctx, a.id)
	if err != nil {
		return err
	}
	if ch.State != hotline.StateProposed {
		return detente.Errorf(detente.ECONFLICT, "channel %s is %s, not proposed", a.id, ch.State)
	}
	res, err := n.Hotline.ChangeChannel(ctx, a.id, hotline.StateOpen, a.reason)
	if err != nil {
		return err
	}
	printChannelResult(e.stdout, res)
	return nil
}

func runChannelList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	chs, err := n.Hotline.Channels(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if chs == nil {
			chs = []*hotline.Channel{}
		}
		return printJSON(e.stdout, chs)
	}
	if len(chs) == 0 {
		fmt.Fprintln(e.stdout, "no channels yet: propose one with 'detente channel open'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tPURPOSE\tEVENT\tWINDOW\tPARTIES")
	for _, ch := range chs {
		var ps []string
		for _, p := range ch.Parties {
			ps = append(ps, p.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ch.ID, ch.State, ch.Purpose, ch.Event, window(ch.NotBefore, ch.NotAfter), strings.Join(ps, ", "))
	}
	return tw.Flush()
}

type channelStateArgs struct {
	id, reason string
	to         hotline.State
}

// channelStateCommand is "channel suspend", "channel reopen" or "channel
// close": a transition to state to, signed by this node.
func channelStateCommand(verb string, to hotline.State, summary, exampleReason string) *command {
	return define(command{
		name:    "channel " + verb,
		summary: summary,
		example: fmt.Sprintf("detente channel %s --dir /var/lib/detente --id channel--6f1c... --reason '%s'", verb, exampleReason),
	}, func(a *channelStateArgs, fs *flag.FlagSet) {
		a.to = to
		fs.StringVar(&a.id, "id", "", "the channel (required)")
		fs.StringVar(&a.reason, "reason", "", "why (required, signed and logged on both sides)")
	}, runChannelState)
}

func runChannelState(ctx context.Context, e *env, a *channelStateArgs) error {
	if a.id == "" || a.reason == "" {
		return usagef("--id and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Hotline.ChangeChannel(ctx, a.id, a.to, a.reason)
	if err != nil {
		return err
	}
	printChannelResult(e.stdout, res)
	return nil
}

// printChannelResult prints where a channel stands after a change, and
// which partners hold the change.
func printChannelResult(w io.Writer, res *hotline.ChannelResult) {
	ch := res.Channel
	fmt.Fprintf(w, "channel %s is %s (%s)\n", ch.ID, ch.State, ch.Purpose)
	for _, p := range res.Pushed {
		fmt.Fprintf(w, "  %s: informed\n", p)
	}
	names := make([]string, 0, len(res.Pending))
	for p := range res.Pending {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		fmt.Fprintf(w, "  %s: not reached (%s); the running node (detente serve) retries\n", p, res.Pending[p])
	}
}

// window renders a validity window.
func window(from, until time.Time) string {
	f, u := "…", "…"
	if !from.IsZero() {
		f = from.UTC().Format(time.RFC3339)
	}
	if !until.IsZero() {
		u = until.UTC().Format(time.RFC3339)
	}
	if f == "…" && u == "…" {
		return "always"
	}
	return f + " to " + u
}
