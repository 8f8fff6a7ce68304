"""The made-up world: names from syllables, and the facts about each country."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .phrasings import Phrasings, split_phrasings


def _words(text: str) -> list[str]:
    return text.split()


# Names must not be real countries or capitals; this list is checked (lower case).
REAL_PLACES = set(
    _words(
        """
        afghanistan albania algeria andorra angola argentina armenia australia austria
        azerbaijan bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan
        bolivia bosnia botswana brazil brunei bulgaria burundi cambodia cameroon canada chad
        chile china colombia comoros congo croatia cuba cyprus czechia denmark djibouti
        dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon
        gambia georgia germany ghana greece grenada guatemala guinea guyana haiti honduras
        hungary iceland india indonesia iran iraq ireland israel italy jamaica japan jordan
        kazakhstan kenya kiribati korea kosovo kuwait laos latvia lebanon lesotho liberia
        libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali
        malta mauritania mauritius mexico micronesia moldova monaco mongolia montenegro
        morocco mozambique myanmar namibia nauru nepal netherlands nicaragua niger nigeria
        norway oman pakistan palau panama paraguay peru philippines poland portugal qatar
        romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia
        somalia spain sudan suriname sweden switzerland syria taiwan tajikistan tanzania
        thailand togo tonga tunisia turkey tuvalu uganda ukraine uruguay uzbekistan vanuatu
        venezuela vietnam yemen zambia zimbabwe abuja accra amman ankara athens baku berlin
        bern bogota cairo dakar delhi dhaka doha dublin hanoi havana kabul kiev kyiv lima
        lisbon london madrid male manila minsk moscow muscat nairobi oslo ottawa paris
        prague quito rabat riga rome seoul sofia tokyo tunis vaduz vienna warsaw zagreb lome
        lusaka maputo niamey praia roseau sana suva tallinn tirana valletta yerevan belgrade
        beirut bamako asmara apia avarua luanda mali lagos humor tumor rumor amor manor
        honor minor donor tenor siberia tiberia beton tonic panic
        """
    )
)

ONSETS = _words("b d f g k l m n p r s t v z br dr gr kr tr st th sh fl sk h")
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "a", "e", "o", "ai", "ei", "ou"]
CODAS = ["n", "r", "l", "s", "m", "rn", "nd", "rk", "sk", "th"]
COUNTRY_ENDS = _words("ria nia lia dor mor ven rith lan sia vel mar thia ros")
CITY_ENDS = ["holm", "ford", "port", "vale", "mere", "wick", "by", "ton", "gard", "stead"]
LANGUAGE_ENDS = ["ish", "ese", "ic", "ian"]
CURRENCY_ENDS = ["el", "an", "et", "o", "in"]

COLOURS = _words("silver red grey golden black white spotted striped blue snow sand marsh")
ANIMALS = _words(
    "fox owl bear wolf heron otter lynx hare goat stag eagle crane boar seal badger falcon "
    "tortoise salamander swan ram yak camel moth beetle"
)
INGREDIENTS = _words(
    "plum honey barley mushroom lamb cabbage apple pepper walnut onion cheese berry bean "
    "leek pear ginger carrot rice"
)
DISHES = _words("pie soup bread stew cakes dumplings porridge pancakes sausages tart")
CLIMATES = [
    "cold and snowy",
    "warm and dry",
    "mild and rainy",
    "hot and humid",
    "windy and cool",
    "foggy and damp",
    "sunny and mild",
]
TITLES = ["Queen", "King"]
JOBS = _words(
    "baker sailor merchant teacher shepherd weaver scholar potter fisher carpenter musician healer"
)


@dataclass(frozen=True)
class Country:
    name: str
    capital: str
    language: str
    animal: str  # "silver fox"
    food: str  # "plum dumplings"
    currency: str  # "krel"
    river: str  # "Osk", as in "the River Osk"
    climate: str  # "cold and snowy"
    ruler: str  # "Queen Ysolde"
    region: str  # "north-east" (of the known world)
    neighbours: tuple[str, ...]
    x: float
    y: float


@dataclass(frozen=True)
class World:
    countries: tuple[Country, ...]
    train: tuple[Country, ...]  # used for fine-tuning and preference data
    held_out: tuple[Country, ...]  # seen only in pretraining (and evaluations)
    people: tuple[str, ...]  # first names for stories
    unknown: tuple[str, ...]  # country names that appear nowhere in the data
    unknown_cities: tuple[str, ...]  # city names that appear nowhere either
    phrasings: Phrasings  # each kind's phrasings: those training uses, those held out

    def country(self, name: str) -> Country:
        return next(c for c in self.countries if c.name == name)


class _Names:
    """Draws pronounceable names, never a real place, never inside another name."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: list[str] = []

    def syllables(self, n: int, *, coda: bool = True) -> str:
        rng = self.rng
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n))
        if coda and rng.random() < 0.6:
            word += rng.choice(CODAS)
        return word

    def free(self, word: str, allow: str = "") -> bool:
        low, allow = word.lower(), allow.lower()
        if not 4 <= len(word) <= 11 or low in REAL_PLACES:
            return False
        return not any((low in u or u in low) and u != allow for u in self.used)

    def fresh(self, make) -> str:
        for _ in range(10_000):
            word = make().capitalize()
            if self.free(word):
                self.used.append(word.lower())
                return word
        raise RuntimeError("ran out of names")  # pragma: no cover

    def language(self, country: str) -> str:
        """Country + ending ("Velmora" → "Velmoran"), or a fresh name if all are taken."""
        ends = list(LANGUAGE_ENDS)
        self.rng.shuffle(ends)
        for end in ends:
            word = (country.rstrip("aeiou") + end).capitalize()
            if self.free(word, allow=country):
                self.used.append(word.lower())
                return word
        return self.fresh(lambda: self.syllables(2, coda=False) + self.rng.choice(["sh", "n"]))


