package screen

import "strings"

// latinDigraphs are rewritten before letters are classed, longest first.
// Upper-case letters stand for sounds that have no single Latin letter:
// S for sh/sch/ш, C for ch/tsch/ч, J for j/zh/dj/ж, x for kh/х.
var latinDigraphs = []struct{ from, to string }{
	{"schtsch", "SC"}, {"shch", "SC"}, {"chtch", "SC"},
	{"tsch", "C"}, {"dsch", "J"}, {"dzh", "J"},
	{"sch", "S"}, {"tch", "C"},
	{"sh", "S"}, {"ch", "C"}, {"kh", "x"}, {"zh", "J"}, {"dj", "J"},
	{"gh", "g"}, {"ph", "f"}, {"th", "t"}, {"dh", "d"}, {"ck", "k"},
	{"tz", "z"}, {"ts", "z"}, {"gue", "ge"}, {"gui", "gi"}, {"qu", "k"}, {"ou", "u"},
}

func isLatinVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// Skeleton returns the phonetic key of one normalised Latin token
// (lowercase ASCII letters and digits). Spellings that romanisation and
// transcription make interchangeable share a key:
//
//   - doubled letters count once (Hussein, Husein);
//   - each run of vowels becomes "a", and a vowel followed by i or y (ai, ay,
//     ei, ey, oi) becomes "Y" (Sergei, Sergey, Sergej);
//   - equivalent consonant spellings share a class: c/k/q/ck, w/v, j/zh/dj,
//     sh/sch, ch/tsch, kh, ph/f, th/t, dh/d, ts/tz/z;
//   - h after a consonant and at the end of the token is dropped.
//
// So Mohammed, Muhammad, Mohamed and Mohammad are all "mahamad"; Yusuf,
// Youssef and Yousef are "yasaf"; Lavrov and Lawrow are "lavrav".
func Skeleton(tok string) string {
	s := tok
	for _, d := range latinDigraphs {
		if strings.Contains(s, d.from) {
			s = strings.ReplaceAll(s, d.from, d.to)
		}
	}
	var b []byte
	n := len(s)
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case c == 'y' && i == 0 && n > 1 && isLatinVowel(s[1]):
			c = 'y' // initial y before a vowel is a consonant
		case c == 'j' && i > 0 && isLatinVowel(s[i-1]) && (i == n-1 || !isLatinVowel(s[i+1])):
			c = 'i' // Sergej: j after a vowel and before a consonant is a vowel
		case c == 'c':
			if i+1 < n && (s[i+1] == 'e' || s[i+1] == 'i' || s[i+1] == 'y') {
				c = 's'
			} else {
				c = 'k'
			}
		case c == 'q':
			c = 'k'
		case c == 'w':
			c = 'v'
		case c == 'j':
			c = 'J'
		case c == 'x':
			// x is kh after rewriting above only when it came from "kh";
			// a written x stays x, which is close enough.
		}
		if isLatinVowel(c) && !(c == 'y' && i == 0 && n > 1 && isLatinVowel(s[1])) {
			// Vowel run: collapse, marking i/y diphthongs.
			j := i
			diph := false
			for j < n && (isLatinVowel(s[j]) || (s[j] == 'j' && j > 0 && isLatinVowel(s[j-1]) && (j == n-1 || !isLatinVowel(s[j+1])))) {
				if j > i && (s[j] == 'i' || s[j] == 'y' || s[j] == 'j') && s[j-1] != 'i' && s[j-1] != 'y' {
					diph = true
				}
				j++
			}
			v := byte('a')
			if diph {
				v = 'Y'
			}
			if len(b) == 0 || b[len(b)-1] != v {
				b = append(b, v)
			}
			i = j - 1
			continue
		}
		if c == 'h' && len(b) > 0 && strings.IndexByte("bpkgdtJ", b[len(b)-1]) >= 0 {
			continue // aspirated consonants: bh, jh, dh
		}
		if c == 'h' && i == n-1 && len(b) > 0 {
			continue // final h: Abdullah, Abdulla
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// consonantKey reduces a skeleton to its consonants, dropping vowel marks and
// medial v and y, which Arabic script writes as long vowels. It is the key
// on which Arabic-script and Latin spellings of a name meet.
func consonantKey(skel string) string {
	var b []byte
	for i := 0; i < len(skel); i++ {
		c := skel[i]
		if c == 'a' || c == 'Y' {
			continue
		}
		if (c == 'v' || c == 'y') && i > 0 {
			continue
		}
		switch c {
		case 'C':
			c = 'S' // ch and sh are confused in French-style Arabic romanisation
		case 'p':
			c = 'b' // Arabic writes p as b
		case 'z':
			c = 's' // and s between vowels as z
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	if len(b) > 1 && b[len(b)-1] == 'h' {
		b = b[:len(b)-1] // final h: Taha, Allah, ta marbuta
	}
	return string(b)
}
