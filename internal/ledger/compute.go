package ledger

import (
	"bytes"
	"cmp"
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"detente"
)

// Balance is the reciprocity between this node and one partner over one
// period: what this node gave the partner and what it received from it.
type Balance struct {
	Partner string    `json:"partner"`
	From    time.Time `json:"from,omitzero"` // the period's start, exclusive; zero for the whole log
	To      time.Time `json:"to"`            // the period's end, inclusive

	// Given and Received count object versions.
	Given    int `json:"given"`
	Received int `json:"received"`
	// GivenWeight and ReceivedWeight weigh every exchange: object
	// versions, queries answered, requests answered (docs/ledger.md).
	GivenWeight    float64 `json:"given_weight"`
	ReceivedWeight float64 `json:"received_weight"`
	// Ratio is ReceivedWeight / GivenWeight: below 1 this node gives more
	// than it gets. Nil when this node gave nothing of weight.
	Ratio *float64 `json:"ratio"`

	// QueriesAnswered are the partner's private-matching queries this
	// node answered; QueriesAsked, this node's queries the partner
	// answered.
	QueriesAnswered int `json:"queries_answered"`
	QueriesAsked    int `json:"queries_asked"`
	// Requests are the channel requests this node answered for the
	// partner; PartnerRequests, this node's requests the partner answered.
	Requests        Answered `json:"requests_answered"`
	PartnerRequests Answered `json:"requests_answered_by_partner"`
	// FeedbackGiven and FeedbackReceived count sightings and opinions
	// sent back to the originator of what they are about.
	FeedbackGiven    int `json:"feedback_given"`
	FeedbackReceived int `json:"feedback_received"`
	// ByNovelty counts the versions given and received by novelty.
	GivenByNovelty    map[string]int `json:"given_by_novelty,omitempty"`
	ReceivedByNovelty map[string]int `json:"received_by_novelty,omitempty"`

	// Series is the exchange over time, in Buckets equal steps.
	Series []Point `json:"series,omitempty"`
}

// Answered counts requests answered by their due time and after it.
type Answered struct {
	OnTime int `json:"on_time"`
	Late   int `json:"late"`
}

// Point is one step of a balance's series.
type Point struct {
	End            time.Time `json:"end"`
	GivenWeight    float64   `json:"given_weight"`
	ReceivedWeight float64   `json:"received_weight"`
	// Balance is the cumulative ReceivedWeight − GivenWeight up to End.
	Balance float64 `json:"balance"`
}

// Buckets is how many steps a balance's series has.
const Buckets = 30

// Below reports whether b's ratio is under min: this node gave something
// of weight and got back less than min times it.
func (b *Balance) Below(min float64) bool { return b.Ratio != nil && *b.Ratio < min }

// Compute returns the balance with every partner over the period ending at
// now (the whole log when period is 0), from the log's events alone:
// release and receipt events with the worth recorded in them,
// private-matching queries and channel messages. Events may be in any
// order; they are read, never changed. Every partner the log records
// being added has a balance, even with nothing exchanged; balances are
// ordered by partner name.
func Compute(events []*detente.Event, period time.Duration, now time.Time) []*Balance {
	// In log order, whatever order they came in: sums of weights must not
	// depend on it, to the last bit.
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b *detente.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	c := computer{now: now.UTC(), by: map[string]*Balance{}, due: map[string]time.Time{}}
	if period > 0 {
		c.from = c.now.Add(-period)
	} else {
		for _, e := range events {
			if c.from.IsZero() || e.Time.Before(c.from) {
				c.from = e.Time.Add(-time.Nanosecond)
			}
		}
	}
	// Due times first: a request may precede the period its answer is in,
	// by up to RequestLookback.
	lookback := c.from.Add(-RequestLookback)
	for _, e := range events {
		if e.Type == detente.EventChannel && (period == 0 || e.Time.After(lookback)) {
			c.noteDue(e)
		}
	}
	ps := make([]parsed, len(events))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(events)/4096))
	var wg sync.WaitGroup
	chunk := (len(events) + workers - 1) / workers
	for w := range workers {
		wg.Go(func() {
			for i := w * chunk; i < min((w+1)*chunk, len(events)); i++ {
				ps[i] = c.parse(events[i])
			}
		})
	}
	wg.Wait()
	// Summed in log order, on one core: the same figures to the last bit.
	for i, e := range events {
		c.add(e, ps[i])
	}
	out := make([]*Balance, 0, len(c.by))
	for _, b := range c.by {
		c.finish(b)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Balance) int { return strings.Compare(a.Partner, b.Partner) })
	if period == 0 {
		for _, b := range out {
			b.From = time.Time{}
		}
	}
	return out
}

