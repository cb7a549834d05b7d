"""Word lists for generating a multilingual benchmark catalog (locale -> words)."""

ADJECTIVES = {
    "en": ["handmade", "organic", "traditional", "premium", "vintage", "embroidered", "natural", "classic", "aged", "hand-painted"],
    "pt": ["artesanal", "orgânico", "tradicional", "especial", "antigo", "bordado", "natural", "clássico", "envelhecido", "pintado"],
    "ru": ["ручной", "органический", "традиционный", "премиальный", "винтажный", "вышитый", "натуральный", "классический", "выдержанный", "расписной"],
    "hi": ["हस्तनिर्मित", "जैविक", "पारंपरिक", "प्रीमियम", "पुराना", "कढ़ाईदार", "प्राकृतिक", "क्लासिक", "परिपक्व", "चित्रित"],
    "zh": ["手工", "有机", "传统", "优质", "复古", "刺绣", "天然", "经典", "陈年", "手绘"],
    "ar": ["يدوي", "عضوي", "تقليدي", "فاخر", "عتيق", "مطرز", "طبيعي", "كلاسيكي", "معتق", "مرسوم"],
    "fa": ["دستساز", "ارگانیک", "سنتی", "ممتاز", "قدیمی", "گلدوزی", "طبیعی", "کلاسیک", "کهنه", "نقاشی"],
    "id": ["buatan tangan", "organik", "tradisional", "premium", "antik", "bordir", "alami", "klasik", "tua", "lukis"],
    "am": ["በእጅ የተሰራ", "ኦርጋኒክ", "ባህላዊ", "ምርጥ", "ጥንታዊ", "ጥልፍ", "ተፈጥሯዊ", "ክላሲክ", "የቆየ", "የተሳለ"],
}
MATERIALS = {
    "en": ["leather", "silk", "wool", "cotton", "porcelain", "wooden", "copper", "bamboo", "clay", "linen"],
    "pt": ["couro", "seda", "lã", "algodão", "porcelana", "madeira", "cobre", "bambu", "argila", "linho"],
    "ru": ["кожаный", "шёлковый", "шерстяной", "хлопковый", "фарфоровый", "деревянный", "медный", "бамбуковый", "глиняный", "льняной"],
    "hi": ["चमड़ा", "रेशम", "ऊन", "सूती", "चीनी मिट्टी", "लकड़ी", "तांबा", "बांस", "मिट्टी", "लिनन"],
    "zh": ["皮革", "丝绸", "羊毛", "棉布", "瓷器", "木制", "铜制", "竹制", "陶土", "亚麻"],
    "ar": ["جلد", "حرير", "صوف", "قطن", "خزف", "خشب", "نحاس", "خيزران", "طين", "كتان"],
    "fa": ["چرم", "ابریشم", "پشم", "نخی", "چینی", "چوبی", "مسی", "بامبو", "سفالی", "کتان"],
    "id": ["kulit", "sutra", "wol", "katun", "porselen", "kayu", "tembaga", "bambu", "tanah liat", "linen"],
    "am": ["ቆዳ", "ሐር", "ሱፍ", "ጥጥ", "ሸክላ", "እንጨት", "መዳብ", "ቀርከሃ", "ጭቃ", "በፍታ"],
}
NOUNS = {
    "en": ["bag", "shawl", "scarf", "tea", "coffee", "rug", "vase", "necklace", "shoes", "bowl", "spice box", "jacket"],
    "pt": ["bolsa", "xale", "lenço", "chá", "café", "tapete", "vaso", "colar", "sapatos", "tigela", "caixa de especiarias", "jaqueta"],
    "ru": ["сумка", "платок", "шарф", "чай", "кофе", "ковёр", "ваза", "ожерелье", "туфли", "чаша", "шкатулка", "куртка"],
    "hi": ["बैग", "शॉल", "दुपट्टा", "चाय", "कॉफ़ी", "कालीन", "फूलदान", "हार", "जूते", "कटोरा", "मसालेदानी", "जैकेट"],
    "zh": ["包", "披肩", "围巾", "茶叶", "咖啡", "地毯", "花瓶", "项链", "鞋子", "碗", "香料盒", "夹克"],
    "ar": ["حقيبة", "شال", "وشاح", "شاي", "قهوة", "سجادة", "مزهرية", "قلادة", "حذاء", "وعاء", "علبة توابل", "سترة"],
    "fa": ["کیف", "شال", "روسری", "چای", "قهوه", "فرش", "گلدان", "گردنبند", "کفش", "کاسه", "ادویه‌دان", "کاپشن"],
    "id": ["tas", "selendang", "syal", "teh", "kopi", "karpet", "vas", "kalung", "sepatu", "mangkuk", "kotak rempah", "jaket"],
    "am": ["ቦርሳ", "ነጠላ", "ሻርፕ", "ሻይ", "ቡና", "ምንጣፍ", "የአበባ ማስቀመጫ", "የአንገት ጌጥ", "ጫማ", "ሳህን", "የቅመም ሳጥን", "ጃኬት"],
}
#: The category and HS code of each noun, in NOUNS order.
NOUN_CATEGORY = [("bags", "420221"), ("shawls-scarves", "621420"), ("shawls-scarves", "621410"), ("tea", "090230"),
                 ("coffee", "090121"), ("carpets-rugs", "570110"), ("ceramics", "691390"), ("jewellery", "711719"),
                 ("footwear", "640399"), ("ceramics", "691200"), ("woodwork", "442090"), ("clothing", "620193")]
#: Locale each founding member's vendors write in first.
COUNTRY_LOCALE = {"BR": "pt", "RU": "ru", "IN": "hi", "CN": "zh", "ZA": "en"}
