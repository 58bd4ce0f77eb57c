package screen

import "slices"

// Given names that skeletons and transliteration do not unite: the forms one
// name takes in several languages, and short forms (nicknames). A token
// belongs to every group that lists one of its spellings; two tokens of a
// common group match as variants.
//
// The tables are written for detente from common knowledge of naming
// (no public nickname list could be brought into this environment; the
// carltonnorthern/nicknames table, Apache-2.0, would be the one to generate
// from if it could). They hold common English, Russian, Arabic, Hebrew,
// Greek and Spanish forms only, and no name that is only one person's
// nickname.

// nameForms are the forms of one given name across languages, the English
// (or most international) form first.
var nameForms = [][]string{
	{"john", "juan", "johann", "johannes", "jean", "ivan", "giovanni", "joao", "jon", "sean", "ian", "ioannis", "giannis", "yannis", "ioannes", "yahya", "jan", "hans"},
	{"joseph", "yusuf", "youssef", "yousef", "yosef", "josef", "jusuf", "yousif", "yusif", "yousuf", "giuseppe", "jose", "iosif", "osip", "yossi"},
	{"mohammed", "mehmet", "mehmed", "mamadou", "mohd", "muhd", "mhd"},
	{"jamal", "gamal", "djamal"},
	{"theodore", "fyodor", "fedor", "theodor", "theodoros", "teodoro", "feodor"},
	{"benjamin", "binyamin", "veniamin", "beniamino"},
	{"william", "wilhelm", "guillaume", "guillermo", "willem", "guglielmo"},
	{"james", "diego", "jaime", "jacques", "giacomo", "iakovos", "santiago"},
	{"jacob", "yaqub", "yakub", "yakov", "yaakov", "jakob", "jakub", "jacques", "iakovos", "giacobbe"},
	{"michael", "mikhail", "michel", "miguel", "mikael", "michail", "michalis", "michele", "mykhailo", "mikhael"},
	{"alexander", "alexandre", "aleksandr", "alexandr", "oleksandr", "iskander", "iskandar", "alexandros", "alessandro", "alejandro", "aleksander", "aliaksandr"},
	{"peter", "pyotr", "pierre", "pedro", "pietro", "petr", "petro", "petros", "piotr", "petar"},
	{"paul", "pavel", "pablo", "paolo", "pavlos", "pawel", "paulo", "pavlo"},
	{"george", "georgy", "georgiy", "jorge", "giorgio", "georges", "georgios", "giorgos", "yiorgos", "jerzy", "jurgen", "georg", "heorhiy"},
	{"nicholas", "nikolai", "nikolay", "nicolas", "nicola", "mykola", "nikolaos", "nicolo", "mikolaj", "niklas"},
	{"vladimir", "volodymyr", "wladimir", "uladzimir", "wlodzimierz"},
	{"constantine", "konstantinos", "konstantin", "constantin", "costantino", "kostiantyn"},
	{"demetrius", "dimitrios", "dimitris", "dmitry", "dmitri", "dimitri", "dimitar", "dmytro", "demetrio"},
	{"andrew", "andreas", "andrei", "andrey", "andres", "andre", "andrea", "andrzej", "andriy"},
	{"basil", "vasileios", "vasilis", "vasily", "vasiliy", "vassily", "wassili", "vasyl", "basilio"},
	{"stephen", "steven", "stefanos", "stephan", "stefan", "esteban", "stepan", "etienne", "stefano", "stephanos"},
	{"philip", "filippos", "philippe", "felipe", "filipp", "filippo", "filip"},
	{"gregory", "grigorios", "grigory", "grigoriy", "gregor", "gregorio", "gregoire", "hryhoriy"},
	{"emmanuel", "emmanouil", "manuel", "emanuele", "immanuel"},
	{"elias", "ilias", "ilya", "elijah", "elie", "ilyas", "eliyahu"},
	{"thomas", "tomas", "foma", "tommaso", "tomasz"},
	{"mark", "markos", "marco", "marcus", "marc", "marek"},
	{"matthew", "matthaios", "matvey", "mateo", "matteo", "mathieu", "matthias", "mateusz"},
	{"anthony", "antonios", "antonis", "antonio", "anton", "antoine", "antoni"},
	{"christopher", "christoforos", "cristobal", "christophe", "cristoforo", "krzysztof"},
	{"helen", "eleni", "elena", "helena", "yelena", "helene", "olena"},
	{"catherine", "aikaterini", "katerina", "ekaterina", "yekaterina", "katharina", "catalina", "caterina", "katarzyna"},
	{"irene", "eirini", "irini", "irina", "iryna"},
	{"zoe", "zoi"},
	{"sophia", "sofia", "sophie", "sofiya"},
	{"athanasios", "afanasy", "atanas"},
	{"dionysios", "denis", "dennis", "dionisio"},
	{"abraham", "ibrahim", "avraham", "abram"},
	{"ismail", "ishmael", "ismael"},
	{"moses", "musa", "moshe", "moise", "moises", "mose"},
	{"david", "daoud", "dawood", "dawud", "davit", "dovid", "davide"},
	{"solomon", "suleiman", "sulayman", "shlomo", "salomon", "suleyman"},
	{"mary", "maryam", "mariam", "maria", "miriam", "marie", "mariya"},
	{"aaron", "harun", "haroun", "aharon"},
	{"jonah", "yunus", "yonah", "jonas"},
	{"noah", "nuh", "noach"},
	{"zachary", "zakariya", "zakaria", "zechariah", "zacharias", "zakhar"},
	{"samuel", "shmuel", "samuil"},
	{"daniel", "danil", "daniil", "daniele"},
	{"gabriel", "jibril", "gavriel", "gavriil"},
	{"eugene", "yevgeny", "evgeny", "yevhen", "eugenio", "eugen"},
	{"leo", "lev", "leon", "leone"},
	{"francis", "francisco", "francesco", "francois", "franz", "franciszek"},
	{"charles", "carlos", "carlo", "karl", "karol", "carl"},
	{"henry", "enrique", "henri", "heinrich", "enrico", "henryk"},
	{"louis", "luis", "ludwig", "luigi", "ludovic"},
	{"edward", "eduardo", "edouard", "eduard", "edoardo"},
	{"richard", "ricardo", "riccardo"},
	{"robert", "roberto"},
	{"joan", "juana", "jeanne", "giovanna", "johanna"},
}

