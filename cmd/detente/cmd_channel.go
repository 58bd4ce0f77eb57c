package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/node"
)

// channelCommands returns the liaison channel commands: channel, message
// and notice (docs/channels.md).
func channelCommands() []*command {
	var id, reason, purpose, event, from, until, heartbeat string
	var partners, contacts, acks multiFlag
	stateCmd := func(verb string, to hotline.State, summary, defReason string) *command {
		return &command{
			name:    "channel " + verb,
			summary: summary,
			example: fmt.Sprintf("detente channel %s --dir /var/lib/detente --id channel--6f1c... --reason '%s'", verb, defReason),
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&id, "id", "", "the channel (required)")
				fs.StringVar(&reason, "reason", "", "why (required, signed and logged on both sides)")
			},
			run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
				if id == "" || reason == "" {
					return usagef("--id and --reason are required")
				}
				n, err := openNode(ctx, e)
				if err != nil {
					return err
				}
				defer n.Close()
				res, err := n.Hotline.ChangeChannel(ctx, id, to, reason)
				if err != nil {
					return err
				}
				printChannelResult(e.stdout, res)
				return nil
			},
		}
	}
	return append([]*command{{
		name:    "channel open",
		summary: "propose a liaison channel to partners; it opens when an admin of each partner accepts it",
		example: "detente channel open --dir /var/lib/detente --partner bravo --purpose 'Euro 2028 security' \\\n" +
			"    --event 'Euro 2028' --from 2028-05-01 --until 2028-07-31 \\\n" +
			"    --contact 'J. Smith <duty-officer>' --contact 'bravo:K. Jones <liaison officer>' --ack crisis-alert=5m --ack request=15m",
		flags: func(fs *flag.FlagSet) {
			fs.Var(&partners, "partner", "a partner to join (repeatable; required)")
			fs.StringVar(&purpose, "purpose", "", "what the channel is for (required)")
			fs.StringVar(&event, "event", "", "the event it is scoped to")
			fs.StringVar(&from, "from", "", "start of the validity window: a date, an RFC 3339 time, or a duration from now")
			fs.StringVar(&until, "until", "", "end of the validity window (exclusive), in the same forms")
			fs.Var(&contacts, "contact", "a point of contact 'Name <role>', of a partner as 'bravo:Name <role>' (repeatable); role duty-officer is named in alerts")
			fs.Var(&acks, "ack", "acknowledgement deadline per message type, e.g. crisis-alert=5m (repeatable; crisis alerts default to 5m)")
			fs.StringVar(&heartbeat, "heartbeat", "", "heartbeat interval, 1s to 30s (default 20s)")
			fs.StringVar(&reason, "reason", "", "why (logged; default: the purpose)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if len(partners) == 0 || purpose == "" {
				return usagef("--partner and --purpose are required")
			}
			now := time.Now()
			req := hotline.ChannelRequest{Purpose: purpose, Event: event, Reason: reason, Contacts: map[string][]hotline.Contact{}}
			for _, p := range partners {
				req.Partners = append(req.Partners, strings.Split(p, ",")...)
			}
			var err error
			if req.NotBefore, err = parseWhen(from, now); err != nil {
				return usagef("--from: %v", err)
			}
			if req.NotAfter, err = parseWhen(until, now); err != nil {
				return usagef("--until: %v", err)
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			for _, c := range contacts {
				party, contact, err := parseContact(c, n.Name, req.Partners)
				if err != nil {
					return usagef("--contact: %v", err)
				}
				req.Contacts[party] = append(req.Contacts[party], contact)
			}
			if len(acks) > 0 {
				req.AckWithin = map[hotline.MessageType]hotline.Duration{}
			}
			for _, a := range acks {
				typ, d, ok := strings.Cut(a, "=")
				dur, err := time.ParseDuration(d)
				if !ok || err != nil {
					return usagef("--ack %q: want TYPE=DURATION, e.g. crisis-alert=5m", a)
				}
				req.AckWithin[hotline.MessageType(typ)] = hotline.Duration(dur)
			}
			if heartbeat != "" {
				d, err := time.ParseDuration(heartbeat)
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
		},
	}, {
		name:    "channel accept",
		summary: "accept a channel a partner proposed (an admin's decision: it opens when every party has accepted)",
		example: "detente channel accept --dir /var/lib/detente --id channel--6f1c... --reason 'agreed with liaison office'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the channel (required)")
			fs.StringVar(&reason, "reason", "accepted", "why (signed and logged on both sides)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if id == "" {
				return usagef("--id is required")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			ch, err := n.Hotline.Channel(ctx, id)
			if err != nil {
				return err
			}
			if ch.State != hotline.StateProposed {
				return detente.Errorf(detente.ECONFLICT, "channel %s is %s, not proposed", id, ch.State)
			}
			res, err := n.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, reason)
			if err != nil {
				return err
			}
			printChannelResult(e.stdout, res)
			return nil
		},
	}, {
		name:    "channel list",
		summary: "list channels: state, purpose, window and parties",
		example: "detente channel list --dir /var/lib/detente --json",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
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
		},
	},
		stateCmd("suspend", hotline.StateSuspended, "suspend a channel: it then carries only crisis alerts and their acknowledgements", "incident under review"),
		stateCmd("reopen", hotline.StateOpen, "reopen a suspended channel", "review over"),
		stateCmd("close", hotline.StateClosed, "close a channel for good: it then carries nothing", "tournament over"),
	}, append(messageCommands(), noticeCommands()...)...)
}

