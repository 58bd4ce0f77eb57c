package screen

import "strings"

// joinCand is a run of two or three adjacent tokens of a name written
// together, with its skeleton, computed once when the name is parsed
// (for indexed names, when the index is built).
type joinCand struct {
	i, n int // the run is toks[i:i+n]
	text string
	skel string
}

// joinCands returns the runs of two and three adjacent Latin tokens of ts
// that mergeJoined may join, longest first at each position.
func joinCands(ts []token) []joinCand {
	if len(ts) < 2 {
		return nil
	}
	var out []joinCand
	var b strings.Builder
	for i := range ts {
		for n := min(3, len(ts)-i); n >= 2; n-- {
			b.Reset()
			ok := true
			for k := i; k < i+n; k++ {
				p := &ts[k]
				if !p.latin || p.abjad || p.kind == kindNumber {
					ok = false
					break
				}
				b.WriteString(p.text)
			}
			if ok {
				c := b.String()
				out = append(out, joinCand{i: i, n: n, text: c, skel: Skeleton(c)})
			}
		}
	}
	return out
}

// mergeJoined joins two or three adjacent tokens of xs written apart when
// the other name writes them as one word (Sergei Lavrov / SergeiLavrov,
// Good Will / Goodwill, Siemens AG / SiemensAG, Chan-o-cha / Chanocha,
// Tse-tung / 泽东). js are xs's join candidates (joinCands).
func mergeJoined(xs []token, js []joinCand, ys []token) []token {
	if len(js) == 0 {
		return xs
	}
	var out []token
	next := 0 // tokens of xs before next are in out
	for _, j := range js {
		if j.i < next {
			continue
		}
		t, ok := joinedMatch(&j, xs[j.i:j.i+j.n], ys)
		if !ok {
			continue
		}
		if out == nil {
			out = make([]token, 0, len(xs))
		}
		out = append(out, xs[next:j.i]...)
		out = append(out, t)
		next = j.i + j.n
	}
	if out == nil {
		return xs
	}
	return append(out, xs[next:]...)
}

// joinedMatch reports whether the tokens ps, written together as j, match
// a token of ys that none of them matches alone, and returns the joined
// token.
func joinedMatch(j *joinCand, ps []token, ys []token) (token, bool) {
	cs, csk := j.text, j.skel
	for k := range ys {
		y := &ys[k]
		if !y.latin || y.kind != kindName || len(y.text) < 4 {
			continue
		}
		ok := false
		for s := -1; s < len(y.alts) && !ok; s++ {
			text, skel := y.text, y.skel
			if s >= 0 {
				text, skel = y.alts[s], y.skels[s]
			}
			d := len(text) - len(cs)
			switch {
			case d > 3 || d < -3:
			case text == cs || skel == csk && len(csk) >= 3:
				ok = true
			case len(cs) >= 6 && d >= -1 && d <= 1 && editDistance(text, cs) <= 1:
				ok = true
			case len(cs) >= 10 && d >= -2 && d <= 2 && editDistance(text, cs) <= 2:
				ok = true
			}
		}
		if !ok {
			continue
		}
		// Only when the parts do not match the word on their own.
		alone := false
		for p := range ps {
			if s, _ := tokenSim(&ps[p], y); s >= 0.9 {
				alone = true
			}
		}
		if alone {
			continue
		}
		var raw strings.Builder
		for p := range ps {
			if p > 0 {
				raw.WriteByte(' ')
			}
			raw.WriteString(ps[p].raw)
		}
		t := latinToken(raw.String(), cs, nil)
		t.kind, t.weight = kindName, 1
		return t, true
	}
	return token{}, false
}