// nicknames are short forms of given names, the full name first.
var nicknames = [][]string{
	// English.
	{"william", "bill", "billy", "will", "willy", "liam"},
	{"robert", "bob", "bobby", "rob", "robbie", "bert"},
	{"richard", "dick", "rick", "ricky", "rich"},
	{"james", "jim", "jimmy", "jamie"},
	{"john", "jack", "johnny"},
	{"joseph", "joe", "joey"},
	{"thomas", "tom", "tommy"},
	{"charles", "charlie", "chuck"},
	{"edward", "ed", "eddie", "ted", "ned"},
	{"theodore", "ted", "teddy", "theo"},
	{"michael", "mike", "mikey", "mick"},
	{"christopher", "chris", "kit"},
	{"nicholas", "nick", "nicky"},
	{"anthony", "tony"},
	{"daniel", "dan", "danny"},
	{"david", "dave", "davy"},
	{"benjamin", "ben", "benny", "benji"},
	{"samuel", "sam", "sammy"},
	{"matthew", "matt"},
	{"andrew", "andy", "drew"},
	{"alexander", "alex", "alec", "sandy", "sasha", "sanya", "shura"},
	{"jonathan", "jon", "jonny"},
	{"timothy", "tim", "timmy"},
	{"patrick", "pat", "paddy"},
	{"peter", "pete"},
	{"stephen", "steve", "stevie"},
	{"henry", "harry", "hank"},
	{"lawrence", "larry"},
	{"gerald", "gerry", "jerry"},
	{"jeffrey", "jeff"},
	{"gregory", "greg"},
	{"kenneth", "ken", "kenny"},
	{"ronald", "ron", "ronnie"},
	{"donald", "don", "donnie"},
	{"douglas", "doug"},
	{"raymond", "ray"},
	{"frederick", "fred", "freddie"},
	{"albert", "al", "bert"},
	{"leonard", "len", "lenny"},
	{"francis", "frank", "frankie"},
	{"walter", "walt", "wally"},
	{"philip", "phil"},
	{"nathaniel", "nate", "nat"},
	{"elizabeth", "liz", "lizzie", "beth", "betty", "bess", "eliza"},
	{"margaret", "maggie", "meg", "peggy", "marge"},
	{"catherine", "kate", "kathy", "katie", "cathy", "katya"},
	{"jennifer", "jen", "jenny"},
	{"rebecca", "becky"},
	{"susan", "sue", "susie"},
	{"deborah", "deb", "debbie"},
	{"patricia", "pat", "patty", "trish"},
	{"victoria", "vicky", "tori"},
	{"christina", "chris", "tina"},
	{"abigail", "abby"},
	{"theresa", "terry", "tess"},
	// Russian and Ukrainian.
	{"aleksey", "alyosha", "lyosha"},
	{"anatoly", "tolya"},
	{"andrey", "andryusha"},
	{"boris", "borya"},
	{"dmitry", "dima", "mitya"},
	{"yevgeny", "zhenya"},
	{"ivan", "vanya"},
	{"konstantin", "kostya"},
	{"mikhail", "misha"},
	{"nikolai", "kolya"},
	{"pavel", "pasha"},
	{"pyotr", "petya"},
	{"sergey", "seryozha"},
	{"vladimir", "volodya", "vova"},
	{"vyacheslav", "slava"},
	{"yury", "yura"},
	{"grigory", "grisha"},
	{"stanislav", "stas"},
	{"viktor", "vitya"},
	{"yekaterina", "katya"},
	{"yelena", "lena"},
	{"mariya", "masha"},
	{"natalya", "natasha"},
	{"olga", "olya"},
	{"svetlana", "sveta"},
	{"tatyana", "tanya"},
	{"anastasia", "nastya"},
	{"lyudmila", "lyuda"},
	// Greek.
	{"konstantinos", "kostas", "kostis"},
	{"ioannis", "giannis", "yannis"},
	{"georgios", "giorgos", "yiorgos"},
	{"nikolaos", "nikos"},
	{"dimitrios", "dimitris", "mimis"},
	{"emmanouil", "manolis"},
	{"athanasios", "thanasis"},
	{"spyridon", "spyros"},
	{"evangelos", "vangelis"},
	{"charalambos", "charalampos", "babis", "bambos"},
	{"eleftherios", "lefteris"},
	{"panagiotis", "panayiotis", "panos"},
	{"vasileios", "vasilis"},
	// Arabic.
	{"mohammed", "mo", "moe", "hamoudi"},
	{"abdullah", "abdo", "abood", "aboud"},
	// Hebrew.
	{"yosef", "yossi"},
	{"avraham", "avi"},
	{"yaakov", "yanki", "koby"},
	{"shmuel", "shmulik"},
	// Spanish.
	{"francisco", "paco", "pancho", "curro", "quico"},
	{"jose", "pepe", "chepe"},
	{"ignacio", "nacho"},
	{"manuel", "manolo"},
	{"guillermo", "memo"},
	{"enrique", "quique"},
	{"jesus", "chucho", "chuy"},
	{"eduardo", "lalo"},
	{"roberto", "beto"},
	{"alberto", "beto"},
	{"dolores", "lola"},
	{"concepcion", "concha", "conchita"},
	{"rosario", "charo"},
	{"guadalupe", "lupe"},
	{"rafael", "rafa"},
	{"fernando", "nando"},
}

// nameGroups maps a spelling to the groups it belongs to; the forms of one
// name and its nicknames are joined through the full name they share.
var nameGroups = func() map[string][]uint16 {
	m := map[string][]uint16{}
	add := func(n string, g uint16) {
		if !slices.Contains(m[n], g) {
			m[n] = append(m[n], g)
		}
	}
	for g, forms := range nameForms {
		for _, n := range forms {
			add(n, uint16(g))
		}
	}
	for i, nick := range nicknames {
		g := uint16(len(nameForms) + i)
		// A nickname group joins the form groups of its full name.
		if gs, ok := m[nick[0]]; ok {
			for _, n := range nick[1:] {
				for _, fg := range gs {
					add(n, fg)
				}
			}
		}
		for _, n := range nick {
			add(n, g)
		}
	}
	return m
}()

// sharesGroup reports whether two tokens' name groups intersect.
func sharesGroup(a, b []uint16) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
