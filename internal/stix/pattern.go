package stix

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"detente"
)

// MaxPatternLength is the longest STIX pattern, in bytes, that
// ValidatePattern accepts. Validation is linear in the length and never
// recurses on it; the bound caps the work one indicator can cost while
// leaving room for long lists of ORed indicators of compromise.
const MaxPatternLength = 1 << 20

// MaxPatternDepth is the deepest nesting of brackets and parentheses, taken
// together, that ValidatePattern accepts; it bounds the parser's recursion.
const MaxPatternDepth = 64

// maxObservationTypes is the most distinct object types one observation
// expression ("[…]") may name; the AND rule tracks them in a 64-bit set.
const maxObservationTypes = 64

// PatternError says where and why a STIX pattern is invalid. Offset counts
// bytes of the pattern string from 0. It unwraps to a *detente.Error with
// code detente.EINVALID carrying the same text.
type PatternError struct {
	Offset  int    // byte offset of the offending token, from 0
	Message string // what is wrong, lowercase
}

// Error implements the error interface: "pattern: offset 1: expected an
// object path, '(' or EXISTS, found '['".
func (e *PatternError) Error() string {
	return "pattern: offset " + strconv.Itoa(e.Offset) + ": " + e.Message
}

// Unwrap returns the *detente.Error (code EINVALID) carrying the same text.
func (e *PatternError) Unwrap() error {
	return &detente.Error{Code: detente.EINVALID, Message: e.Error()}
}

// ValidatePattern checks that p is a STIX 2.1 pattern: that it follows the
// OASIS STIX patterning grammar (STIXPattern.g4) and the rules of section 9
// of the specification that the grammar does not express. It returns nil or
// a *PatternError. docs/stix.md lists what is checked.
func ValidatePattern(p string) error {
	if err := checkPattern(p); err != nil {
		return err
	}
	return nil
}

// checkPattern is ValidatePattern with a concrete error type.
func checkPattern(src string) *PatternError { return checkPatternCollect(src, nil) }

// checkPatternCollect is checkPattern that appends the pattern's equality
// comparisons to out, when out is not nil.
func checkPatternCollect(src string, out *[]Comparison) (err *PatternError) {
	if len(src) > MaxPatternLength {
		return &PatternError{Offset: MaxPatternLength, Message: "pattern longer than " + strconv.Itoa(MaxPatternLength) + " bytes"}
	}
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return &PatternError{Offset: off, Message: "invalid UTF-8"}
	}
	// The parser reports the first error by panicking with a bailout, which
	// stops here: explicit returns would triple the length of every rule.
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	p := patternParser{src: src, collect: out}
	p.pattern()
	return nil
}

// bailout carries a parse error up to checkPattern.
type bailout struct{ err *PatternError }

// tokKind is the kind of a pattern token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tLBrack
	tRBrack
	tLParen
	tRParen
	tComma
	tColon
	tDot
	tStar
	tOther // '^', '/', a lone '+' or '-': in the grammar's lexer, in none of its rules
	tEq
	tNeq
	tLt
	tLe
	tGt
	tGe
	tInt       // IntPosLiteral, IntNegLiteral
	tFloat     // FloatPosLiteral, FloatNegLiteral
	tString    // '…'
	tBool      // true, false
	tHex       // h'…'
	tBinary    // b'…'
	tTimestamp // t'…'
	tIdent     // IdentifierWithoutHyphen
	tIdentHyph // IdentifierWithHyphen
	tAnd
	tOr
	tNot
	tFollowedBy
	tLike
	tMatches
	tIsSuperset
	tIsSubset
	tExists
	tLast // reserved, used by no rule
	tIn
	tStart
	tStop
	tSeconds
	tWithin
	tRepeats
	tTimes
)

// keywords maps the grammar's keywords, which are case-sensitive, and
// booleans to their token kinds.
var keywords = map[string]tokKind{
	"AND": tAnd, "OR": tOr, "NOT": tNot, "FOLLOWEDBY": tFollowedBy, "LIKE": tLike,
	"MATCHES": tMatches, "ISSUPERSET": tIsSuperset, "ISSUBSET": tIsSubset, "EXISTS": tExists,
	"LAST": tLast, "IN": tIn, "START": tStart, "STOP": tStop, "SECONDS": tSeconds,
	"WITHIN": tWithin, "REPEATS": tRepeats, "TIMES": tTimes, "true": tBool, "false": tBool,
}

