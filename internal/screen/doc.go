// Package screen matches names against designation lists across scripts and
// spellings, and compares what several authorities list.
//
// A name goes through four stages. Normalisation lowercases it, strips
// diacritics (Unicode NFKD), drops punctuation and honorifics (mr, dr,
// sheikh, haji, mullah, …), and classifies legal forms (LLC, GmbH, JSC, …)
// and common words so that they can never carry a match alone.
// Transliteration turns Cyrillic, Greek, Armenian and Arabic-script tokens
// into the Latin spellings several romanisation systems would give (BGN/PCGN,
// ICAO 9303, ISO 9, German and French conventions for Cyrillic), and
// canonicalises Arabic naming particles (al-, bin, abd al-, -uddin).
// Every token then gets a skeleton key that collapses vowel, doubled
// consonant and equivalent-consonant variation (Mohammed, Muhammad and
// Mohamed share one key; so do Lavrov and Lawrow).
//
// Scoring aligns the tokens of two names regardless of order, rates each
// pair as exact, variant, phonetic, initial or fuzzy (Jaro-Winkler blended
// with edit distance), penalises unmatched tokens, and adjusts the score
// with date of birth, nationality and entity type. Every Result explains
// which tokens matched which, how, and which evidence moved the score.
//
// Index retrieves candidates from a list of designations through token,
// skeleton and trigram postings and ranks them with the same scoring, and
// CompareLists resolves entities across authorities to show where their
// lists agree and where they diverge.
package screen
