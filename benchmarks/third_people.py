"""Tables behind the third customer generator (benchmarks/third_generator.py).

Written by hand for that generator, apart from the job and the two other
generators: people per locale (Faker 40.54's name tables, with the most
common surnames and first names of each country put first so that they come
out most often), e-mail providers per country, countries in TPC-DS style,
nicknames, a QWERTY keyboard. Nothing here is shared with glue_jobs/.
"""
from __future__ import annotations

import importlib

import numpy as np

# locale -> (share of people, country of birth in TPC-DS style, Faker table to
# borrow, most common surnames in order, most common first names in order)
LOCALES = {
    "en_US": (0.52, "UNITED STATES", "en_US", (), ()),
    "en_AU": (0.08, "AUSTRALIA", "en_NZ", (), ()),  # Faker has no en_AU people; NZ's weighted tables are nearest
    "en_IE": (0.07, "IRELAND", "en_IE",
              ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor",
               "O'Neill", "O'Reilly", "Doyle", "McCarthy", "Gallagher", "O'Doherty", "Kennedy", "Lynch",
               "Murray", "Quinn", "Moore", "McLoughlin", "O'Carroll", "Connolly", "Daly", "O'Connell"),
              ("Jack", "James", "Noah", "Conor", "Sean", "Daniel", "Patrick", "Michael", "John", "Emily",
               "Grace", "Sarah", "Aoife", "Ciara", "Niamh", "Mary", "Siobhan", "Catherine")),
    "en_IN": (0.08, "INDIA", "en_IN",
              ("Sharma", "Singh", "Kumar", "Patel", "Gupta", "Reddy", "Rao", "Iyer", "Nair", "Shah",
               "Joshi", "Mehta", "Das", "Verma", "Agarwal", "Menon", "Pillai", "Chopra", "Bose", "Khan"),
              ("Rahul", "Amit", "Rajesh", "Suresh", "Venkatesh", "Srinivas", "Abhishek", "Priya", "Pooja",
               "Anjali", "Deepak", "Sunita", "Lakshmi", "Vijay", "Aarav", "Arjun", "Siddharth", "Neha")),
    "it_IT": (0.06, "ITALY", "it_IT",
              ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
               "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
               "Lombardi", "Moretti", "D'Angelo", "De Santis"),
              ("Giuseppe", "Giovanni", "Antonio", "Mario", "Francesco", "Luigi", "Alessandro", "Roberto",
               "Maria", "Anna", "Giuseppina", "Rosa", "Francesca", "Giulia", "Federica", "Salvatore")),
    "pt_BR": (0.07, "BRAZIL", "pt_BR",
              ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
               "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Araújo"),
              ("José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Maria",
               "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Gabriela")),
    "nl_NL": (0.06, "NETHERLANDS", "nl_NL",
              ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
               "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
               "van Leeuwen", "Dekker", "Brouwer", "de Wit", "van der Meer"),
              ("Johannes", "Hendrik", "Cornelis", "Jan", "Pieter", "Willem", "Jacobus", "Maria", "Johanna",
               "Anna", "Wilhelmina", "Cornelia", "Daan", "Sem", "Emma", "Julia", "Sanne", "Lotte")),
    "pl_PL": (0.06, "POLAND", "pl_PL",  # surnames in the masculine form; women get -ska / -cka / -dzka
              (), ("Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Krystyna", "Ewa",
                   "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Jan", "Michał", "Marcin", "Jakub")),
}
# share of people of a locale with a double or hyphenated surname
DOUBLE_SURNAME = {"pt_BR": 0.30, "pl_PL": 0.04, "it_IT": 0.02, "en_US": 0.02, "en_AU": 0.02, "en_IE": 0.02,
                  "nl_NL": 0.03, "en_IN": 0.0}

