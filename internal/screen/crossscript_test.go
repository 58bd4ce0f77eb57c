package screen

import (
	"testing"

	"detente"
)

// crossScriptPairs are names of public figures in their own script and in
// the Latin spelling English-language Wikipedia gives them (Wikipedia and
// Wikidata labels), grouped by script. None is in names/pairs.csv.
var crossScriptPairs = map[string][][2]string{
	"Han": {
		{"习近平", "Xi Jinping"}, {"毛泽东", "Mao Zedong"}, {"邓小平", "Deng Xiaoping"},
		{"胡锦涛", "Hu Jintao"}, {"江泽民", "Jiang Zemin"}, {"李克强", "Li Keqiang"},
		{"周恩来", "Zhou Enlai"}, {"温家宝", "Wen Jiabao"}, {"王毅", "Wang Yi"},
		{"朱镕基", "Zhu Rongji"}, {"刘少奇", "Liu Shaoqi"}, {"陈水扁", "Chen Shui-bian"},
		{"司马迁", "Sima Qian"}, {"欧阳修", "Ouyang Xiu"},
		// Wade–Giles.
		{"毛泽东", "Mao Tse-tung"}, {"周恩来", "Chou En-lai"}, {"蒋介石", "Chiang Chieh-shih"},
		{"李鹏", "Li P'eng"},
	},
	"Kana": {
		{"バラク・オバマ", "Barack Obama"}, {"ジョー・バイデン", "Joe Biden"},
		{"ドナルド・トランプ", "Donald Trump"}, {"アンゲラ・メルケル", "Angela Merkel"},
		{"エマニュエル・マクロン", "Emmanuel Macron"}, {"ボリス・ジョンソン", "Boris Johnson"},
		{"ヒラリー・クリントン", "Hillary Clinton"}, {"ナレンドラ・モディ", "Narendra Modi"},
		{"ウサマ・ビンラディン", "Usama bin Ladin"}, {"ムアンマル・カダフィ", "Muammar Gaddafi"},
		{"あべ しんぞう", "Shinzo Abe"}, {"きしだ ふみお", "Fumio Kishida"},
	},
	"Hangul": {
		{"김정은", "Kim Jong-un"}, {"김정일", "Kim Jong-il"}, {"김일성", "Kim Il-sung"},
		{"문재인", "Moon Jae-in"}, {"박근혜", "Park Geun-hye"}, {"이명박", "Lee Myung-bak"},
		{"윤석열", "Yoon Suk-yeol"}, {"노무현", "Roh Moo-hyun"}, {"김대중", "Kim Dae-jung"},
		{"반기문", "Ban Ki-moon"}, {"이재명", "Lee Jae-myung"}, {"김여정", "Kim Yo-jong"},
		{"최룡해", "Choe Ryong-hae"}, {"리설주", "Ri Sol-ju"},
	},
	"Hebrew": {
		{"בנימין נתניהו", "Benjamin Netanyahu"}, {"יצחק רבין", "Yitzhak Rabin"},
		{"שמעון פרס", "Shimon Peres"}, {"אריאל שרון", "Ariel Sharon"}, {"אהוד ברק", "Ehud Barak"},
		{"אהוד אולמרט", "Ehud Olmert"}, {"גולדה מאיר", "Golda Meir"}, {"מנחם בגין", "Menachem Begin"},
		{"דוד בן-גוריון", "David Ben-Gurion"}, {"נפתלי בנט", "Naftali Bennett"}, {"יאיר לפיד", "Yair Lapid"},
		{"יצחק הרצוג", "Yitzhak Herzog"}, {"שאול מופז", "Shaul Mofaz"}, {"משה דיין", "Moshe Dayan"},
	},
	// The RTGS spellings English-language Wikipedia gives beside the
	// names' own spellings; the latter are in thaiOwnSpellings.
	"Thai": {
		{"ประยุทธ์ จันทร์โอชา", "Prayut Chan-o-cha"}, {"ทักษิณ ชินวัตร", "Thaksin Chinnawat"},
		{"ยิ่งลักษณ์ ชินวัตร", "Yinglak Chinnawat"}, {"อภิสิทธิ์ เวชชาชีวะ", "Aphisit Wetchachiwa"},
		{"เศรษฐา ทวีสิน", "Settha Thawisin"}, {"แพทองธาร ชินวัตร", "Phaethongthan Chinnawat"},
		{"สมชาย วงศ์สวัสดิ์", "Somchai Wongsawat"}, {"ชวน หลีกภัย", "Chuan Likphai"},
		{"ประวิตร วงษ์สุวรรณ", "Prawit Wongsuwan"}, {"อนุทิน ชาญวีรกูล", "Anuthin Chanwirakun"},
		{"สุรยุทธ์ จุลานนท์", "Surayut Chulanon"}, {"พิธา ลิ้มเจริญรัตน์", "Phitha Limcharoenrat"},
		{"ชัชชาติ สิทธิพันธุ์", "Chatchat Sitthiphan"},
	},
	"Georgian": {
		{"ედუარდ შევარდნაძე", "Eduard Shevardnadze"}, {"მიხეილ სააკაშვილი", "Mikheil Saakashvili"},
		{"ბიძინა ივანიშვილი", "Bidzina Ivanishvili"}, {"ირაკლი კობახიძე", "Irakli Kobakhidze"},
		{"სალომე ზურაბიშვილი", "Salome Zurabishvili"}, {"გიორგი მარგველაშვილი", "Giorgi Margvelashvili"},
		{"ზვიად გამსახურდია", "Zviad Gamsakhurdia"}, {"ლავრენტი ბერია", "Lavrentiy Beria"},
		{"ირაკლი ღარიბაშვილი", "Irakli Garibashvili"}, {"გიორგი გახარია", "Giorgi Gakharia"},
		{"ნიკა მელია", "Nika Melia"}, {"იოსებ ჯუღაშვილი", "Ioseb Jughashvili"},
	},
	"Armenian": {
		{"Նիկոլ Փաշինյան", "Nikol Pashinyan"}, {"Սերժ Սարգսյան", "Serzh Sargsyan"},
		{"Ռոբերտ Քոչարյան", "Robert Kocharyan"}, {"Լևոն Տեր-Պետրոսյան", "Levon Ter-Petrosyan"},
		{"Վազգեն Սարգսյան", "Vazgen Sargsyan"}, {"Արամ Խաչատրյան", "Aram Khachaturian"},
		{"Կիմ Քարդաշյան", "Kim Kardashian"}, {"Հովիկ Աբրահամյան", "Hovik Abrahamyan"},
		{"Կարեն Կարապետյան", "Karen Karapetyan"}, {"Տիգրան Սարգսյան", "Tigran Sargsyan"},
		{"Արա Բաբլոյան", "Ara Babloyan"}, {"Արմեն Սարգսյան", "Armen Sarkissian"},
	},
	"Devanagari": {
		{"नरेन्द्र मोदी", "Narendra Modi"}, {"मनमोहन सिंह", "Manmohan Singh"},
		{"राहुल गांधी", "Rahul Gandhi"}, {"इंदिरा गांधी", "Indira Gandhi"},
		{"अटल बिहारी वाजपेयी", "Atal Bihari Vajpayee"}, {"अमित शाह", "Amit Shah"},
		{"सोनिया गांधी", "Sonia Gandhi"}, {"जवाहरलाल नेहरू", "Jawaharlal Nehru"},
		{"अरविंद केजरीवाल", "Arvind Kejriwal"}, {"प्रणब मुखर्जी", "Pranab Mukherjee"},
		{"राजनाथ सिंह", "Rajnath Singh"}, {"योगी आदित्यनाथ", "Yogi Adityanath"},
		{"पुष्प कमल दहाल", "Pushpa Kamal Dahal"},
	},
	"Greek": {
		{"Αλέξης Τσίπρας", "Alexis Tsipras"}, {"Κυριάκος Μητσοτάκης", "Kyriakos Mitsotakis"},
		{"Ανδρέας Παπανδρέου", "Andreas Papandreou"}, {"Γεώργιος Παπανδρέου", "George Papandreou"},
		{"Κωνσταντίνος Καραμανλής", "Constantine Karamanlis"}, {"Αλέξανδρος Υψηλάντης", "Alexander Ypsilantis"},
		{"Ιωάννης Μεταξάς", "Ioannis Metaxas"}, {"Ελευθέριος Βενιζέλος", "Eleftherios Venizelos"},
		{"Αντώνης Σαμαράς", "Antonis Samaras"}, {"Κάρολος Παπούλιας", "Karolos Papoulias"},
		{"Γιάνης Βαρουφάκης", "Yanis Varoufakis"},
		// Name forms written in Latin letters.
		{"Alexandros Ypsilantis", "Alexander Ypsilantis"}, {"Georgios Papandreou", "George Papandreou"},
		{"Konstantinos Karamanlis", "Constantine Karamanlis"}, {"Nikolaos Plastiras", "Nicholas Plastiras"},
		{"Dimitrios Maximos", "Demetrius Maximos"},
	},
}

