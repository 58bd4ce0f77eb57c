package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"detente"
)

const sha256Hex = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"

// validPatterns are accepted patterns: every construct of STIXPattern.g4,
// and the pattern examples of the STIX 2.1 specification, section 9.
var validPatterns = []struct{ name, p string }{
	// Specification examples (STIX 2.1, section 9.9 and the operator and
	// qualifier sections), written with the pattern's own escaping.
	{"spec: SHA-256", "[file:hashes.'SHA-256' = '" + sha256Hex + "']"},
	{"spec: email regex", `[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`},
	{"spec: SHA-256 and MIME type", "[file:hashes.'SHA-256' = '" + sha256Hex + "' AND file:mime_type = 'application/x-pdf']"},
	{"spec: two observations", "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = '" + sha256Hex + "']"},
	{"spec: FOLLOWEDBY WITHIN", `([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS`},
	{"spec: three user accounts", "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']"},
	{"spec: PCAP header", `[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`},
	{"spec: Windows path", `[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`},
	{"spec: PE section entropy", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]"},
	{"spec: magic number", "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']"},
	{"spec: network traffic to an IP", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']"},
	{"spec: beaconing", "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS"},
	{"spec: domain resolution", "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']"},
	{"spec: ISSUBSET", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"},
	{"spec: ISSUPERSET", "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']"},
	{"spec: URLs", "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']"},
	{"spec: X.509", "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']"},
	{"spec: registry keys", `[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`},
	{"spec: file properties", "[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']"},
	{"spec: sender and subject", "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']"},
	{"spec: custom USB device", "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']"},
	{"spec: processes, MATCHES without space", "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS"},
	{"spec: IPv6 subnet", "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']"},
	{"spec: malware artifacts", `([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:image_ref.name = 'fooproc' OR process:image_ref.name = 'procfoo']`},
	{"spec: START STOP", "[network-traffic:src_port = 37020] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'"},
	{"spec: IN", "[process:name IN ('proccy', 'proximus', 'badproc')]"},
	{"spec: LIKE", `[directory:path LIKE 'C:\\Windows\\%\\foo']`},
	{"spec: EXISTS", "[EXISTS windows-registry-key:values]"},

	// Comparison operators, with and without NOT.
	{"==", "[file:name == 'a']"},
	{"!=", "[file:name != 'a']"},
	{"<>", "[file:name <> 'a']"},
	{"<", "[file:size < 10]"},
	{"<=", "[file:size <= 10]"},
	{">", "[file:size > 10]"},
	{">=", "[file:size >= 10]"},
	{"NOT =", "[file:name NOT = 'a']"},
	{"NOT !=", "[file:name NOT != 'a']"},
	{"NOT <", "[file:size NOT < 10]"},
	{"NOT IN", "[file:size NOT IN (1, 2)]"},
	{"NOT LIKE", "[file:name NOT LIKE 'a%']"},
	{"NOT MATCHES", "[file:name NOT MATCHES '^a']"},
	{"NOT ISSUBSET", "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']"},
	{"NOT ISSUPERSET", "[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']"},
	{"NOT EXISTS", "[NOT EXISTS file:hashes.MD5]"},
	{"empty set", "[file:size IN ()]"},
	{"mixed set", "[x-foo:v IN ('a', 1, -2, 2.5, -.5, true, false, h'00', b'AAAA', t'2016-01-01T00:00:00Z')]"},
	{"set without spaces", "[file:size IN(1,2)]"},

	// Literals.
	{"true", "[x-foo:enabled = true]"},
	{"false", "[x-foo:enabled != false]"},
	{"int plus", "[file:size = +5]"},
	{"int zero", "[file:size = 0]"},
	{"int negative zero", "[x-foo:n = -0]"},
	{"int negative", "[x-foo:n < -12]"},
	{"int64 max", "[x-foo:n = 9223372036854775807]"},
	{"int64 min", "[x-foo:n = -9223372036854775808]"},
	{"float", "[x-foo:f = 1.0]"},
	{"float no integer part", "[x-foo:f = .5]"},
	{"float plus", "[x-foo:f = +.5]"},
	{"float negative", "[x-foo:f > -0.25]"},
	{"float leading zeros", "[x-foo:f = 00.5]"},
	{"hex", "[file:magic_number_hex = h'FFd8']"},
	{"hex empty", "[file:magic_number_hex = h'']"},
	{"binary four", "[artifact:payload_bin = b'AAAA']"},
	{"binary one pad", "[artifact:payload_bin = b'YWI=']"},
	{"binary two pads", "[artifact:payload_bin = b'YWJjZA==']"},
	{"binary plus slash", "[artifact:payload_bin = b'+/+/']"},
	{"timestamp no fraction", "[file:created = t'2016-01-01T00:00:00Z']"},
	{"timestamp fraction", "[file:created > t'2016-01-01T00:00:00.123456Z']"},
	{"timestamp leap day", "[file:created = t'2016-02-29T23:59:59Z']"},
	{"string escapes", `[file:name = 'it\'s a \\ backslash']`},
	{"string empty", "[file:name = '']"},
	{"string unicode", "[file:name = 'ünïcödé 日本 ']"},
	{"string with keywords and brackets", "[file:name = 'AND ] [ OR )']"},
	{"string with comment markers", "[file:name = '/* not a comment */ // nor this']"},

	// Object paths.
	{"quoted property", "[file:'name' = 'a']"},
	{"short property", "[file:id = 'file--2b6e1a6e-4f40-5b3a-8c2f-1c1f3f6a2b6e']"},
	{"upper-case property", "[x-foo:Serial = 'a']"},
	{"quoted key with escapes", `[x-foo:dict.'it\'s' = 1]`},
	{"quoted key with dot", "[x-foo:dict.'a.b' = 1]"},
	{"index", "[x-foo:list[0] = 1]"},
	{"index negative", "[x-foo:list[-1] = 1]"},
	{"index plus", "[x-foo:list[+1] = 1]"},
	{"index star then key", "[windows-registry-key:values[*].name = 'Run']"},
	{"index twice", "[x-foo:grid[0][1] = 1]"},
	{"spaces inside the path", "[file : hashes . MD5 = 'a' AND file:list [ 0 ] = 1]"},
	{"custom type", "[x-acme-2:field_1 = 'a']"},
	{"type with digits", "[x509-certificate:version = '3']"},
	{"keyword prefixes are identifiers", "[x-foo:ANDROID = 1 AND x-foo:INDEX = 1 AND x-foo:START_time = 1 AND x-foo:trueish = 1]"},
	{"lower-case keyword names", "[network-traffic:start = t'2016-01-01T00:00:00Z']"},

	// Comparison and observation expressions.
	{"OR across types", "[file:name = 'a' OR ipv4-addr:value = '198.51.100.1']"},
	{"AND of ORs sharing a type", "[(file:name = 'a' OR ipv4-addr:value = 'b') AND (file:size = 1 OR ipv4-addr:value = 'c')]"},
	{"AND binds tighter than OR", "[file:name = 'a' AND file:size = 1 OR ipv4-addr:value = 'b']"},
	{"nested comparison parentheses", "[((file:name = 'a'))]"},
	{"observation OR", "[file:name = 'a'] OR [file:name = 'b']"},
	{"observation precedence", "[file:name = 'a'] AND [file:name = 'b'] OR [file:name = 'c'] FOLLOWEDBY [file:name = 'd']"},
	{"observation parentheses", "(([file:name = 'a'] OR [file:name = 'b']) AND [file:name = 'c'])"},
	{"FOLLOWEDBY chain", "[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] FOLLOWEDBY [file:name = 'c']"},

	// Qualifiers.
	{"WITHIN float", "[file:name = 'a'] WITHIN 2.5 SECONDS"},
	{"WITHIN plus", "[file:name = 'a'] WITHIN +5 SECONDS"},
	{"REPEATS", "[file:name = 'a'] REPEATS 3 TIMES"},
	{"all three qualifiers", "[file:name = 'a'] REPEATS 2 TIMES WITHIN 10 SECONDS START t'2016-01-01T00:00:00Z' STOP t'2016-01-01T00:00:00.001Z'"},
	{"qualifier on each operand", "[file:name = 'a'] WITHIN 5 SECONDS AND [file:name = 'b'] WITHIN 6 SECONDS"},
	{"same qualifier at two levels", "([file:name = 'a'] WITHIN 5 SECONDS) WITHIN 10 SECONDS"},

	// Whitespace and comments.
	{"tabs and newlines", "\t[\n file:name\r\n=\v'a'\f]\n"},
	{"unicode spaces", "\u00a0[\u3000file:name\u2003=\u200a'a'\u2028]\u0085"},
	{"comments", "/* lead */ [file:name /* mid */ = 'a'] // trailing"},
	{"line comment then more", "[file:name = 'a'] // first\nOR [file:name = 'b']"},
	{"comment with star", "[file:name = 'a'] /** x * / y **/"},
	{"no spaces", "[file:name='a']AND[file:size>1]WITHIN 5 SECONDS"},

	// Bounds.
	{"depth at the limit (observations)", strings.Repeat("(", MaxPatternDepth-1) + "[file:name = 'a']" + strings.Repeat(")", MaxPatternDepth-1)},
	{"depth at the limit (comparisons)", "[" + strings.Repeat("(", MaxPatternDepth-1) + "file:name = 'a'" + strings.Repeat(")", MaxPatternDepth-1) + "]"},
	{"long OR chain", "[" + strings.Repeat("ipv4-addr:value = '198.51.100.1' OR ", 5000) + "ipv4-addr:value = '198.51.100.2']"},
	{"long observation chain", strings.Repeat("[file:name = 'a'] AND ", 2000) + "[file:name = 'b']"},
}

// invalidPatterns are rejected patterns, with the offset of the error and
// words of its message.
var invalidPatterns = []struct {
	name, p string
	off     int
	msg     string
}{
	{"brackets only", "[[[", 1, "expected an object path, '(' or EXISTS, found '['"},
	{"empty", "", 0, "empty pattern"},
	{"blank", "  /* nothing */ ", 16, "empty pattern"},
	{"no brackets", "file:name = 'a'", 0, "expected an observation expression"},
	{"unclosed bracket", "[file:name = 'a'", 16, "expected AND, OR or ']', found end of pattern"},
	{"extra bracket", "[file:name = 'a']]", 17, "found ']'"},
	{"unclosed parenthesis", "([file:name = 'a']", 18, "or ')', found end of pattern"},
	{"extra parenthesis", "[file:name = 'a'])", 17, "found ')'"},
	{"unclosed comparison parenthesis", "[(file:name = 'a']", 17, "expected AND, OR or ')', found ']'"},
	{"missing comparison operator", "[file:name 'a']", 11, "expected a comparison operator"},
	{"missing observation operator", "[file:name = 'a'] [file:name = 'b']", 18, "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"},
	{"lone AND", "AND", 0, "expected an observation expression"},
	{"dangling AND", "[file:name = 'a'] AND", 21, "expected an observation expression ('[' or '('), found end of pattern"},
	{"dangling FOLLOWEDBY", "[file:name = 'a'] FOLLOWEDBY ", 29, "found end of pattern"},
	{"AND in brackets", "[AND]", 1, "expected an object path"},
	{"dangling comparison AND", "[file:name = 'a' AND]", 20, "expected an object path"},
	{"comparison without value", "[file:name =]", 12, "expected a value"},
	{"comparison without value, space", "[file:name = ]", 13, "expected a value"},
	{"qualifier inside brackets", "[file:name = 'a' WITHIN 5 SECONDS]", 17, "expected AND, OR or ']', found 'WITHIN'"},
	{"bad month", "[file:created = t'2016-13-01T00:00:00Z']", 16, "invalid timestamp t'2016-13-01T00:00:00Z'"},
	{"February 30th", "[file:created = t'2016-02-30T00:00:00Z']", 16, "invalid timestamp"},
	{"timestamp without Z", "[file:created = t'2016-01-01T00:00:00']", 16, "invalid timestamp"},
	{"timestamp with offset", "[file:created = t'2016-01-01T00:00:00+01:00']", 16, "invalid timestamp"},
	{"timestamp lower-case t", "[file:created = t'2016-01-01t00:00:00Z']", 16, "invalid timestamp"},
	{"timestamp empty fraction", "[file:created = t'2016-01-01T00:00:00.Z']", 16, "invalid timestamp"},
	{"leap second", "[file:created = t'2016-12-31T23:59:60Z']", 16, "invalid timestamp"},
	{"unterminated timestamp", "[file:created = t'2016-01-01T00:00:00Z]", 16, "unterminated literal t'…'"},
	{"START after STOP", "[file:name = 'a'] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", 53, "STOP t'2016-06-01T00:00:00Z' is not after START t'2016-07-01T00:00:00Z'"},
	{"START equal to STOP", "[file:name = 'a'] START t'2016-07-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", 53, "is not after START"},
	{"START with a string", "[file:name = 'a'] START '2016-07-01T00:00:00Z' STOP '2016-08-01T00:00:00Z'", 24, "expected a timestamp t'…' after START"},
	{"START without STOP", "[file:name = 'a'] START t'2016-07-01T00:00:00Z'", 47, "expected STOP"},
	{"REPEATS 0", "[file:name = 'a'] REPEATS 0 TIMES", 26, "REPEATS takes an integer greater than zero, found '0'"},
	{"REPEATS negative", "[file:name = 'a'] REPEATS -1 TIMES", 26, "greater than zero"},
	{"REPEATS float", "[file:name = 'a'] REPEATS 1.5 TIMES", 26, "greater than zero"},
	{"REPEATS without TIMES", "[file:name = 'a'] REPEATS 2", 27, "expected TIMES"},
	{"WITHIN 0", "[file:name = 'a'] WITHIN 0 SECONDS", 25, "WITHIN takes a number of seconds greater than zero"},
	{"WITHIN 0.0", "[file:name = 'a'] WITHIN 0.0 SECONDS", 25, "greater than zero"},
	{"WITHIN negative", "[file:name = 'a'] WITHIN -5 SECONDS", 25, "greater than zero"},
	{"WITHIN without SECONDS", "[file:name = 'a'] WITHIN 5", 26, "expected SECONDS"},
	{"WITHIN minutes", "[file:name = 'a'] WITHIN 5 MINUTES", 27, "expected SECONDS, found 'MINUTES'"},
	{"two WITHIN", "[file:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS", 35, "only one WITHIN qualifier"},
	{"two REPEATS", "[file:name = 'a'] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES", 51, "only one REPEATS qualifier"},
	{"LAST is reserved", "[file:name = 'a'] LAST 5 SECONDS", 18, "found 'LAST'"},
	{"unterminated string", "[file:name = 'abc]", 13, "unterminated string"},
	{"string ending in a backslash", `[file:name = 'abc\`, 13, "unterminated string"},
	{"bad escape", `[file:name = 'a\x']`, 15, `invalid escape: backslash before 'x'`},
	{"unescaped Windows path", `[file:parent_directory_ref.path = 'C:\Windows']`, 37, "invalid escape"},
	{"double-quoted string", `[file:name = "a"]`, 13, `unexpected character '"'`},
	{"odd hex", "[file:magic_number_hex = h'fff']", 25, "odd number of digits"},
	{"bad hex digit", "[file:magic_number_hex = h'fz']", 28, "invalid hex digit 'z'"},
	{"binary not a multiple of 4", "[artifact:payload_bin = b'abc']", 24, "binary literal is not base64"},
	{"binary bad character", "[artifact:payload_bin = b'ab$d']", 28, `invalid character '$'`},
	{"binary empty", "[artifact:payload_bin = b'']", 24, "non-empty"},
	{"binary padding in the middle", "[artifact:payload_bin = b'a=bc']", 27, "invalid character '='"},
	{"binary three pads", "[artifact:payload_bin = b'a===']", 27, "invalid character '='"},
	{"trailing garbage", "[file:name = 'a'] garbage", 18, "found 'garbage'"},
	{"trailing comma", "[file:name = 'a'],", 17, "found ','"},
	{"too deep (observations)", strings.Repeat("(", MaxPatternDepth) + "[file:name = 'a']" + strings.Repeat(")", MaxPatternDepth), MaxPatternDepth, "nested deeper than 64 levels"},
	{"too deep (comparisons)", "[" + strings.Repeat("(", MaxPatternDepth) + "file:name = 'a'" + strings.Repeat(")", MaxPatternDepth) + "]", MaxPatternDepth, "nested deeper than 64 levels"},
	{"hostile depth", strings.Repeat("(", 1_000_000), MaxPatternDepth, "nested deeper than 64 levels"},
	{"too long", "[file:name = '" + strings.Repeat("a", MaxPatternLength) + "']", MaxPatternLength, "pattern longer than 1048576 bytes"},
	{"upper-case type", "[File:name = 'a']", 1, "'File' is not a valid STIX object type"},
	{"short type", "[a:b = 'c']", 1, "'a' is not a valid STIX object type"},
	{"type with --", "[x--y:name = 'a']", 1, "not a valid STIX object type"},
	{"type with _", "[x_foo:name = 'a']", 1, "not a valid STIX object type"},
	{"type starting with a digit", "[x-foo:a = 1 AND 3com:name = 'a']", 17, "expected an object path, '(' or EXISTS, found '3'"},
	{"property with hyphen", "[file:file-name = 'a']", 6, "invalid property name 'file-name'"},
	{"quoted property with space", "[file:'na me' = 'a']", 6, "invalid property name 'na me'"},
	{"quoted property empty", "[file:'' = 'a']", 6, "invalid property name"},
	{"property too long", "[x-foo:" + strings.Repeat("p", 251) + " = 1]", 7, "property name longer than 250"},
	{"keyword as property", "[file:AND = 'a']", 6, "expected a property name after ':', found 'AND'"},
	{"boolean as property", "[file:true = 'a']", 6, "expected a property name"},
	{"unquoted key with hyphen", "[file:hashes.SHA-256 = 'a']", 13, "a key containing '-' must be quoted: 'SHA-256'"},
	{"empty key", "[file:hashes.'' = 'a']", 13, "a quoted key must have 1-250 characters"},
	{"numeric key", "[file:hashes.5 = 'a']", 12, "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET or ISSUPERSET), found '.5'"},
	{"dot then number", "[file:hashes. 5 = 'a']", 14, "expected a property name or quoted key after '.', found '5'"},
	{"bad escape in an unterminated string", `[file:name = 'a\x`, 13, "unterminated string"},
	{"missing colon", "[file.name = 'a']", 5, "expected ':' after the object type 'file'"},
	{"missing property", "[file: = 'a']", 7, "expected a property name after ':'"},
	{"index not a number", "[x-foo:list[a] = 1]", 12, "expected a list index"},
	{"index float", "[x-foo:list[1.5] = 1]", 12, "expected a list index"},
	{"index unclosed", "[x-foo:list[1 = 1]", 14, "expected ']' after the list index"},
	{"MATCHES a number", "[file:name MATCHES 5]", 19, "MATCHES takes a string"},
	{"LIKE a hex", "[file:name LIKE h'00']", 16, "LIKE takes a string"},
	{"ISSUBSET a number", "[ipv4-addr:value ISSUBSET 5]", 26, "ISSUBSET takes a string"},
	{"ISSUPERSET a set", "[ipv4-addr:value ISSUPERSET ('a')]", 28, "ISSUPERSET takes a string"},
	{"IN without a set", "[file:name IN 'a']", 14, "expected a set of values in parentheses"},
	{"set without comma", "[file:size IN (1 2)]", 17, "expected ',' or ')' in the set"},
	{"set trailing comma", "[file:size IN (1, )]", 18, "expected a value"},
	{"nested set", "[file:size IN ((1))]", 15, "expected a value"},
	{"ordering a boolean", "[x-foo:flag > true]", 14, "a boolean cannot be ordered"},
	{"int64 overflow", "[file:size = 9223372036854775808]", 13, "out of the range of a 64-bit integer"},
	{"float overflow", "[x-foo:f = 1" + strings.Repeat("0", 400) + ".0]", 11, "out of the range of a 64-bit float"},
	{"leading zero", "[file:size = 007]", 13, "integer 007 has a leading zero"},
	{"exponent", "[x-foo:f = 1e5]", 12, "expected AND, OR or ']', found 'e5'"},
	{"lone minus", "[x-foo:f = - 5]", 11, "expected a value"},
	{"AND across types", "[file:name = 'a' AND ipv4-addr:value = '198.51.100.1']", 17, "AND joins comparisons of different object types (file and ipv4-addr)"},
	{"AND across a parenthesised OR", "[file:name = 'a' AND (ipv4-addr:value = 'b' OR domain-name:value = 'c')]", 17, "(file and ipv4-addr or domain-name)"},
	{"leading NOT", "[NOT file:name = 'a']", 5, "expected EXISTS after a leading NOT"},
	{"NOT NOT", "[file:name NOT NOT = 'a']", 15, "expected a comparison operator"},
	{"EXISTS without a path", "[EXISTS]", 7, "expected an object path"},
	{"ampersand", "[file:name = 'a'] & [file:name = 'b']", 18, "unexpected character '&'"},
	{"lone bang", "[file:name ! 'a']", 11, "unexpected character '!'"},
	{"control character", "[file:name = 'a']\x00", 17, `unexpected character '\x00'`},
	{"non-space unicode", "[file:name = 'a'] \u2603", 18, "unexpected character '☃'"},
	{"invalid UTF-8", "[file:name = '\xff']", 14, "invalid UTF-8"},
	{"unterminated comment", "[file:name = 'a'] /* note", 18, "unterminated comment"},
	{"slash", "[file:name = 'a'] / [file:name = 'b']", 18, "found '/'"},
}

func TestValidatePatternValid(t *testing.T) {
	for _, tt := range validPatterns {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidatePattern(tt.p); err != nil {
				t.Errorf("rejected %q: %v", shorten(tt.p), err)
			}
		})
	}
}

func TestValidatePatternInvalid(t *testing.T) {
	if len(invalidPatterns) < 30 {
		t.Fatalf("only %d invalid cases", len(invalidPatterns))
	}
	for _, tt := range invalidPatterns {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePattern(tt.p)
			if err == nil {
				t.Fatalf("accepted %q", shorten(tt.p))
			}
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T %v, want *PatternError", err, err)
			}
			if detente.ErrorCode(err) != detente.EINVALID {
				t.Errorf("code %q, want %q", detente.ErrorCode(err), detente.EINVALID)
			}
			if pe.Offset != tt.off {
				t.Errorf("offset %d, want %d: %v", pe.Offset, tt.off, err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("pattern: offset %d: ", tt.off)) {
				t.Errorf("error %q does not start with the offset %d", err, tt.off)
			}
			if !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", pe.Message, tt.msg)
			}
		})
	}
}