# country of birth for people not born in their locale's country (TPC-DS writes them upper-case)
WORLD = ("CANADA", "MEXICO", "UNITED KINGDOM", "GERMANY", "FRANCE", "SPAIN", "PORTUGAL", "CHINA", "JAPAN",
         "KOREA, REPUBLIC OF", "VIET NAM", "PHILIPPINES", "INDONESIA", "PAKISTAN", "BANGLADESH", "SRI LANKA",
         "NEPAL", "IRAN, ISLAMIC REPUBLIC OF", "TURKEY", "EGYPT", "NIGERIA", "GHANA", "KENYA", "SOUTH AFRICA",
         "ETHIOPIA", "MOROCCO", "ALGERIA", "ARGENTINA", "CHILE", "COLOMBIA", "PERU", "VENEZUELA", "ECUADOR",
         "CUBA", "JAMAICA", "HAITI", "DOMINICAN REPUBLIC", "GREECE", "ROMANIA", "UKRAINE", "RUSSIAN FEDERATION",
         "CZECH REPUBLIC", "HUNGARY", "SWEDEN", "NORWAY", "DENMARK", "FINLAND", "BELGIUM", "SWITZERLAND",
         "AUSTRIA", "NEW ZEALAND", "FIJI", "SINGAPORE", "MALAYSIA", "THAILAND", "LEBANON", "SYRIAN ARAB REPUBLIC",
         "ISRAEL", "SAUDI ARABIA", "UNITED ARAB EMIRATES", "COTE D'IVOIRE", "ICELAND", "LUXEMBOURG",
         "UNITED STATES", "AUSTRALIA", "IRELAND", "INDIA", "ITALY", "BRAZIL", "NETHERLANDS", "POLAND")

# e-mail providers per locale, weights in %; "*" is a work or small-ISP domain of the person's own
PROVIDERS = {
    "en_US": {"gmail.com": 38, "yahoo.com": 13, "hotmail.com": 7, "outlook.com": 9, "aol.com": 4,
              "icloud.com": 8, "comcast.net": 5, "att.net": 3, "verizon.net": 2, "msn.com": 2, "*": 9},
    "en_AU": {"gmail.com": 34, "bigpond.com": 12, "outlook.com": 8, "hotmail.com": 8, "yahoo.com.au": 7,
              "optusnet.com.au": 6, "icloud.com": 8, "iinet.net.au": 4, "tpg.com.au": 4, "*": 9},
    "en_IE": {"gmail.com": 40, "eircom.net": 12, "hotmail.com": 12, "yahoo.ie": 6, "outlook.com": 9,
              "icloud.com": 6, "live.ie": 6, "*": 9},
    "en_IN": {"gmail.com": 55, "yahoo.co.in": 14, "rediffmail.com": 10, "hotmail.com": 6, "outlook.com": 6,
              "*": 9},
    "it_IT": {"gmail.com": 30, "libero.it": 17, "virgilio.it": 8, "alice.it": 6, "hotmail.it": 8,
              "yahoo.it": 6, "tiscali.it": 4, "outlook.it": 5, "tim.it": 3, "fastwebnet.it": 3, "*": 10},
    "pt_BR": {"gmail.com": 45, "hotmail.com": 15, "yahoo.com.br": 8, "uol.com.br": 8, "bol.com.br": 6,
              "outlook.com": 6, "terra.com.br": 4, "*": 8},
    "nl_NL": {"gmail.com": 34, "hotmail.com": 12, "ziggo.nl": 10, "kpnmail.nl": 8, "outlook.com": 9,
              "live.nl": 7, "xs4all.nl": 4, "planet.nl": 4, "*": 12},
    "pl_PL": {"gmail.com": 35, "wp.pl": 18, "onet.pl": 14, "interia.pl": 10, "o2.pl": 8, "outlook.com": 5,
              "*": 10},
}
TLD = {"en_US": ".com", "en_AU": ".com.au", "en_IE": ".ie", "en_IN": ".in", "it_IT": ".it", "pt_BR": ".com.br",
       "nl_NL": ".nl", "pl_PL": ".pl"}
# typed-wrong providers seen in real sign-up forms
PROVIDER_TYPOS = {"gmail.com": ("gmial.com", "gmail.co", "gmai.com", "gnail.com"),
                  "hotmail.com": ("hotmial.com", "hotmal.com", "hotmail.co"),
                  "yahoo.com": ("yaho.com", "yahoo.co"), "outlook.com": ("outlok.com", "outloo.com")}
SYLLABLES = ("ka", "lo", "ver", "tan", "mi", "dor", "sa", "bel", "tri", "no", "vo", "ra", "pen", "quo",
             "lex", "ma", "zen", "tor", "gal", "fin", "ar", "cor", "del", "us", "ion")