func messageCommands() []*command {
	var typ, channel, text, subject, due, replyTo, tlp, refs, by, id, key string
	return []*command{{
		name:    "message send",
		summary: "send a message on a channel: notice, request (with --due), response (with --reply-to) or crisis-alert",
		example: "detente message send --dir /var/lib/detente --type request --to-channel channel--6f1c... \\\n" +
			"    --subject 'fan zone' --text 'Expected attendance at the fan zone on 14 June?' --due 2h --by 'J. Smith' --tlp amber\n" +
			"detente message send --dir /var/lib/detente --type crisis-alert --to-channel channel--6f1c... --text 'Drone over the stadium'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&typ, "type", "", "notice, request, response or crisis-alert (required)")
			fs.StringVar(&channel, "to-channel", "", "the channel (required)")
			fs.StringVar(&text, "text", "", "the message")
			fs.StringVar(&subject, "subject", "", "a subject line")
			fs.StringVar(&due, "due", "", "when a request needs its response: a time or a duration from now, e.g. 2h")
			fs.StringVar(&replyTo, "reply-to", "", "the request a response answers")
			fs.StringVar(&tlp, "tlp", "", "TLP marking: clear, green, amber, amber+strict or red")
			fs.StringVar(&refs, "refs", "", "STIX ids the message refers to, comma-separated (each must be releasable to every recipient)")
			fs.StringVar(&by, "by", "", "the person sending")
			fs.StringVar(&key, "idempotency-key", "", "send once however often the command is retried with this key")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if typ == "" || channel == "" {
				return usagef("--type and --to-channel are required")
			}
			req := hotline.MessageRequest{Channel: channel, Type: hotline.MessageType(typ), Author: by, Subject: subject, Body: text,
				InReplyTo: replyTo, IdempotencyKey: key}
			if due != "" {
				t, err := parseWhen(due, time.Now())
				if err != nil {
					return usagef("--due: %v", err)
				}
				req.Due = t
			}
			if tlp != "" {
				t, err := detente.ParseTLP(tlp)
				if err != nil {
					return usageError{err.Error()}
				}
				req.Markings = []string{detente.MarkingOfTLP(t)}
			}
			if refs != "" {
				for r := range strings.SplitSeq(refs, ",") {
					req.Refs = append(req.Refs, strings.TrimSpace(r))
				}
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Hotline.SendMessage(ctx, req)
			if err != nil {
				return err
			}
			return deliverAndReport(ctx, e, n, res.Record.Message.ID)
		},
	}, {
		name:    "message ack",
		summary: "acknowledge a message received, in the name of a person",
		example: "detente message ack --dir /var/lib/detente --id message--28ef... --by 'K. Jones'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the message (required)")
			fs.StringVar(&by, "by", "", "the person acknowledging (required)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if id == "" || by == "" {
				return usagef("--id and --by are required")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := n.Hotline.AckMessage(ctx, id, by)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s acknowledged by %s\n", id, by)
			return deliverAndReport(ctx, e, n, r.Message.ID)
		},
	}, {
		name:    "message list",
		summary: "list messages, overdue first: sent → delivered → acknowledged (by whom) → answered",
		example: "detente message list --dir /var/lib/detente --channel channel--6f1c...",
		hasJSON: true,
		flags:   func(fs *flag.FlagSet) { fs.StringVar(&channel, "channel", "", "only this channel") },
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			vs, err := n.Hotline.Messages(ctx, channel)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, vs)
			}
			if len(vs) == 0 {
				fmt.Fprintln(e.stdout, "no messages")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "OVERDUE\tSENT\tDIR\tTYPE\tWITH\tSTATE\tID\tSUBJECT")
			for _, v := range vs {
				over := ""
				switch v.Overdue {
				case "ack":
					over = "ACK OVERDUE"
				case "response":
					over = "RESPONSE OVERDUE"
				}
				dir := "→"
				if v.Direction == "in" {
					dir = "←"
				}
				subj := v.Message.Subject
				if subj == "" {
					subj = firstLine(v.Message.Body, 60)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", over, v.Message.Sent.Local().Format("2006-01-02 15:04:05"), dir,
					v.Message.Type, strings.Join(v.Partners, ", "), progress(v), v.Message.ID, subj)
			}
			return tw.Flush()
		},
	}}
}