// singles are the one-byte tokens, with their kinds in singleKinds.
const singles = "[](),:*^/"

var singleKinds = [len(singles)]tokKind{tLBrack, tRBrack, tLParen, tRParen, tComma, tColon, tStar, tOther, tOther}

// token is one lexed token: its kind, its bytes src[off:end] and, for
// numbers, its value.
type token struct {
	kind     tokKind
	off, end int
	ival     int64   // tInt
	fval     float64 // tFloat
}

// patternParser is a lexer and recursive-descent parser in one: the lexer
// runs one token ahead of the parser and never builds a token list, and the
// parser builds no tree; it only checks. Each rule of STIXPattern.g4 is a
// method; left recursion becomes a loop.
type patternParser struct {
	src   string
	pos   int   // where the next token starts, before any whitespace
	tok   token // the current token
	depth int   // open brackets and parentheses

	// Object types of the current observation expression, for the AND
	// rule: a set of them is a bit mask over this table.
	types  [maxObservationTypes]string
	ntypes int

	// collect, when set, receives the equality comparisons the pattern
	// makes (PatternComparisons).
	collect *[]Comparison
}

// fail stops parsing with an error at byte offset off.
func (p *patternParser) fail(off int, msg string) {
	panic(bailout{&PatternError{Offset: off, Message: msg}})
}

func (p *patternParser) text(t token) string { return p.src[t.off:t.end] }

// show renders token t for a message, quoted and shortened.
func (p *patternParser) show(t token) string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tString, tHex, tBinary, tTimestamp:
		return quote(p.text(t), false) // already quoted
	}
	return quote(p.text(t), true)
}