HANDLE_WORDS = ("blue", "fox", "kiwi", "surfer", "rocket", "maple", "storm", "pixel", "tiger", "coffee",
                "lucky", "wolf", "moon", "sunny", "eagle", "panda", "jazz", "river", "ninja", "star",
                "dragon", "cookie", "shadow", "happy", "bear", "ocean", "gamer", "angel", "chef", "rider")

# nicknames, formal name -> the short forms people also go by (hand-written for this generator)
NICKNAMES = {
    "William": ("Bill", "Will", "Liam"), "Robert": ("Bob", "Rob", "Bobby"), "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy", "Jamie"), "John": ("Jack", "Johnny"), "Michael": ("Mike", "Mick"),
    "Thomas": ("Tom", "Tommy"), "Timothy": ("Tim",), "Christopher": ("Chris", "Kit"), "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",), "Anthony": ("Tony",), "Joseph": ("Joe", "Joey"), "Charles": ("Charlie", "Chuck"),
    "Edward": ("Ed", "Ted", "Eddie"), "Andrew": ("Andy", "Drew"), "Nicholas": ("Nick",), "Benjamin": ("Ben",),
    "Alexander": ("Alex", "Sandy"), "Jonathan": ("Jon",), "Patrick": ("Paddy", "Pat"), "Stephen": ("Steve",),
    "Steven": ("Steve",), "Gregory": ("Greg",), "Kenneth": ("Ken", "Kenny"), "Ronald": ("Ron",),
    "Donald": ("Don",), "Lawrence": ("Larry",), "Gerald": ("Gerry",), "Raymond": ("Ray",), "Samuel": ("Sam",),
    "Peter": ("Pete",), "Frederick": ("Fred",), "Francis": ("Frank",), "Henry": ("Harry", "Hank"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Eliza"), "Katherine": ("Kate", "Kathy"), "Catherine": ("Cathy", "Kate"),
    "Kimberly": ("Kim",), "Jennifer": ("Jen", "Jenny"), "Jessica": ("Jess",), "Margaret": ("Maggie", "Peggy"),
    "Patricia": ("Pat", "Patty", "Trish"), "Susan": ("Sue",), "Deborah": ("Deb", "Debbie"), "Rebecca": ("Becky",),
    "Victoria": ("Vicky", "Tori"), "Christina": ("Tina",), "Samantha": ("Sam",), "Alexandra": ("Alex", "Sasha"),
    "Abigail": ("Abby",), "Jacqueline": ("Jackie",), "Pamela": ("Pam",), "Cynthia": ("Cindy",),
    "Barbara": ("Barb",), "Theresa": ("Tess",), "Dorothy": ("Dot",), "Madison": ("Maddie",), "Olivia": ("Liv",),
    "Siobhan": ("Shiv",), "Sean": ("Shay",), "Cathal": ("Cal",),
    "Giuseppe": ("Peppe", "Beppe", "Pino"), "Giovanni": ("Gianni", "Nino"), "Francesco": ("Franco", "Checco"),
    "Antonio": ("Toni", "Totò"), "Alessandro": ("Sandro", "Ale"), "Salvatore": ("Totò", "Turi"),
    "Giuseppina": ("Pina", "Giusy"), "Francesca": ("Franca", "Checca"), "Federica": ("Fede",), "Luigi": ("Gino",),
    "José": ("Zé",), "Francisco": ("Chico",), "Antônio": ("Toninho",), "Eduardo": ("Dudu",),
    "Fernanda": ("Nanda",), "Gabriela": ("Gabi",), "Rafael": ("Rafa",), "Luiz": ("Lula",), "Ana": ("Aninha",),
    "Aleksander": ("Olek",), "Katarzyna": ("Kasia",), "Małgorzata": ("Gosia",), "Agnieszka": ("Aga",),
    "Tomasz": ("Tomek",), "Krzysztof": ("Krzysiek",), "Wojciech": ("Wojtek",), "Anna": ("Ania", "Anka"),
    "Joanna": ("Asia",), "Magdalena": ("Magda",), "Jakub": ("Kuba",), "Piotr": ("Piotrek",),
    "Johannes": ("Hans", "Jan"), "Hendrik": ("Henk",), "Cornelis": ("Kees",), "Jacobus": ("Koos",),
    "Wilhelmina": ("Mien", "Willy"), "Pieter": ("Piet",), "Johanna": ("Jo", "Hanneke"), "Willem": ("Wim",),
    "Venkatesh": ("Venky",), "Srinivas": ("Srini",), "Abhishek": ("Abhi",), "Siddharth": ("Sid",),
    "Rajesh": ("Raju",), "Lakshmi": ("Lucky",),
}
# names written with and without accents in customer files
ACCENTED = {"Jose": "José", "Joao": "João", "Antonio": "Antônio", "Andre": "André", "Fabio": "Fábio",
            "Lucia": "Lúcia", "Monica": "Mônica", "Rene": "René", "Zoe": "Zoë", "Chloe": "Chloë",
            "Noel": "Noël", "Sean": "Seán", "Niamh": "Níamh", "Aine": "Áine", "Lukasz": "Łukasz",
            "Pawel": "Paweł", "Michal": "Michał", "Rodriguez": "Rodríguez", "Garcia": "García",
            "Araujo": "Araújo", "Muller": "Müller", "Lopez": "López", "Nicolo": "Nicolò"}
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i"})
PARTICLES = ("van der ", "van den ", "van de ", "van het ", "van ", "ter ", "ten ", "de ", "da ", "das ", "dos ",
             "do ", "di ", "del ", "d'")

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD = {}
for r, row in enumerate(ROWS):
    for c, ch in enumerate(row):
        near = [row[c + d] for d in (-1, 1) if 0 <= c + d < len(row)]
        near += [ROWS[r + d][c] for d in (-1, 1) if 0 <= r + d < 3 and c < len(ROWS[r + d])]
        KEYBOARD[ch] = "".join(near)