// thaiOwnSpellings are the spellings Thai public figures use themselves,
// often letter for letter from Sanskrit and Pali rather than as spoken.
var thaiOwnSpellings = [][2]string{
	{"ประยุทธ์ จันทร์โอชา", "Prayut Chan-o-cha"}, {"ทักษิณ ชินวัตร", "Thaksin Shinawatra"},
	{"ยิ่งลักษณ์ ชินวัตร", "Yingluck Shinawatra"}, {"อภิสิทธิ์ เวชชาชีวะ", "Abhisit Vejjajiva"},
	{"เศรษฐา ทวีสิน", "Srettha Thavisin"}, {"แพทองธาร ชินวัตร", "Paetongtarn Shinawatra"},
	{"สมชาย วงศ์สวัสดิ์", "Somchai Wongsawat"}, {"ชวน หลีกภัย", "Chuan Leekpai"},
	{"ประวิตร วงษ์สุวรรณ", "Prawit Wongsuwan"}, {"อนุทิน ชาญวีรกูล", "Anutin Charnvirakul"},
	{"สุรยุทธ์ จุลานนท์", "Surayud Chulanont"}, {"พิธา ลิ้มเจริญรัตน์", "Pita Limjaroenrat"},
	{"ชัชชาติ สิทธิพันธุ์", "Chadchart Sittipunt"},
}

