// Package screen matches names against designation lists across scripts and
// spellings, screens typed identifiers exactly, and compares what several
// authorities list. docs/screening.md describes it for users.
//
// A name goes through four stages. Normalisation lowercases it, strips
// diacritics (Unicode NFKD, except in scripts whose marks are letters or
// vowels), drops punctuation, the possessive 's and honorifics (mr, dr,
// sheikh, haji, mullah, …), spells out abbreviations (Int'l, Natl), reads
// look-alike digits (Ig0r, V1adimir), number words and Roman numerals, and
// classifies legal forms (LLC, GmbH, JSC, …), common words of organisation
// names and countries so that they can never carry a match alone.
// Transliteration turns every word not written in Latin letters into the
// Latin spellings several romanisation systems would give: Cyrillic
// (BGN/PCGN, ICAO 9303, ISO 9, German and French conventions), Greek (ELOT
// 743 and phonetic), Armenian (Eastern and Western), Georgian (national
// system), Han (pinyin with the readings of pinyin-data, and Wade–Giles),
// kana (Hepburn, and foreign names without their epenthetic vowels), Hangul
// (Revised Romanisation and McCune–Reischauer, with the usual family-name
// spellings), Thai (RTGS and letter for letter), Devanagari (Hunterian, with
// and without the inherent vowel); Arabic and Hebrew, which write no short
// vowels, are matched on consonant keys. Given names join groups of their
// forms across languages and their nicknames (names.go). Every token then
// gets a skeleton key that collapses vowel, doubled consonant and
// equivalent-consonant variation (Mohammed, Muhammad and Mohamed share one
// key; so do Lavrov and Lawrow).
//
// Scoring aligns the tokens of two names regardless of order, rates each
// pair as exact, variant, phonetic, initial or fuzzy (the edit distance with
// transpositions, with Jaro-Winkler as a capped hint), joins words written
// apart, penalises unmatched tokens, applies rules that depend on the
// entity type (organisations: common words weak but a difference when on
// one side only, numbers and series strict, a country or series marker
// added is another entity, a brand alone matches; persons: a shorter name
// inside a "FAMILY, Given" name must hold a family name and a given name),
// and adjusts the score with date of birth, nationality and entity type.
// Every Result explains which tokens matched which, how, and which
// evidence moved the score. Query.Threshold sets the match threshold.
//
// Index retrieves candidates from a list of designations through token,
// skeleton, consonant-key and trigram postings and ranks them with the same
// scoring; IdentifierIndex looks wallets, passports, national IDs, IBANs,
// BICs, IMO numbers and aircraft registrations up exactly after
// canonicalisation; CompareLists resolves entities across authorities to
// show where their lists agree and where they diverge.
package screen