def _table(values, head=(), weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Names and probabilities: the given weights, or a Zipf-Mandelbrot law (1 / (rank + 10)) over the head
    first and the rest in a fixed shuffled order, so common names stay common whatever the seed."""
    if weights is not None:
        names, w = np.array(list(values), dtype=object), np.array(weights, dtype=float)
    else:
        rest = sorted(set(values) - set(head))
        np.random.default_rng(20261130).shuffle(rest)
        names = np.array(list(dict.fromkeys([*head, *rest])), dtype=object)
        w = 1.0 / (np.arange(len(names)) + 10.0)
    return names, w / w.sum()


def name_tables() -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """locale -> {"male", "female", "last"} -> (names, probabilities)."""
    out = {}
    for loc, (_, _, faker_loc, last_head, first_head) in LOCALES.items():
        p = importlib.import_module(f"faker.providers.person.{faker_loc}").Provider
        t = {}
        for sex in ("male", "female"):
            src = getattr(p, f"first_names_{sex}")
            heads = tuple(n for n in first_head if _sex_of(n) == sex)
            t[sex] = _table(src.keys(), weights=list(src.values())) if hasattr(src, "values") \
                else _table(src, heads)
        if loc == "pl_PL":
            t["last"] = _table((*p.male_last_names, *p.unisex_last_names), p.male_last_names)
        else:
            src = p.last_names
            t["last"] = _table(src.keys(), weights=list(src.values())) if hasattr(src, "values") and not last_head \
                else _table(src, last_head)
        out[loc] = t
    return out


_FEMALE_HEAD = {"Emily", "Grace", "Sarah", "Aoife", "Ciara", "Niamh", "Mary", "Siobhan", "Catherine", "Priya",
                "Pooja", "Anjali", "Sunita", "Lakshmi", "Neha", "Maria", "Anna", "Giuseppina", "Rosa",
                "Francesca", "Giulia", "Federica", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia",
                "Fernanda", "Gabriela", "Johanna", "Wilhelmina", "Cornelia", "Emma", "Julia", "Sanne", "Lotte",
                "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Krystyna", "Ewa"}


def _sex_of(name: str) -> str:
    return "female" if name in _FEMALE_HEAD else "male"


def feminine(surname: str) -> str:
    """Polish surnames in -ski / -cki / -dzki take -ska / -cka / -dzka for a woman."""
    return "-".join(p[:-1] + "a" if p.endswith(("ski", "cki", "dzki")) else p for p in surname.split("-"))