type computer struct {
	from, now time.Time
	by        map[string]*Balance
	due       map[string]time.Time // channel requests' due times by message id
}

func (c *computer) balance(partner string) *Balance {
	b, ok := c.by[partner]
	if !ok {
		b = &Balance{Partner: partner, From: c.from, To: c.now, Series: make([]Point, Buckets)}
		step := c.now.Sub(c.from) / Buckets
		for i := range b.Series {
			b.Series[i].End = c.from.Add(step * time.Duration(i+1))
		}
		b.Series[Buckets-1].End = c.now
		c.by[partner] = b
	}
	return b
}

// bucket returns the series step t falls in.
func (c *computer) bucket(t time.Time) int {
	step := c.now.Sub(c.from) / Buckets // as the series' ends are laid out
	if step <= 0 {
		return Buckets - 1
	}
	i := int((t.Sub(c.from) - 1) / step)
	return min(max(i, 0), Buckets-1)
}

func (c *computer) in(t time.Time) bool { return t.After(c.from) && !t.After(c.now) }

func (c *computer) give(b *Balance, t time.Time, w float64) {
	b.GivenWeight += w
	b.Series[c.bucket(t)].GivenWeight += w
}

func (c *computer) get(b *Balance, t time.Time, w float64) {
	b.ReceivedWeight += w
	b.Series[c.bucket(t)].ReceivedWeight += w
}

// The fields Compute reads of each kind of event body: one small struct
// per kind, so that decoding skips the rest (the ledger reads large logs).
type (
	releaseBody struct {
		Allowed *bool   `json:"allowed"`
		Object  string  `json:"object"`
		Worth   []Worth `json:"worth"`
	}
	keysBody struct {
		Objects []string `json:"objects"`
	}
	receivedBody struct {
		ID      string `json:"id"`
		Outcome string `json:"outcome"`
		Worth   *Worth `json:"worth"`
	}
	queryBody struct {
		Role    string `json:"role"`
		Refused string `json:"refused"`
	}
	channelBody struct {
		Action  string    `json:"action"`
		Type    string    `json:"type"`
		Message string    `json:"message"`
		Reply   string    `json:"in_reply_to"`
		Dir     string    `json:"direction"`
		Due     time.Time `json:"due"`
	}
)

var requestText = []byte(`"request"`)

func (c *computer) noteDue(e *detente.Event) {
	if !bytes.Contains(e.Body, requestText) {
		return
	}
	var b channelBody
	if json.Unmarshal(e.Body, &b) != nil || b.Action != "message" || b.Type != "request" || b.Due.IsZero() {
		return
	}
	c.due[b.Message] = b.Due
}

// parsed is what one event counts for, decoded from its body.
type parsed struct {
	ok       bool
	given    []Worth // release: the versions given
	received Worth   // object.received: the version received
	role     string  // match.query: owner (answered) or querier (asked)
	reply    string  // channel response: the request it answers
	dir      string  // channel response: out (this node answered) or in
}