// quote shortens s for a message and quotes it: in single quotes when
// single is set and s is printable, else in Go syntax.
func quote(s string, single bool) string {
	if len(s) > 40 {
		cut := 37
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	if single {
		return "'" + s + "'"
	}
	return s
}

// unexpected fails because the current token is not what the grammar wants.
func (p *patternParser) unexpected(want string) {
	p.fail(p.tok.off, "expected "+want+", found "+p.show(p.tok))
}

// expect checks that the current token is of kind k and moves past it.
func (p *patternParser) expect(k tokKind, want string) {
	if p.tok.kind != k {
		p.unexpected(want)
	}
	p.next()
}

// enter moves past an opening bracket or parenthesis, bounding the
// recursion; the caller decrements p.depth after the closing one.
func (p *patternParser) enter() {
	p.depth++
	if p.depth > MaxPatternDepth {
		p.fail(p.tok.off, "brackets and parentheses nested deeper than "+strconv.Itoa(MaxPatternDepth)+" levels")
	}
	p.next()
}

// pattern: observationExpressions EOF.
func (p *patternParser) pattern() {
	p.next()
	if p.tok.kind == tEOF {
		p.fail(p.tok.off, "empty pattern")
	}
	p.observations(0)
	if p.tok.kind != tEOF {
		p.unexpected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
	}
}

// observationOps are the observation operators from the loosest to the
// tightest binding.
var observationOps = [...]tokKind{tFollowedBy, tOr, tAnd}

// observations parses the operands of observationOps[level] and the
// operators between them; all three are left-associative.
func (p *patternParser) observations(level int) {
	for {
		if level+1 < len(observationOps) {
			p.observations(level + 1)
		} else {
			p.observation()
		}
		if p.tok.kind != observationOps[level] {
			return
		}
		p.next()
	}
}

// observation: '[' comparisonExpression ']' or '(' observationExpressions
// ')', then its qualifiers.
func (p *patternParser) observation() {
	switch p.tok.kind {
	case tLBrack:
		p.enter()
		p.ntypes = 0
		p.comparisonOr()
		p.expect(tRBrack, "AND, OR or ']'")
	case tLParen:
		p.enter()
		p.observations(0)
		p.expect(tRParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'")
	default:
		p.unexpected("an observation expression ('[' or '(')")
	}
	p.depth--
	p.qualifiers()
}

// qualifiers parses the qualifiers after an observation expression. The
// specification allows at most one of each kind on one expression.
func (p *patternParser) qualifiers() {
	var within, repeats, startStop bool
	for {
		kw := p.tok
		var seen *bool
		switch kw.kind {
		case tWithin:
			seen = &within
		case tRepeats:
			seen = &repeats
		case tStart:
			seen = &startStop
		default:
			return
		}
		if *seen {
			p.fail(kw.off, "an observation expression may have only one "+p.text(kw)+" qualifier")
		}
		*seen = true
		p.next()
		switch kw.kind {
		case tWithin:
			p.within()
		case tRepeats:
			p.repeats()
		default:
			p.startStop()
		}
	}
}

// within: WITHIN (IntPosLiteral|FloatPosLiteral) SECONDS, with a number
// greater than zero.
func (p *patternParser) within() {
	t := p.tok
	switch {
	case t.kind == tInt && t.ival > 0, t.kind == tFloat && t.fval > 0:
	case t.kind == tInt || t.kind == tFloat:
		p.fail(t.off, "WITHIN takes a number of seconds greater than zero, found "+p.show(t))
	default:
		p.unexpected("a number of seconds after WITHIN")
	}
	p.next()
	p.expect(tSeconds, "SECONDS")
}

// repeats: REPEATS IntPosLiteral TIMES, with a count greater than zero.
func (p *patternParser) repeats() {
	t := p.tok
	switch {
	case t.kind == tInt && t.ival > 0:
	case t.kind == tInt || t.kind == tFloat:
		p.fail(t.off, "REPEATS takes an integer greater than zero, found "+p.show(t))
	default:
		p.unexpected("a number of times after REPEATS")
	}
	p.next()
	p.expect(tTimes, "TIMES")
}

// startStop: START TimestampLiteral STOP TimestampLiteral, the start
// strictly before the stop.
func (p *patternParser) startStop() {
	start := p.tok
	if start.kind != tTimestamp {
		p.unexpected("a timestamp t'…' after START")
	}
	p.next()
	p.expect(tStop, "STOP")
	stop := p.tok
	if stop.kind != tTimestamp {
		p.unexpected("a timestamp t'…' after STOP")
	}
	t0, _ := parseTimestamp(p.src[start.off+2 : start.end-1])
	t1, _ := parseTimestamp(p.src[stop.off+2 : stop.end-1])
	if !t0.Before(t1) {
		p.fail(stop.off, "STOP "+p.show(stop)+" is not after START "+p.show(start))
	}
	p.next()
}

// comparisonOr parses comparisons joined by OR and returns the set of
// object types that can satisfy them: the union of its operands' sets.
func (p *patternParser) comparisonOr() uint64 {
	set := p.comparisonAnd()
	for p.tok.kind == tOr {
		p.next()
		set |= p.comparisonAnd()
	}
	return set
}

// comparisonAnd parses comparisons joined by AND and returns the set of
// object types that can satisfy them: the intersection of its operands'
// sets. STIX 2.1 requires that all operands of AND in an observation
// expression be satisfiable by one object, so an empty intersection is an
// error.
func (p *patternParser) comparisonAnd() uint64 {
	set := p.propTest()
	for p.tok.kind == tAnd {
		and := p.tok
		p.next()
		s := p.propTest()
		if set&s == 0 {
			p.fail(and.off, "AND joins comparisons of different object types ("+p.typeNames(set)+" and "+p.typeNames(s)+"): all must hold for one object")
		}
		set &= s
	}
	return set
}

// typeNames lists the object types in set for a message.
func (p *patternParser) typeNames(set uint64) string {
	var names []string
	for i := range p.ntypes {
		if set&(1<<i) != 0 {
			names = append(names, p.types[i])
		}
	}
	return strings.Join(names, " or ")
}

// propTest parses one comparison, a parenthesised comparison expression or
// an EXISTS test, and returns its set of object types.
func (p *patternParser) propTest() uint64 {
	switch p.tok.kind {
	case tLParen:
		p.enter()
		set := p.comparisonOr()
		p.expect(tRParen, "AND, OR or ')'")
		p.depth--
		return set
	case tNot:
		p.next()
		if p.tok.kind != tExists {
			p.unexpected("EXISTS after a leading NOT (a negated comparison has NOT before its operator, e.g. file:name NOT = 'a')")
		}
		fallthrough
	case tExists:
		p.next()
		return p.objectPath()
	case tIdent, tIdentHyph:
	default:
		p.unexpected("an object path, '(' or EXISTS")
	}
	pathStart := p.tok.off
	set := p.objectPath()
	path := strings.TrimSpace(p.src[pathStart:p.tok.off])
	negated := p.tok.kind == tNot
	if negated {
		p.next()
	}
	op := p.tok
	switch op.kind {
	case tEq, tNeq, tLt, tLe, tGt, tGe, tIn, tLike, tMatches, tIsSubset, tIsSuperset:
	default:
		p.unexpected("a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET or ISSUPERSET)")
	}
	p.next()
	if p.collect != nil && !negated && (op.kind == tEq || op.kind == tIn) {
		p.collectValues(path, op.kind == tIn)
	}
	switch op.kind {
	case tEq, tNeq:
		p.literal(false)
	case tLt, tLe, tGt, tGe:
		p.literal(true)
	case tIn:
		p.set()
	default: // LIKE, MATCHES, ISSUBSET, ISSUPERSET
		if p.tok.kind != tString {
			p.unexpected(p.text(op) + " takes a string '…'")
		}
		p.next()
	}
	return set
}

// literal parses a primitiveLiteral, or with orderable an orderableLiteral
// (not a boolean). The lexer has already checked the literal's content.
func (p *patternParser) literal(orderable bool) {
	switch p.tok.kind {
	case tInt, tFloat, tString, tHex, tBinary, tTimestamp:
	case tBool:
		if orderable {
			p.fail(p.tok.off, "a boolean cannot be ordered: compare it with = or !=")
		}
	default:
		p.unexpected("a value (a number, a string '…', true, false, h'…', b'…' or t'…')")
	}
	p.next()
}

// set parses a setLiteral: '(' ')' or '(' primitiveLiteral (','
// primitiveLiteral)* ')'.
func (p *patternParser) set() {
	if p.tok.kind != tLParen {
		p.unexpected("a set of values in parentheses after IN, e.g. ('a', 'b')")
	}
	p.next()
	if p.tok.kind == tRParen {
		p.next()
		return
	}
	for {
		p.literal(false)
		switch p.tok.kind {
		case tComma:
			p.next()
		case tRParen:
			p.next()
			return
		default:
			p.unexpected("',' or ')' in the set")
		}
	}
}

// objectPath parses objectType ':' firstPathComponent objectPathComponent*
// and returns the set holding the object type.
func (p *patternParser) objectPath() uint64 {
	t := p.tok
	if t.kind != tIdent && t.kind != tIdentHyph {
		p.unexpected("an object path, e.g. file:name")
	}
	name := p.text(t)
	if !validTypeName(name) {
		p.fail(t.off, p.show(t)+" is not a valid STIX object type (3-250 characters a-z, 0-9 and '-', starting with a letter, no '--')")
	}
	set := p.typeBit(name, t.off)
	p.next()
	if p.tok.kind != tColon {
		p.unexpected("':' after the object type " + p.show(t))
	}
	p.next()
	c := p.tok
	switch c.kind {
	case tIdent:
		if len(p.text(c)) > 250 {
			p.fail(c.off, "property name longer than 250 characters")
		}
	case tString, tIdentHyph:
		if c.kind == tIdentHyph || !validPathProperty(p.src[c.off+1:c.end-1]) {
			p.fail(c.off, "invalid property name "+p.show(c)+" (1-250 characters a-z, A-Z, 0-9 and '_')")
		}
	default:
		p.unexpected("a property name after ':'")
	}
	p.next()
	for {
		switch p.tok.kind {
		case tDot:
			p.next()
			p.key()
		case tLBrack:
			p.next()
			if p.tok.kind != tInt && p.tok.kind != tStar {
				p.unexpected("a list index (an integer or '*')")
			}
			p.next()
			p.expect(tRBrack, "']' after the list index")
		default:
			return set
		}
	}
}

// key parses the property name or dictionary key after a '.' in a path.
func (p *patternParser) key() {
	c := p.tok
	switch c.kind {
	case tIdent:
		if len(p.text(c)) > 250 {
			p.fail(c.off, "key longer than 250 characters")
		}
	case tString:
		// The length of a key is that of the unescaped string.
		raw, n := p.src[c.off+1:c.end-1], 0
		for i := 0; i < len(raw); i++ {
			if raw[i] == '\\' {
				i++
			}
			n++
		}
		if n == 0 || n > 250 {
			p.fail(c.off, "a quoted key must have 1-250 characters")
		}
	case tIdentHyph:
		p.fail(c.off, "a key containing '-' must be quoted: '"+p.text(c)+"'")
	default:
		p.unexpected("a property name or quoted key after '.'")
	}
	p.next()
}

// typeBit returns the set holding object type name, adding the type to the
// current observation expression's table.
func (p *patternParser) typeBit(name string, off int) uint64 {
	for i := range p.ntypes {
		if p.types[i] == name {
			return 1 << i
		}
	}
	if p.ntypes == maxObservationTypes {
		p.fail(off, "more than "+strconv.Itoa(maxObservationTypes)+" object types in one observation expression")
	}
	p.types[p.ntypes] = name
	p.ntypes++
	return 1 << (p.ntypes - 1)
}

// validPathProperty reports whether a quoted first path component is a
// property name: 1-250 characters a-z, A-Z, 0-9 and '_'. The lower bound
// is 1, not 3, because predefined properties such as id are shorter.
func validPathProperty(s string) bool {
	if len(s) == 0 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isPatternSpace reports whether r is whitespace for the grammar's WS rule.
func isPatternSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// skipSpace moves past whitespace and comments.
func (p *patternParser) skipSpace() {
	s := p.src
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.pos++
		case strings.HasPrefix(s[p.pos:], "/*"):
			i := strings.Index(s[p.pos+2:], "*/")
			if i < 0 {
				p.fail(p.pos, "unterminated comment /*")
			}
			p.pos += 2 + i + 2
		case strings.HasPrefix(s[p.pos:], "//"):
			i := strings.IndexAny(s[p.pos:], "\r\n")
			if i < 0 {
				i = len(s) - p.pos
			}
			p.pos += i
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[p.pos:])
			if !isPatternSpace(r) {
				return
			}
			p.pos += size
		default:
			return
		}
	}
}

