package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"detente/internal/hotline"
)

// noticeCommands returns the commands of notices of planned activity and
// their deconfliction.
func noticeCommands() []*command {
	return []*command{
		define(command{
			name:    "notice file",
			summary: "file a notice of planned activity (area, altitude band, window) on a channel and print its conflicts",
			example: "detente notice file --dir /var/lib/detente --channel channel--6f1c... --circle 48.9245,2.3602,3000 \\\n" +
				"    --alt 0..FL50 --from 2028-06-14T18:00:00Z --until 2028-06-14T23:00:00Z --nature 'police helicopter patrols'\n" +
				"detente notice file --dir /var/lib/detente --channel channel--6f1c... --geojson area.json --alt 500m..1500m --from 1h --until 5h --nature 'UAV trials'",
		}, noticeFileFlags, runNoticeFile),
		define(command{
			name:    "notice cancel",
			summary: "cancel a notice of planned activity this node filed; its conflicts are resolved on both sides",
			example: "detente notice cancel --dir /var/lib/detente --id activity--3b2... --reason 'patrols moved'",
		}, noticeCancelFlags, runNoticeCancel),
		define(command{
			name:    "notice amend",
			summary: "amend a notice of planned activity this node filed (area, band, window or nature); conflicts are re-checked on both sides",
			example: "detente notice amend --dir /var/lib/detente --id activity--3b2... --until 2028-06-14T21:00:00Z --reason 'patrols end earlier'\n" +
				"detente notice amend --dir /var/lib/detente --id activity--3b2... --circle 48.93,2.36,1500 --alt 0..FL30",
		}, noticeAmendFlags, runNoticeAmend),
		define(command{
			name:    "notice list",
			summary: "list notices of planned activity, this node's and its partners', conflicting ones first",
			example: "detente notice list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runNoticeList),
	}
}

type noticeFileArgs struct {
	channel, geojson, circle, alt, from, until, nature, by string
}

func noticeFileFlags(a *noticeFileArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.channel, "channel", "", "the channel (required)")
	fs.StringVar(&a.geojson, "geojson", "", "a file holding a GeoJSON Polygon (or a Feature of one); - for stdin")
	fs.StringVar(&a.circle, "circle", "", "a centre and radius as lat,lon,radius_m (instead of --geojson)")
	fs.StringVar(&a.alt, "alt", "", "altitude band lower..upper in m (default), ft or FL, e.g. 0..FL50 or 500m..1500m (required)")
	fs.StringVar(&a.from, "from", "", "start: a time or a duration from now (required)")
	fs.StringVar(&a.until, "until", "", "end (exclusive), in the same forms (required)")
	fs.StringVar(&a.nature, "nature", "", "the nature of the activity (required)")
	fs.StringVar(&a.by, "by", "", "the person filing")
}

func runNoticeFile(ctx context.Context, e *env, a *noticeFileArgs) error {
	if a.channel == "" || a.alt == "" || a.from == "" || a.until == "" || a.nature == "" || (a.geojson == "") == (a.circle == "") {
		return usagef("--channel, --alt, --from, --until, --nature and one of --geojson or --circle are required")
	}
	req := hotline.NoticeRequest{Channel: a.channel, Author: a.by, Nature: a.nature}
	var err error
	if req.Area, err = readArea(e.stdin, a.geojson, a.circle); err != nil {
		return err
	}
	if req.Band, err = parseBand(a.alt); err != nil {
		return usagef("--alt: %v", err)
	}
	now := time.Now()
	if req.Start, err = parseWhen(a.from, now); err != nil {
		return usagef("--from: %v", err)
	}
	if req.End, err = parseWhen(a.until, now); err != nil {
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
}

type noticeCancelArgs struct{ id, reason, by string }

func noticeCancelFlags(a *noticeCancelArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.id, "id", "", "the activity (required)")
	fs.StringVar(&a.reason, "reason", "", "why")
	fs.StringVar(&a.by, "by", "", "the person cancelling")
}

func runNoticeCancel(ctx context.Context, e *env, a *noticeCancelArgs) error {
	if a.id == "" {
		return usagef("--id is required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Hotline.CancelNotice(ctx, a.id, a.by, a.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "activity %s cancelled (version %d)\n", a.id, res.Record.Message.Activity.Version)
	return deliverAndReport(ctx, e, n, res.Record.Message.ID)
}

type noticeAmendArgs struct {
	id, geojson, circle, alt, from, until, nature, reason, by string
}

func noticeAmendFlags(a *noticeAmendArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.id, "id", "", "the activity (required)")
	fs.StringVar(&a.geojson, "geojson", "", "a new area: a file holding a GeoJSON Polygon; - for stdin")
	fs.StringVar(&a.circle, "circle", "", "a new area: lat,lon,radius_m")
	fs.StringVar(&a.alt, "alt", "", "a new altitude band lower..upper, e.g. 0..FL50")
	fs.StringVar(&a.from, "from", "", "a new start: a time or a duration from now")
	fs.StringVar(&a.until, "until", "", "a new end (exclusive), in the same forms")
	fs.StringVar(&a.nature, "nature", "", "a new description of the activity")
	fs.StringVar(&a.reason, "reason", "", "why")
	fs.StringVar(&a.by, "by", "", "the person amending")
}

func runNoticeAmend(ctx context.Context, e *env, a *noticeAmendArgs) error {
	if a.id == "" {
		return usagef("--id is required")
	}
	if a.geojson != "" && a.circle != "" {
		return usagef("give --geojson or --circle, not both")
	}
	req := hotline.AmendNoticeRequest{Author: a.by, Reason: a.reason, Nature: a.nature}
	if a.geojson != "" || a.circle != "" {
		area, err := readArea(e.stdin, a.geojson, a.circle)
		if err != nil {
			return err
		}
		req.Area = &area
	}
	if a.alt != "" {
		band, err := parseBand(a.alt)
		if err != nil {
			return usagef("--alt: %v", err)
		}
		req.Band = &band
	}
	now := time.Now()
	for _, w := range []struct {
		flag, val string
		dst       **time.Time
	}{{"--from", a.from, &req.Start}, {"--until", a.until, &req.End}} {
		if w.val == "" {
			continue
		}
		t, err := parseWhen(w.val, now)
		if err != nil {
			return usagef("%s: %v", w.flag, err)
		}
		*w.dst = &t
	}
	if req.Area == nil && req.Band == nil && req.Start == nil && req.End == nil && a.nature == "" {
		return usagef("nothing to amend: give at least one of --geojson, --circle, --alt, --from, --until, --nature")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Hotline.AmendNotice(ctx, a.id, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "activity %s amended (version %d, notice %s)\n", a.id, res.Record.Message.Activity.Version, res.Record.Message.ID)
	printConflicts(e.stdout, res.Conflicts)
	return deliverAndReport(ctx, e, n, res.Record.Message.ID)
}

func runNoticeList(ctx context.Context, e *env, _ *noArgs) error {
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
}

// printConflicts prints one line per conflict, or that there are none.
func printConflicts(w io.Writer, cs []hotline.Conflict) {
	if len(cs) == 0 {
		fmt.Fprintln(w, "no conflicts")
		return
	}
	for _, c := range cs {
		fmt.Fprintln(w, "CONFLICT: "+strings.TrimPrefix(hotline.ConflictText(c), "deconfliction conflict: "))
	}
}
