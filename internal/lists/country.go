package lists

import (
	"strings"
	"unicode"
)

// countryNames maps lowercase country names and demonyms, as the lists write
// them, to ISO 3166-1 alpha-2 codes.
var countryNames = map[string]string{}

func init() {
	for _, line := range strings.Split(countryTable, "\n") {
		code, names, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		code = strings.TrimSpace(code)
		countryNames[strings.ToLower(code)] = code
		for _, n := range strings.Split(names, ",") {
			if n = strings.TrimSpace(n); n != "" {
				countryNames[strings.ToLower(n)] = code
			}
		}
	}
}

// CountryCode returns the ISO 3166-1 alpha-2 code of a country name, demonym
// or code as designation lists write them ("Iraq", "Iraqi", "Democratic
// Republic of the Congo", "US"), or "" when it is not known.
func CountryCode(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.Trim(s, " .;,")))
	if c, ok := countryNames[s]; ok {
		return c
	}
	s = strings.TrimPrefix(s, "the ")
	if i := strings.IndexAny(s, "(;,"); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	return countryNames[s]
}

// ScriptOf returns the ISO 15924 code of the script of the first letter of
// s: "Latn", "Arab", "Cyrl", "Grek", "Hans", "Hang", or "" when s has no
// letter or its script is not one of these.
func ScriptOf(s string) string {
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r):
			continue
		case unicode.Is(unicode.Latin, r):
			return "Latn"
		case unicode.Is(unicode.Arabic, r):
			return "Arab"
		case unicode.Is(unicode.Cyrillic, r):
			return "Cyrl"
		case unicode.Is(unicode.Greek, r):
			return "Grek"
		case unicode.Is(unicode.Han, r):
			return "Hans"
		case unicode.Is(unicode.Hangul, r):
			return "Hang"
		default:
			return ""
		}
	}
	return ""
}

const countryTable = `
AF: Afghanistan, Afghan
AL: Albania, Albanian
DZ: Algeria, Algerian
AO: Angola, Angolan
AR: Argentina, Argentine, Argentinian
AM: Armenia, Armenian
AU: Australia, Australian
AT: Austria, Austrian
AZ: Azerbaijan, Azerbaijani
BH: Bahrain, Bahraini
BD: Bangladesh, Bangladeshi
BY: Belarus, Belarusian
BE: Belgium, Belgian
BJ: Benin
BA: Bosnia and Herzegovina, Bosnian
BR: Brazil, Brazilian
BG: Bulgaria, Bulgarian
BF: Burkina Faso
BI: Burundi, Burundian
KH: Cambodia, Cambodian
CM: Cameroon, Cameroonian
CA: Canada, Canadian
CF: Central African Republic, Central African
TD: Chad, Chadian
CL: Chile, Chilean
CN: China, Chinese, People's Republic of China
CO: Colombia, Colombian
KM: Comoros
CD: Democratic Republic of the Congo, Congo (Democratic Republic), DRC, Congolese
CG: Congo, Republic of the Congo
HR: Croatia, Croatian
CU: Cuba, Cuban
CY: Cyprus, Cypriot
CZ: Czech Republic, Czechia, Czech
DK: Denmark, Danish
DJ: Djibouti
EG: Egypt, Egyptian
ER: Eritrea, Eritrean
EE: Estonia, Estonian
ET: Ethiopia, Ethiopian
FI: Finland, Finnish
FR: France, French
GA: Gabon
GM: Gambia, The Gambia
GE: Georgia, Georgian
DE: Germany, German
GH: Ghana, Ghanaian
GR: Greece, Greek
GN: Guinea, Guinean
GW: Guinea-Bissau
HT: Haiti, Haitian
HU: Hungary, Hungarian
IN: India, Indian
ID: Indonesia, Indonesian
IR: Iran, Iran (Islamic Republic of), Islamic Republic of Iran, Iranian
IQ: Iraq, Iraqi
IE: Ireland, Irish
IL: Israel, Israeli
IT: Italy, Italian
CI: Côte d'Ivoire, Cote d'Ivoire, Ivory Coast, Ivorian
JP: Japan, Japanese
JO: Jordan, Jordanian
KZ: Kazakhstan, Kazakh
KE: Kenya, Kenyan
KP: Democratic People's Republic of Korea, North Korea, Korea, North, DPRK
KR: Republic of Korea, South Korea, Korea, South
XK: Kosovo
KW: Kuwait, Kuwaiti
KG: Kyrgyzstan, Kyrgyz
LA: Laos, Lao People's Democratic Republic
LV: Latvia, Latvian
LB: Lebanon, Lebanese
LR: Liberia, Liberian
LY: Libya, Libyan, Libyan Arab Jamahiriya
LT: Lithuania, Lithuanian
MK: North Macedonia, Macedonia
MG: Madagascar
MW: Malawi
MY: Malaysia, Malaysian
MV: Maldives, Maldivian
ML: Mali, Malian
MT: Malta, Maltese
MR: Mauritania, Mauritanian
MX: Mexico, Mexican
MD: Moldova, Republic of Moldova, Moldovan
MN: Mongolia, Mongolian
ME: Montenegro
MA: Morocco, Moroccan
MZ: Mozambique
MM: Myanmar, Burma, Burmese
NA: Namibia
NP: Nepal, Nepalese
NL: Netherlands, The Netherlands, Dutch
NZ: New Zealand
NI: Nicaragua, Nicaraguan
NE: Niger, Nigerien
NG: Nigeria, Nigerian
NO: Norway, Norwegian
OM: Oman, Omani
PK: Pakistan, Pakistani
PS: Palestine, State of Palestine, Palestinian, Occupied Palestinian Territory, West Bank, Gaza
PA: Panama, Panamanian
PE: Peru, Peruvian
PH: Philippines, Filipino, Philippine
PL: Poland, Polish
PT: Portugal, Portuguese
QA: Qatar, Qatari
RO: Romania, Romanian
RU: Russia, Russian Federation, Russian
RW: Rwanda, Rwandan
SA: Saudi Arabia, Saudi, Saudi Arabian
SN: Senegal, Senegalese
RS: Serbia, Serbian
SL: Sierra Leone
SG: Singapore, Singaporean
SK: Slovakia, Slovak
SI: Slovenia, Slovenian
SO: Somalia, Somali
ZA: South Africa, South African
SS: South Sudan, South Sudanese
ES: Spain, Spanish
LK: Sri Lanka, Sri Lankan
SD: Sudan, Sudanese
SE: Sweden, Swedish
CH: Switzerland, Swiss
SY: Syria, Syrian Arab Republic, Syrian
TW: Taiwan
TJ: Tajikistan, Tajik
TZ: Tanzania, United Republic of Tanzania, Tanzanian
TH: Thailand, Thai
TG: Togo
TN: Tunisia, Tunisian
HK: Hong Kong, Hong Kong SAR, Hong Kong, China
TT: Trinidad and Tobago, Trinidadian
TR: Turkey, Türkiye, Turkiye, Turkish
TM: Turkmenistan, Turkmen
UG: Uganda, Ugandan
UA: Ukraine, Ukrainian
AE: United Arab Emirates, UAE, Emirati
GB: United Kingdom, United Kingdom of Great Britain and Northern Ireland, UK, British, Great Britain
US: United States, United States of America, USA, American, U.S.
UY: Uruguay
UZ: Uzbekistan, Uzbek
VE: Venezuela, Venezuelan
VN: Viet Nam, Vietnam, Vietnamese
YE: Yemen, Yemeni
ZM: Zambia
ZW: Zimbabwe, Zimbabwean
`