// parse decodes what e counts for, if anything: the costly part of
// Compute, done on every core.
func (c *computer) parse(e *detente.Event) parsed {
	switch e.Type {
	case detente.EventRelease, detente.EventObjectReceived, detente.EventMatchQuery, detente.EventChannel:
	default:
		return parsed{}
	}
	if e.Partner == "" || !c.in(e.Time) {
		return parsed{}
	}
	switch e.Type {
	case detente.EventRelease:
		var body releaseBody
		if json.Unmarshal(e.Body, &body) != nil || body.Allowed == nil || !*body.Allowed {
			return parsed{}
		}
		ws := body.Worth
		if ws == nil {
			ws = worthsOf(e.Body, body.Object)
		}
		return parsed{ok: true, given: ws}
	case detente.EventObjectReceived:
		var body receivedBody
		if json.Unmarshal(e.Body, &body) != nil || body.Outcome == "predefined" {
			return parsed{}
		}
		p := parsed{ok: true}
		if body.Worth != nil {
			p.received = *body.Worth
		} else {
			p.received.Type, _, _ = strings.Cut(body.ID, "--")
			if body.Outcome == "unchanged" {
				p.received.Novelty = NoveltyDuplicate
			}
		}
		return p
	case detente.EventMatchQuery:
		var body queryBody
		if json.Unmarshal(e.Body, &body) != nil || body.Refused != "" || (body.Role != "owner" && body.Role != "querier") {
			return parsed{}
		}
		return parsed{ok: true, role: body.Role}
	default:
		var body channelBody
		if json.Unmarshal(e.Body, &body) != nil || body.Action != "message" || body.Type != "response" || body.Reply == "" ||
			(body.Dir != "out" && body.Dir != "in") {
			return parsed{}
		}
		return parsed{ok: true, reply: body.Reply, dir: body.Dir}
	}
}

// add counts e, which parse decoded as p, in its partner's balance.
func (c *computer) add(e *detente.Event, p parsed) {
	if e.Type == detente.EventPartnerAdded {
		if e.Partner != "" && !e.Time.After(c.now) {
			c.balance(e.Partner)
		}
		return
	}
	if !p.ok {
		return
	}
	b := c.balance(e.Partner)
	switch e.Type {
	case detente.EventRelease:
		for _, w := range p.given {
			b.Given++
			c.give(b, e.Time, w.Weight())
			count(&b.GivenByNovelty, w.Novelty)
			if w.Feedback && w.Novelty != NoveltyDuplicate {
				b.FeedbackGiven++
			}
		}
	case detente.EventObjectReceived:
		w := p.received
		b.Received++
		c.get(b, e.Time, w.Weight())
		count(&b.ReceivedByNovelty, w.Novelty)
		if w.Feedback && w.Novelty != NoveltyDuplicate {
			b.FeedbackReceived++
		}
	case detente.EventMatchQuery:
		if p.role == "owner" {
			b.QueriesAnswered++
			c.give(b, e.Time, QueryWeight)
		} else {
			b.QueriesAsked++
			c.get(b, e.Time, QueryWeight)
		}
	case detente.EventChannel:
		late := false
		if due, ok := c.due[p.reply]; ok && e.Time.After(due) {
			late = true
		}
		w := float64(RequestOnTimeWeight)
		if late {
			w = RequestLateWeight
		}
		if p.dir == "out" {
			tally(&b.Requests, late)
			c.give(b, e.Time, w)
		} else {
			tally(&b.PartnerRequests, late)
			c.get(b, e.Time, w)
		}
	}
}

// worthsOf returns, for a release entry written before worth was
// recorded, the type of each version it names, of unknown novelty.
func worthsOf(body []byte, single string) []Worth {
	var k keysBody
	json.Unmarshal(body, &k) // the body already decoded once
	keys := k.Objects
	if len(keys) == 0 && single != "" {
		keys = []string{single}
	}
	out := make([]Worth, len(keys))
	for i, key := range keys {
		out[i].Type, _, _ = strings.Cut(key, "--")
	}
	return out
}

func count(m *map[string]int, k string) {
	if k == "" {
		k = "unknown"
	}
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[k]++
}

func tally(a *Answered, late bool) {
	if late {
		a.Late++
	} else {
		a.OnTime++
	}
}

func (c *computer) finish(b *Balance) {
	if b.GivenWeight > 0 {
		r := b.ReceivedWeight / b.GivenWeight
		b.Ratio = &r
	}
	sum := 0.0
	for i := range b.Series {
		sum += b.Series[i].ReceivedWeight - b.Series[i].GivenWeight
		b.Series[i].Balance = sum
	}
}
