package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/node"
)

// messageCommands returns the commands of the messages on liaison
// channels.
func messageCommands() []*command {
	return []*command{
		define(command{
			name:    "message send",
			summary: "send a message on a channel: notice, request (with --due), response (with --reply-to) or crisis-alert",
			example: "detente message send --dir /var/lib/detente --type request --to-channel channel--6f1c... \\\n" +
				"    --subject 'fan zone' --text 'Expected attendance at the fan zone on 14 June?' --due 2h --by 'J. Smith' --tlp amber\n" +
				"detente message send --dir /var/lib/detente --type crisis-alert --to-channel channel--6f1c... --text 'Drone over the stadium'",
		}, messageSendFlags, runMessageSend),
		define(command{
			name:    "message ack",
			summary: "acknowledge a message received, in the name of a person",
			example: "detente message ack --dir /var/lib/detente --id message--28ef... --by 'K. Jones'",
		}, messageAckFlags, runMessageAck),
		define(command{
			name:    "message list",
			summary: "list messages, overdue first: sent → delivered → acknowledged (by whom) → answered",
			example: "detente message list --dir /var/lib/detente --channel channel--6f1c...",
			hasJSON: true,
		}, messageListFlags, runMessageList),
	}
}

type messageSendArgs struct {
	typ, channel, text, subject, due, replyTo, tlp, refs, by, key string
}

func messageSendFlags(a *messageSendArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.typ, "type", "", "notice, request, response or crisis-alert (required)")
	fs.StringVar(&a.channel, "to-channel", "", "the channel (required)")
	fs.StringVar(&a.text, "text", "", "the message")
	fs.StringVar(&a.subject, "subject", "", "a subject line")
	fs.StringVar(&a.due, "due", "", "when a request needs its response: a time or a duration from now, e.g. 2h")
	fs.StringVar(&a.replyTo, "reply-to", "", "the request a response answers")
	fs.StringVar(&a.tlp, "tlp", "", "TLP marking: clear, green, amber, amber+strict or red")
	fs.StringVar(&a.refs, "refs", "", "STIX ids the message refers to, comma-separated (each must be releasable to every recipient)")
	fs.StringVar(&a.by, "by", "", "the person sending")
	fs.StringVar(&a.key, "idempotency-key", "", "send once however often the command is retried with this key")
}

func runMessageSend(ctx context.Context, e *env, a *messageSendArgs) error {
	if a.typ == "" || a.channel == "" {
		return usagef("--type and --to-channel are required")
	}
	req := hotline.MessageRequest{Channel: a.channel, Type: hotline.MessageType(a.typ), Author: a.by, Subject: a.subject, Body: a.text,
		InReplyTo: a.replyTo, IdempotencyKey: a.key}
	if a.due != "" {
		t, err := parseWhen(a.due, time.Now())
		if err != nil {
			return usagef("--due: %v", err)
		}
		req.Due = t
	}
	if a.tlp != "" {
		t, err := detente.ParseTLP(a.tlp)
		if err != nil {
			return usageError{err.Error()}
		}
		req.Markings = []string{detente.MarkingOfTLP(t)}
	}
	if a.refs != "" {
		for r := range strings.SplitSeq(a.refs, ",") {
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
}

type messageAckArgs struct{ id, by string }

func messageAckFlags(a *messageAckArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.id, "id", "", "the message (required)")
	fs.StringVar(&a.by, "by", "", "the person acknowledging (required)")
}

func runMessageAck(ctx context.Context, e *env, a *messageAckArgs) error {
	if a.id == "" || a.by == "" {
		return usagef("--id and --by are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	r, err := n.Hotline.AckMessage(ctx, a.id, a.by)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s acknowledged by %s\n", a.id, a.by)
	return deliverAndReport(ctx, e, n, r.Message.ID)
}

type messageListArgs struct{ channel string }

func messageListFlags(a *messageListArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.channel, "channel", "", "only this channel")
}

func runMessageList(ctx context.Context, e *env, a *messageListArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	vs, err := n.Hotline.Messages(ctx, a.channel)
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

// firstLine returns the first line of s, cut to at most max bytes.
func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