// TestThaiOwnSpellings reports how many Thai names match their holders' own
// Latin spellings. It asserts nothing: these spellings follow no system.
func TestThaiOwnSpellings(t *testing.T) {
	match := 0
	for _, p := range thaiOwnSpellings {
		r := Compare(Query{Name: p[0], Type: detente.EntityPerson}, Query{Name: p[1], Type: detente.EntityPerson})
		if r.Match {
			match++
		} else if testing.Verbose() {
			t.Log("no match:", r.Explanation)
		}
	}
	t.Logf("Thai names against their own spellings: %d of %d match", match, len(thaiOwnSpellings))
}

// TestCrossScriptPairs compares each public figure's name in its own script
// with its Latin spelling, and requires at least ten matching pairs and 85%
// of the pairs of every script to match.
func TestCrossScriptPairs(t *testing.T) {
	for script, pairs := range crossScriptPairs {
		t.Run(script, func(t *testing.T) {
			match := 0
			var missed []string
			for _, p := range pairs {
				r := Compare(Query{Name: p[0], Type: detente.EntityPerson}, Query{Name: p[1], Type: detente.EntityPerson})
				if r.Match {
					match++
				} else {
					missed = append(missed, r.Explanation)
				}
			}
			t.Logf("%s: %d of %d pairs match", script, match, len(pairs))
			if match < 10 || float64(match) < 0.85*float64(len(pairs)) {
				t.Errorf("%s: only %d of %d pairs match; missed %q", script, match, len(pairs), missed)
			} else if testing.Verbose() {
				for _, m := range missed {
					t.Log("missed", m)
				}
			}
		})
	}
}
