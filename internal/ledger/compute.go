package ledger

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
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
	// Due times first: a request may precede the period its answer is in.
	for _, e := range events {
		if e.Type == detente.EventChannel {
			c.noteDue(e)
		}
	}
	for _, e := range events {
		c.add(e)
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
	span := c.now.Sub(c.from)
	if span <= 0 {
		return Buckets - 1
	}
	i := int(int64(t.Sub(c.from)-1) * Buckets / int64(span))
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

// eventBody is the union of the fields Compute reads from event bodies.
type eventBody struct {
	Allowed  *bool           `json:"allowed"`
	Object   string          `json:"object"`
	Objects  []string        `json:"objects"`
	Worth    json.RawMessage `json:"worth"`
	ID       string          `json:"id"`
	Outcome  string          `json:"outcome"`
	Role     string          `json:"role"`
	Refused  string          `json:"refused"`
	Action   string          `json:"action"`
	Type     string          `json:"type"`
	Message  string          `json:"message"`
	Reply    string          `json:"in_reply_to"`
	Dir      string          `json:"direction"`
	Due      time.Time       `json:"due"`
	Feedback bool            `json:"feedback"`
}

func (c *computer) noteDue(e *detente.Event) {
	var b eventBody
	if json.Unmarshal(e.Body, &b) != nil || b.Action != "message" || b.Type != "request" || b.Due.IsZero() {
		return
	}
	c.due[b.Message] = b.Due
}

func (c *computer) add(e *detente.Event) {
	switch e.Type {
	case detente.EventPartnerAdded:
		if e.Partner != "" && !e.Time.After(c.now) {
			c.balance(e.Partner)
		}
		return
	case detente.EventRelease, detente.EventObjectReceived, detente.EventMatchQuery, detente.EventChannel:
	default:
		return
	}
	if e.Partner == "" || !c.in(e.Time) {
		return
	}
	var body eventBody
	if json.Unmarshal(e.Body, &body) != nil {
		return
	}
	b := c.balance(e.Partner)
	switch e.Type {
	case detente.EventRelease:
		if body.Allowed == nil || !*body.Allowed {
			return
		}
		for _, w := range worths(body, body.Object) {
			b.Given++
			c.give(b, e.Time, w.Weight())
			count(&b.GivenByNovelty, w.Novelty)
			if w.Feedback && w.Novelty != NoveltyDuplicate {
				b.FeedbackGiven++
			}
		}
	case detente.EventObjectReceived:
		if body.Outcome == "predefined" {
			return
		}
		ws := worths(body, body.ID)
		if len(ws) != 1 {
			return
		}
		w := ws[0]
		if body.Outcome == "unchanged" && w.Novelty == "" {
			w.Novelty = NoveltyDuplicate
		}
		b.Received++
		c.get(b, e.Time, w.Weight())
		count(&b.ReceivedByNovelty, w.Novelty)
		if w.Feedback && w.Novelty != NoveltyDuplicate {
			b.FeedbackReceived++
		}
	case detente.EventMatchQuery:
		if body.Refused != "" {
			return
		}
		switch body.Role {
		case "owner":
			b.QueriesAnswered++
			c.give(b, e.Time, QueryWeight)
		case "querier":
			b.QueriesAsked++
			c.get(b, e.Time, QueryWeight)
		}
	case detente.EventChannel:
		if body.Action != "message" || body.Type != "response" || body.Reply == "" {
			return
		}
		late := false
		if due, ok := c.due[body.Reply]; ok && e.Time.After(due) {
			late = true
		}
		w := float64(RequestOnTimeWeight)
		if late {
			w = RequestLateWeight
		}
		switch body.Dir {
		case "out":
			tally(&b.Requests, late)
			c.give(b, e.Time, w)
		case "in":
			tally(&b.PartnerRequests, late)
			c.get(b, e.Time, w)
		}
	}
}

// worths returns the worth of every version an event records: its worth
// list when it has one; else, for a log written before worth was
// recorded, the type of each version it names, of unknown novelty.
func worths(b eventBody, single string) []Worth {
	if len(b.Worth) > 0 {
		var list []Worth
		if json.Unmarshal(b.Worth, &list) == nil {
			return list
		}
		var one Worth
		if json.Unmarshal(b.Worth, &one) == nil {
			return []Worth{one}
		}
		return nil
	}
	keys := b.Objects
	if len(keys) == 0 && single != "" {
		keys = []string{single}
	}
	out := make([]Worth, len(keys))
	for i, k := range keys {
		out[i].Type, _, _ = strings.Cut(k, "--")
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
