package screen

import "strings"

// Word lists of names: titles, legal forms, function words, common words
// of organisation names, countries, particles, frequent given names and
// abbreviations.

// abbreviations are words of organisation names written short.
var abbreviations = map[string]string{
	"intl": "international", "natl": "national", "assn": "association",
	"assoc": "association", "dept": "department", "mgmt": "management", "grp": "group",
	"hldgs": "holdings", "hldg": "holding", "inv": "investment", "invest": "investment",
	"svcs": "services", "svc": "service", "bros": "brothers", "ind": "industries", "inds": "industries",
	"intern": "international", "manuf": "manufacturing", "engg": "engineering",
	"tech": "technology", "techs": "technologies", "univ": "university", "fdn": "foundation",
	"org": "organization", "cttee": "committee", "govt": "government",
}

// honorifics are titles and forms of address dropped from names.
var honorifics = set("mr mrs ms miss mister madam mme mlle dr doctor prof professor sir dame lord lady " +
	"sheikh shaikh shaykh sheik cheikh shaik haji hajji hajj alhaj alhajj hadji " +
	"mullah mulla molla maulana mawlana maulvi mawlawi mawlavi moulavi maulawi " +
	"qari imam ayatollah ayatullah hojatoleslam hujjat sayed sayyed sayyid seyed sayid syed " +
	"president prasident presidente premier minister general gen colonel col captain capt " +
	"major maj lieutenant lt commander cmdr brigadier marshal sergeant sgt admiral " +
	"hon honourable honorable rev reverend father fr emir his her excellency he " +
	"mv mt ms mty m/v")

// legalForms are organisation legal-form words and abbreviations.
var legalForms = set("ag aktiengesellschaft gmbh gesellschaft llc lc llp lp ltd limited inc incorporated " +
	"corp corporation co company cie cia sa sas sarl srl spa sca sl slu bv nv plc pte pty bhd sdn " +
	"kg kgaa ohg ev eg ab oy oyj as asa aps a/s kk kabushiki kaisha gk yk " +
	"jsc ojsc cjsc pjsc ao oao zao pao ooo tov pp " +
	"sro spol doo ad eood ood kft zrt nyrt sp zoo oo " +
	"fze fzco fzc fzllc wll sal saog saoc saa sac ltda eireli mei " +
	"cv rl de sab sapi ste societe establishment est trading_as")

// legalPhrases are multi-word legal forms, replaced by one legal token.
var legalPhrases = [][]string{
	{"open", "joint", "stock", "company"},
	{"closed", "joint", "stock", "company"},
	{"public", "joint", "stock", "company"},
	{"joint", "stock", "company"},
	{"limited", "liability", "company"},
	{"limited", "liability", "partnership"},
	{"public", "limited", "company"},
	{"limited", "partnership"},
	{"gesellschaft", "mit", "beschrankter", "haftung"},
	{"societatea", "cu", "raspundere", "limitata"},
	{"obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"},
	{"aktsionernoye", "obshchestvo"},
	{"otkrytoye", "aktsionernoye", "obshchestvo"},
	{"zakrytoye", "aktsionernoye", "obshchestvo"},
	{"publichnoye", "aktsionernoye", "obshchestvo"},
	{"sociedad", "anonima"},
	{"societe", "anonyme"},
	{"sp", "z", "oo"},
	{"s", "de", "rl"},
	{"s", "a"},
}

// stopwords are function words ignored in names of all languages.
var stopwords = set("the of and for in on at to by with a an und der die das des den dem " +
	"le la les du et da do dos das di del della van von vom zu ten ter")

// commonWords are frequent words of organisation names: they weigh little.
var commonWords = set("bank banque banco group groupe gruppe grupo holding holdings international intl " +
	"trading trade traders industries industry industrial global services service solutions " +
	"enterprise enterprises investment investments capital partners fund trust foundation " +
	"organization organisation association society national general shipping import export " +
	"petroleum oil gas energy commercial development management technology technologies systems " +
	"logistics consulting construction engineering finance financial insurance resources " +
	"marine maritime transport airlines airline aviation exchange agency center centre " +
	"institute committee council office ministry department army front party movement " +
	"brigade brigades battalion forces force network charity charitable relief " +
	"islamic islamiyya islami al-islamiyya mujahideen " +
	"mortgage loan loans securities credit ventures realty properties property media communications " +
	"pharmaceuticals pharmaceutical chemicals chemical petrochemical petrochemicals metals mining steel " +
	"motors automotive electric electrical electronics power water foods food agro agricultural " +
	"textile textiles manufacturing mfg products supplies supply equipment machinery tech telecom " +
	"software digital health healthcare medical research laboratories labs studios hotel hotels " +
	"travel tours airways lines navigation freight cargo express refinery refining drilling " +
	"exploration production oilfield constructors contractors contracting builders building cement " +
	"consultants advisory asset assets wealth equity brokerage leasing payments money remittance " +
	"welfare aid humanitarian series trading_co")

// countryWords are names and adjectives of countries and regions. In an
// organisation's name they tell subsidiaries apart (Santander, Santander
// Mexico): they weigh more than common words and one present on one side
// only is a difference.
var countryWords = set("afghanistan afghan albania algeria algerian america american angola arab arabia argentina " +
	"armenia asia asian australia austria azerbaijan bahrain bangladesh belarus belgium bolivia bosnia brazil " +
	"britain british bulgaria burma cambodia cameroon canada chad chile china chinese colombia congo croatia cuba " +
	"cyprus czech denmark deutschland ecuador egypt egyptian emirates eritrea estonia ethiopia europe european " +
	"finland france french gaza georgia german germany ghana greece guatemala guinea haiti honduras hungary " +
	"india indian indonesia iran iranian iraq iraqi ireland israel italia italy japan jordan kazakhstan kenya " +
	"korea kosovo kuwait kyrgyzstan laos latvia lebanon lebanese libya libyan lithuania malaysia mali mauritania " +
	"mexico mexican moldova mongolia morocco mozambique myanmar nepal netherlands nicaragua niger nigeria norway " +
	"oman pakistan pakistani palestine palestinian panama paraguay peru philippines poland portugal qatar romania " +
	"russia russian rwanda saudi senegal serbia singapore slovakia somalia spain sudan sweden switzerland syria " +
	"syrian taiwan tajikistan tanzania thailand tunisia turkey turkish turkmenistan uae uganda ukraine uk usa " +
	"uruguay uzbekistan venezuela vietnam yemen yemeni zambia zimbabwe")

// particles are naming particles that come and go between spellings.
var particles = set("al el ul ad ash as az at ar an ed es ez ud ur un " +
	"bin ibn ben bint binti bn ibnu ould walad bte")

// commonNames are given names so frequent that matching them alone means
// little.
var commonNames = skeletonSet("mohammed ahmed ali hassan hussein omar umar abdullah ibrahim " +
	"khalid mahmoud mustafa yusuf abu din abd ahmad hamid karim rahman jan khan gul shah " +
	"kim lee li park choi wang zhang chen liu yang " +
	"john james david michael maria jose juan ivan sergey alexander vladimir")

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

func skeletonSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[Skeleton(f)] = true
	}
	return m
}