func noticeCommands() []*command {
	var channel, geojson, circle, alt, from, until, nature, by, id, reason string
	return []*command{{
		name:    "notice file",
		summary: "file a notice of planned activity (area, altitude band, window) on a channel and print its conflicts",
		example: "detente notice file --dir /var/lib/detente --channel channel--6f1c... --circle 48.9245,2.3602,3000 \\\n" +
			"    --alt 0..FL50 --from 2028-06-14T18:00:00Z --until 2028-06-14T23:00:00Z --nature 'police helicopter patrols'\n" +
			"detente notice file --dir /var/lib/detente --channel channel--6f1c... --geojson area.json --alt 500m..1500m --from 1h --until 5h --nature 'UAV trials'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&channel, "channel", "", "the channel (required)")
			fs.StringVar(&geojson, "geojson", "", "a file holding a GeoJSON Polygon (or a Feature of one); - for stdin")
			fs.StringVar(&circle, "circle", "", "a centre and radius as lat,lon,radius_m (instead of --geojson)")
			fs.StringVar(&alt, "alt", "", "altitude band lower..upper in m (default), ft or FL, e.g. 0..FL50 or 500m..1500m (required)")
			fs.StringVar(&from, "from", "", "start: a time or a duration from now (required)")
			fs.StringVar(&until, "until", "", "end (exclusive), in the same forms (required)")
			fs.StringVar(&nature, "nature", "", "the nature of the activity (required)")
			fs.StringVar(&by, "by", "", "the person filing")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if channel == "" || alt == "" || from == "" || until == "" || nature == "" || (geojson == "") == (circle == "") {
				return usagef("--channel, --alt, --from, --until, --nature and one of --geojson or --circle are required")
			}
			req := hotline.NoticeRequest{Channel: channel, Author: by, Nature: nature}
			var err error
			if req.Area, err = readArea(e.stdin, geojson, circle); err != nil {
				return err
			}
			if req.Band, err = parseBand(alt); err != nil {
				return usagef("--alt: %v", err)
			}
			now := time.Now()
			if req.Start, err = parseWhen(from, now); err != nil {
				return usagef("--from: %v", err)
			}
			if req.End, err = parseWhen(until, now); err != nil {
				return usagef("--until: %v", err)
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Hotline.FileNotice(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "activity %s filed (notice %s)\n", res.Record.Message.Activity.ID, res.Record.Message.ID)
			printConflicts(e.stdout, res.Conflicts)
			return deliverAndReport(ctx, e, n, res.Record.Message.ID)
		},
	}, {
		name:    "notice cancel",
		summary: "cancel a notice of planned activity this node filed; its conflicts are resolved on both sides",
		example: "detente notice cancel --dir /var/lib/detente --id activity--3b2... --reason 'patrols moved'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the activity (required)")
			fs.StringVar(&reason, "reason", "", "why")
			fs.StringVar(&by, "by", "", "the person cancelling")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if id == "" {
				return usagef("--id is required")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Hotline.CancelNotice(ctx, id, by, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "activity %s cancelled (version %d)\n", id, res.Record.Message.Activity.Version)
			return deliverAndReport(ctx, e, n, res.Record.Message.ID)
		},
	}, {
		name:    "notice amend",
		summary: "amend a notice of planned activity this node filed (area, band, window or nature); conflicts are re-checked on both sides",
		example: "detente notice amend --dir /var/lib/detente --id activity--3b2... --until 2028-06-14T21:00:00Z --reason 'patrols end earlier'\n" +
			"detente notice amend --dir /var/lib/detente --id activity--3b2... --circle 48.93,2.36,1500 --alt 0..FL30",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the activity (required)")
			fs.StringVar(&geojson, "geojson", "", "a new area: a file holding a GeoJSON Polygon; - for stdin")
			fs.StringVar(&circle, "circle", "", "a new area: lat,lon,radius_m")
			fs.StringVar(&alt, "alt", "", "a new altitude band lower..upper, e.g. 0..FL50")
			fs.StringVar(&from, "from", "", "a new start: a time or a duration from now")
			fs.StringVar(&until, "until", "", "a new end (exclusive), in the same forms")
			fs.StringVar(&nature, "nature", "", "a new description of the activity")
			fs.StringVar(&reason, "reason", "", "why")
			fs.StringVar(&by, "by", "", "the person amending")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if id == "" {
				return usagef("--id is required")
			}
			if geojson != "" && circle != "" {
				return usagef("give --geojson or --circle, not both")
			}
			req := hotline.AmendNoticeRequest{Author: by, Reason: reason, Nature: nature}
			if geojson != "" || circle != "" {
				area, err := readArea(e.stdin, geojson, circle)
				if err != nil {
					return err
				}
				req.Area = &area
			}
			if alt != "" {
				band, err := parseBand(alt)
				if err != nil {
					return usagef("--alt: %v", err)
				}
				req.Band = &band
			}
			now := time.Now()
			for _, w := range []struct {
				flag, val string
				dst       **time.Time
			}{{"--from", from, &req.Start}, {"--until", until, &req.End}} {
				if w.val == "" {
					continue
				}
				t, err := parseWhen(w.val, now)
				if err != nil {
					return usagef("%s: %v", w.flag, err)
				}
				*w.dst = &t
			}
			if req.Area == nil && req.Band == nil && req.Start == nil && req.End == nil && nature == "" {
				return usagef("nothing to amend: give at least one of --geojson, --circle, --alt, --from, --until, --nature")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Hotline.AmendNotice(ctx, id, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "activity %s amended (version %d, notice %s)\n", id, res.Record.Message.Activity.Version, res.Record.Message.ID)
			printConflicts(e.stdout, res.Conflicts)
			return deliverAndReport(ctx, e, n, res.Record.Message.ID)
		},
	}, {
		name:    "notice list",
		summary: "list notices of planned activity, this node's and its partners', conflicting ones first",
		example: "detente notice list --dir /var/lib/detente --json",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			ns, err := n.Hotline.Notices(ctx)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, ns)
			}
			if len(ns) == 0 {
				fmt.Fprintln(e.stdout, "no notices")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CONFLICTS\tOWNER\tSTATUS\tFROM\tUNTIL\tBAND\tID\tNATURE")
			for _, x := range ns {
				a := x.Activity
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", len(x.Conflicts), x.Owner, a.Status, a.Start.UTC().Format(time.RFC3339),
					a.End.UTC().Format(time.RFC3339), bandText(a.Band), a.ID, a.Nature)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			cs, err := n.Hotline.Conflicts(ctx)
			if err != nil {
				return err
			}
			printConflicts(e.stdout, cs)
			return nil
		},
	}}
}