// TestValidatePatternOASIS validates every STIX pattern of the OASIS
// examples.
func TestValidatePatternOASIS(t *testing.T) {
	dir := stix2Dir(t)
	n := 0
	for _, sub := range []string{"examples", "interop"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			rel, _ := filepath.Rel(dir, path)
			for _, p := range stixPatterns(v, nil) {
				n++
				if err := ValidatePattern(p); err != nil {
					t.Errorf("%s: %q: %v", rel, p, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no STIX patterns found in the OASIS examples")
	}
	t.Logf("%d OASIS patterns", n)
}

// stixPatterns appends the patterns of the indicators with pattern_type
// stix found anywhere in v.
func stixPatterns(v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		if p, ok := v["pattern"].(string); ok && v["type"] == "indicator" && v["pattern_type"] == "stix" {
			out = append(out, p)
		}
		for _, e := range v {
			out = stixPatterns(e, out)
		}
	case []any:
		for _, e := range v {
			out = stixPatterns(e, out)
		}
	}
	return out
}

// TestIndicatorPattern checks that ingest validates STIX patterns and only
// STIX patterns.
func TestIndicatorPattern(t *testing.T) {
	const ind = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	with := func(typ, pattern string) []byte {
		return []byte(mod(sampleIndicator, func(m map[string]any) { m["pattern_type"], m["pattern"] = typ, pattern }))
	}
	_, err := ParseObject(with("stix", "[[["))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %T %v, want *ValidationError", err, err)
	}
	if ve.ObjectID != ind || ve.Property != "pattern" {
		t.Errorf("error on %s %s, want %s pattern", ve.ObjectID, ve.Property, ind)
	}
	if want := ind + ": pattern: offset 1: expected an object path, '(' or EXISTS, found '['"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("code %q", detente.ErrorCode(err))
	}
	for _, typ := range []string{"yara", "snort", "sigma", "suricata", "pcre", "x-custom"} {
		if _, err := ParseObject(with(typ, "[[[")); err != nil {
			t.Errorf("pattern_type %s: %v", typ, err)
		}
	}
	if _, err := ParseObject(with("stix", "[ipv4-addr:value = '198.51.100.1'] WITHIN 5 SECONDS")); err != nil {
		t.Error(err)
	}
}