// next lexes the next token into p.tok. Like the grammar's lexer it takes
// the longest match, so "ANDROID" is an identifier and "x-y" one identifier
// with a hyphen. Malformed literals fail here, at their offset.
func (p *patternParser) next() {
	p.skipSpace()
	s, i := p.src, p.pos
	p.tok = token{off: i, end: i}
	if i >= len(s) {
		return
	}
	c := s[i]
	var after byte
	if i+1 < len(s) {
		after = s[i+1]
	}
	k, n := tEOF, 1
	switch j := strings.IndexByte(singles, c); {
	case j >= 0:
		k = singleKinds[j]
	case c == '=':
		k = tEq
		if after == '=' {
			n = 2
		}
	case c == '!' && after == '=', c == '<' && after == '>':
		k, n = tNeq, 2
	case c == '<' || c == '>':
		k = tLt
		if c == '>' {
			k = tGt
		}
		if after == '=' {
			k, n = k+1, 2 // tLe, tGe
		}
	case c == '.' && !isDigit(after):
		k = tDot
	case c == '.' || c == '+' || c == '-' || isDigit(c):
		p.number()
		return
	case c == '\'':
		p.str()
		return
	case after == '\'' && (c == 'h' || c == 'b' || c == 't'):
		p.typed(c)
		return
	case isIdentStart(c):
		for n < len(s)-i && (isIdentStart(s[i+n]) || isDigit(s[i+n]) || s[i+n] == '-') {
			n++
		}
		k = tIdent
		if strings.IndexByte(s[i:i+n], '-') >= 0 {
			k = tIdentHyph
		} else if kw, ok := keywords[s[i:i+n]]; ok {
			k = kw
		}
	default:
		r, _ := utf8.DecodeRuneInString(s[i:])
		p.fail(i, "unexpected character "+strconv.QuoteRune(r))
	}
	p.tok.kind, p.tok.end = k, i+n
	p.pos = i + n
}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral or
// FloatNegLiteral, or a lone '+' or '-', and checks that the value fits an
// int64 or a float64.
func (p *patternParser) number() {
	s, start := p.src, p.pos
	i := start
	if s[i] == '+' || s[i] == '-' {
		i++
	}
	digits := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	t := &p.tok
	switch {
	case i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]):
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		f, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil {
			p.fail(start, "number "+quote(s[start:i], false)+" is out of the range of a 64-bit float")
		}
		t.kind, t.fval = tFloat, f
	case intEnd == digits:
		t.kind, i = tOther, start+1
	default:
		if s[digits] == '0' && intEnd-digits > 1 {
			p.fail(start, "integer "+quote(s[start:i], false)+" has a leading zero")
		}
		v, err := strconv.ParseInt(s[start:i], 10, 64)
		if err != nil {
			p.fail(start, "integer "+quote(s[start:i], false)+" is out of the range of a 64-bit integer")
		}
		t.kind, t.ival = tInt, v
	}
	t.end, p.pos = i, i
}