// deliverAndReport tries to deliver the outbox now and prints where
// message id stands.
func deliverAndReport(ctx context.Context, e *env, n *node.Node, id string) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := n.Hotline.DeliverNow(dctx)
	cancel()
	r, err2 := n.Hotline.Message(ctx, id)
	if err2 != nil {
		return err2
	}
	for _, d := range r.Deliveries {
		switch {
		case d.Failed:
			fmt.Fprintf(e.stdout, "%s: refused by %s: %s\n", id, d.Partner, d.LastError)
		case !d.DeliveredAt.IsZero():
			fmt.Fprintf(e.stdout, "%s: delivered to %s\n", id, d.Partner)
		default:
			fmt.Fprintf(e.stdout, "%s: queued for %s (%s); the running node (detente serve) retries\n", id, d.Partner, orDefault(d.LastError, "not yet tried"))
		}
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(e.stderr, "delivery: %v\n", err)
	}
	return nil
}

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

func printConflicts(w io.Writer, cs []hotline.Conflict) {
	if len(cs) == 0 {
		fmt.Fprintln(w, "no conflicts")
		return
	}
	for _, c := range cs {
		fmt.Fprintln(w, "CONFLICT: "+strings.TrimPrefix(hotline.ConflictText(c), "deconfliction conflict: "))
	}
}