func FuzzValidatePattern(f *testing.F) {
	for _, tt := range validPatterns {
		if len(tt.p) < 4096 {
			f.Add(tt.p)
		}
	}
	for _, tt := range invalidPatterns {
		if len(tt.p) < 4096 {
			f.Add(tt.p)
		}
	}
	const prefix, suffix = " \t\n", "\n "
	f.Fuzz(func(t *testing.T, p string) {
		err := checkPattern(p)
		padded := prefix + p + suffix
		if len(padded) > MaxPatternLength {
			return
		}
		perr := checkPattern(padded)
		if err == nil {
			// Surrounding whitespace changes nothing, and an accepted
			// pattern is an observation expression that can be
			// parenthesised, unless that nests it too deep.
			if perr != nil {
				t.Fatalf("%q accepted, with whitespace rejected: %v", p, perr)
			}
			if werr := checkPattern("(" + p + "\n)"); werr != nil && !strings.Contains(werr.Message, "nested deeper") {
				t.Fatalf("%q accepted, in parentheses rejected: %v", p, werr)
			}
			return
		}
		if err.Offset < 0 || err.Offset > len(p) || err.Message == "" {
			t.Fatalf("%q: error out of range: %v", p, err)
		}
		// The same error, moved by the prefix; one at the end of the
		// pattern stays at the end.
		want := err.Offset + len(prefix)
		if err.Offset == len(p) {
			want = len(padded)
		}
		if perr == nil || perr.Offset != want || perr.Message != err.Message {
			t.Fatalf("%q: %v; with whitespace %v, want offset %d", p, err, perr, want)
		}
	})
}

func BenchmarkValidatePattern(b *testing.B) {
	for _, bm := range []struct{ name, p string }{
		{"hash", "[file:hashes.'SHA-256' = '" + sha256Hex + "']"},
		{"compound", "[file:hashes.'SHA-256' = '" + sha256Hex + "' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] FOLLOWEDBY [network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7'] WITHIN 300 SECONDS"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.p)))
			for b.Loop() {
				if err := ValidatePattern(bm.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// shorten keeps long test patterns out of failure messages.
func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