// str lexes a StringLiteral: quoted, with \' and \\ the only escapes. An
// unterminated string is reported before a bad escape inside it, so that
// the error does not depend on what follows the pattern.
func (p *patternParser) str() {
	s, start := p.src, p.pos
	i, bad := start+1, -1
	for {
		j := strings.IndexAny(s[i:], `'\`)
		if j < 0 || s[i+j] == '\\' && i+j+1 == len(s) {
			p.fail(start, "unterminated string")
		}
		i += j
		if s[i] == '\'' {
			break
		}
		if s[i+1] != '\'' && s[i+1] != '\\' && bad < 0 {
			bad = i
		}
		i += 2
	}
	if bad >= 0 {
		r, _ := utf8.DecodeRuneInString(s[bad+1:])
		p.fail(bad, "invalid escape: backslash before "+strconv.QuoteRune(r)+` in a string (the escapes are \' and \\; write a backslash as \\)`)
	}
	p.tok.kind, p.tok.end, p.pos = tString, i+1, i+1
}

// typed lexes a literal with a type prefix: h'…' (HexLiteral, an even
// number of hex digits), b'…' (BinaryLiteral, non-empty padded base64) or
// t'…' (TimestampLiteral, a STIX timestamp that is a real instant).
func (p *patternParser) typed(prefix byte) {
	start := p.pos
	j := strings.IndexByte(p.src[start+2:], '\'')
	if j < 0 {
		p.fail(start, "unterminated literal "+string(prefix)+"'…'")
	}
	body, end := p.src[start+2:start+2+j], start+2+j+1
	var k tokKind
	switch prefix {
	case 'h':
		k = tHex
		for i := 0; i < len(body); i++ {
			if c := body[i]; !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				r, _ := utf8.DecodeRuneInString(body[i:])
				p.fail(start+2+i, "invalid hex digit "+strconv.QuoteRune(r)+" in a hex literal")
			}
		}
		if len(body)%2 != 0 {
			p.fail(start, "hex literal with an odd number of digits")
		}
	case 'b':
		k = tBinary
		if len(body) == 0 || len(body)%4 != 0 {
			p.fail(start, "binary literal is not base64: want a non-empty multiple of 4 characters, with = padding")
		}
		for i := 0; i < len(body); i++ {
			c := body[i]
			ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/'
			if c == '=' { // padding: the last character, or the last two
				ok = i == len(body)-1 || i == len(body)-2 && body[i+1] == '='
			}
			if !ok {
				r, _ := utf8.DecodeRuneInString(body[i:])
				p.fail(start+2+i, "invalid character "+strconv.QuoteRune(r)+" in a base64 binary literal")
			}
		}
	default:
		k = tTimestamp
		if _, ok := parseTimestamp(body); !ok {
			p.fail(start, "invalid timestamp "+quote(p.src[start:end], false)+": want an RFC 3339 UTC timestamp such as t'2016-05-12T08:17:27.000Z'")
		}
	}
	p.tok.kind, p.tok.end, p.pos = k, end, end
}