// progress renders a message's delivery as the steps it has passed.
func progress(v hotline.MessageView) string {
	r := v.Record
	steps := []string{}
	if r.Outgoing {
		steps = append(steps, "sent")
	}
	switch r.State {
	case hotline.Delivered, hotline.Acknowledged, hotline.Answered:
		steps = append(steps, "delivered")
	}
	if len(v.AckedBy) > 0 {
		steps = append(steps, "acknowledged by "+strings.Join(v.AckedBy, ", "))
	}
	if r.State == hotline.Answered {
		steps = append(steps, "answered")
	}
	if r.Abandoned {
		steps = append(steps, "abandoned (channel closed)")
	}
	for _, d := range r.Deliveries {
		if d.Failed {
			steps = append(steps, "refused by "+d.Partner)
		}
	}
	return strings.Join(steps, " → ")
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

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

// parseWhen reads a time: RFC 3339, a date (midnight UTC), a date and time
// without zone (UTC), or a duration from now ("30m", "+2h", "-1h").
// "" is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2028-05-01, 2028-05-01T18:00:00Z) or a duration from now (2h)", s)
}

var contactRE = regexp.MustCompile(`^(?:([a-z][a-z0-9-]*):)?\s*([^<>]+?)\s*(?:<([^<>]*)>)?$`)

// parseContact reads "Name <role>" (this node's) or "party:Name <role>".
func parseContact(s, self string, partners []string) (string, hotline.Contact, error) {
	m := contactRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(m[2]) == "" {
		return "", hotline.Contact{}, fmt.Errorf("%q: want 'Name <role>' or 'partner:Name <role>'", s)
	}
	party := self
	if m[1] != "" {
		if m[1] != self && !slices.Contains(partners, m[1]) {
			return "", hotline.Contact{}, fmt.Errorf("%q: %s is not a party to the channel", s, m[1])
		}
		party = m[1]
	}
	return party, hotline.Contact{Name: m[2], Role: strings.TrimSpace(m[3])}, nil
}

// parseBand reads "lower..upper", each a number with an optional unit: m
// (the default), ft, or a flight level written FL50.
func parseBand(s string) (hotline.Band, error) {
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		return hotline.Band{}, fmt.Errorf("%q: want lower..upper, e.g. 0..FL50 or 500m..1500m", s)
	}
	l, err1 := parseHeight(lo)
	u, err2 := parseHeight(hi)
	if err1 != nil {
		return hotline.Band{}, err1
	}
	if err2 != nil {
		return hotline.Band{}, err2
	}
	return hotline.Band{Lower: l, Upper: u}, nil
}

func parseHeight(s string) (hotline.Height, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	unit := hotline.UnitMetres
	switch {
	case strings.HasPrefix(v, "fl"):
		unit, v = hotline.UnitFlightLevel, strings.TrimPrefix(v, "fl")
	case strings.HasSuffix(v, "ft"):
		unit, v = hotline.UnitFeet, strings.TrimSuffix(v, "ft")
	case strings.HasSuffix(v, "m"):
		v = strings.TrimSuffix(v, "m")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return hotline.Height{}, fmt.Errorf("height %q: want e.g. 500, 500m, 1500ft or FL50", s)
	}
	return hotline.Height{Value: f, Unit: unit}, nil
}

// readArea reads the area of a notice: a GeoJSON Polygon (or a Feature
// holding one) from a file, or a circle "lat,lon,radius_m".
func readArea(stdin io.Reader, geojson, circle string) (hotline.Area, error) {
	if circle != "" {
		parts := strings.Split(circle, ",")
		var vs []float64
		for _, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				break
			}
			vs = append(vs, f)
		}
		if len(parts) != 3 || len(vs) != 3 {
			return hotline.Area{}, usagef("--circle %q: want lat,lon,radius_m, e.g. 48.9245,2.3602,3000", circle)
		}
		return hotline.Area{Circle: &hotline.Circle{Lat: vs[0], Lon: vs[1], Radius: vs[2]}}, nil
	}
	var b []byte
	var err error
	if geojson == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 8<<20))
	} else {
		b, err = os.ReadFile(geojson)
	}
	if err != nil {
		return hotline.Area{}, fmt.Errorf("read GeoJSON: %w", err)
	}
	var feature struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
	}
	if json.Unmarshal(b, &feature) == nil && feature.Type == "Feature" {
		b = feature.Geometry
	}
	p, err := hotline.ParsePolygon(b)
	if err != nil {
		return hotline.Area{}, err
	}
	return hotline.Area{Polygon: p}, nil
}

func bandText(b hotline.Band) string {
	h := func(x hotline.Height) string {
		if x.Unit == hotline.UnitFlightLevel {
			return "FL" + strconv.FormatFloat(x.Value, 'f', -1, 64)
		}
		return strconv.FormatFloat(x.Value, 'f', -1, 64) + x.Unit
	}
	return h(b.Lower) + ".." + h(b.Upper)
}