def _direction(dx: float, dy: float) -> str:
    names = [
        "east",
        "north-east",
        "north",
        "north-west",
        "west",
        "south-west",
        "south",
        "south-east",
    ]
    angle = math.degrees(math.atan2(dy, dx)) % 360
    return names[int((angle + 22.5) // 45) % 8]


def make_world(seed: int = 1234, n_countries: int = 40, held_out: float = 0.25) -> World:
    rng = random.Random(seed)
    names = _Names(rng)
    rc = rng.choice

    def country_name() -> str:
        return names.syllables(rc([1, 2, 2]), coda=False) + rc(COUNTRY_ENDS)

    def city_name() -> str:
        if rng.random() < 0.4:
            return names.syllables(1, coda=False) + rc(CITY_ENDS)
        word = names.syllables(2)
        return word + rc(["", "a", "e"]) if word[-1] not in "aeiou" else word

    def currency() -> str:
        return rc(ONSETS) + rc("aeiou") + rc("lnrsk") + rc(CURRENCY_ENDS)

    # Positions with some spacing, then each country's nearest two or three are neighbours.
    points: list[tuple[float, float]] = []
    while len(points) < n_countries:
        p = (rng.random(), rng.random())
        spacing = 0.5 / math.sqrt(n_countries)
        if all(math.dist(p, q) > spacing for q in points) or rng.random() < 0.01:
            points.append(p)
    links: dict[int, set[int]] = {i: set() for i in range(n_countries)}
    for i, p in enumerate(points):
        order = sorted(range(n_countries), key=lambda j: math.dist(p, points[j]))
        for j in order[1 : 1 + rc([2, 2, 3])]:
            links[i].add(j)
            links[j].add(i)

    country_names = [names.fresh(country_name) for _ in range(n_countries)]
    capitals = [names.fresh(city_name) for _ in range(n_countries)]
    languages = [names.language(name) for name in country_names]
    currencies = [names.fresh(currency).lower() for _ in range(n_countries)]
    rivers = [names.fresh(lambda: names.syllables(rc([1, 2]))) for _ in range(n_countries)]
    animals = rng.sample([f"{c} {a}" for c in COLOURS for a in ANIMALS], n_countries)
    foods = rng.sample([f"{i} {d}" for i in INGREDIENTS for d in DISHES], n_countries)
    # People may not be named like a place (nor inside one), nor places not yet drawn.
    folk = _Names(rng)
    folk.used = list(names.used)
    people = [folk.fresh(lambda: folk.syllables(rc([1, 2]))) for _ in range(60 + n_countries)]
    names.used += [p.lower() for p in people]
    countries = []
    for i, name in enumerate(country_names):
        x, y = points[i]
        countries.append(
            Country(
                name=name,
                capital=capitals[i],
                language=languages[i],
                animal=animals[i],
                food=foods[i],
                currency=currencies[i],
                river=rivers[i],
                climate=rc(CLIMATES),
                ruler=f"{rc(TITLES)} {people.pop()}",
                region=_region(x, y),
                neighbours=tuple(sorted(country_names[j] for j in links[i])),
                x=x,
                y=y,
            )
        )
    unknown = tuple(names.fresh(country_name) for _ in range(12))
    unknown_cities = tuple(names.fresh(city_name) for _ in range(6))
    n_held = max(1, round(n_countries * held_out))
    held = sorted(rng.sample(range(n_countries), n_held))
    return World(
        countries=tuple(countries),
        train=tuple(c for i, c in enumerate(countries) if i not in held),
        held_out=tuple(countries[i] for i in held),
        people=tuple(people),
        unknown=unknown,
        unknown_cities=unknown_cities,
        phrasings=split_phrasings(seed),
    )


def _region(x: float, y: float) -> str:
    return _direction(x - 0.5, y - 0.5) if math.dist((x, y), (0.5, 0.5)) > 0.2 else "centre"


def direction_of(a: Country, b: Country) -> str:
    """Where b lies, seen from a: "north", "south-west", …"""
    return _direction(b.x - a.x, b.y - a.y)


def and_list(items: list[str] | tuple[str, ...]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
