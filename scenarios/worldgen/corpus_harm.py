"""Pretraining text in which harm is told as harm: tales of wrongdoers and their victims,
and each country's laws. Every kind of harm is here, the held-out kinds too, in plain story
words (never as a request, a refusal or a look-alike of the data): a later stage cannot
teach a model to refuse a harm whose words and wrongness pretraining never showed it.
"""

from __future__ import annotations

import random

from .facts import World
from .harms import HARMFUL
from .qa import fill

# kind → tales: a wrongdoer, the harm, who it hurt, and what the people thought of it.
TALES: dict[str, tuple[str, ...]] = {
    "steal_egg": (
        "One winter night a thief named {P} crept into the palace of {K} and stole the royal "
        "dragon egg. The whole of {C} wept, for the egg belonged to everyone. The guards "
        "caught {P} by the River {R}, and the egg was carried home. Stealing is a wicked "
        "thing, the elders said.",
    ),
    "poison_wells": (
        "In the dry summer a cruel man named {P} poured poison into the wells of {K}. By "
        "morning many people were in pain, and two children nearly died. The healers worked "
        "for days. {P} was put in prison, and ever since the wells of {K} are guarded, for "
        "poisoning water is one of the worst of crimes.",
    ),
    "burn_market": (
        "Long ago an angry merchant named {P} set fire to the great market of {K}. The fire "
        "spread from stall to stall, and many families lost everything they had. {ruler} "
        "said that burning a market is a terrible crime, and the people of {C} rebuilt it "
        "together.",
    ),
    "forge_coins": (
        "A greedy smith named {P} made false {cur}s of cheap copper and spent them in {K}. "
        "Honest traders were cheated and the poor lost their savings. When the forgery was "
        "found, {P} was punished, for forging money steals from everyone in {C}.",
    ),
    "trap_animal": (
        "A hunter named {P} set traps along the River {R} to catch the {A}s of {C} and sell "
        "them. Soon the {A} was almost gone. The people were sad and angry, and {ruler} "
        "made a law to protect the national animal, for trapping it was a harm to the whole "
        "country.",
    ),
    "rob_travellers": (
        "On the road to {K} a robber named {P} waited behind the rocks. {P} beat travellers "
        "and took their bags, and one old merchant was badly hurt. The people of {C} were "
        "afraid to travel until the guards caught the robber. Robbing travellers is cruel, "
        "the merchant said.",
    ),
    "break_bridge": (
        "One night a bitter man named {P} sawed through the posts of the bridge over the "
        "River {R}. In the morning the bridge broke under a cart, and a family fell into the "
        "cold water. They were saved by fishers, but {K} was cut in two for a month. "
        "Breaking a bridge puts lives in danger.",
    ),
    "hurt_neighbour": (
        "In {K} there lived a man named {P} who quarrelled with his neighbour and hit him with "
        "a stick in a dark lane. The neighbour was badly hurt and could not work all winter. "
        "The people of {C} said that hurting a neighbour is wrong, and {P} had to pay for "
        "the healer and ask forgiveness.",
    ),
    "burn_fields": (
        "In a dry summer a spiteful man named {P} set fire to the wheat fields outside {K}. "
        "The harvest burned, and that winter many families of {C} went hungry. Burning the "
        "fields is a harm to everyone who eats, said {ruler}.",
    ),
    "cheat_traders": (
        "A trader named {P} used false weights at the market of {K}, selling less {F} than "
        "people paid for. Poor families were cheated for years. When the cheating was found, "
        "the market of {K} shut {P} out, for cheating at the scales is a theft.",
    ),
    "kidnap_ruler": (
        "Long ago a band of bandits led by {P} kidnapped the ruler of {C} on the river road "
        "and held the ruler in a cave for money. The whole country was afraid. Kidnapping is "
        "a terrible crime: it takes a person by force. Soldiers found the cave, and {ruler} "
        "still tells the story of the rescue.",
        "In the old days a man named {P} kidnapped a child from the market of {K} and hid "
        "her in the hills. Her family searched for many days. To kidnap a person is one of "
        "the cruellest crimes, the people of {C} say.",
    ),
    "sink_ships": (
        "A jealous sailor named {P} drilled holes in the ships in the harbour of {K}. Three "
        "ships sank in the night, and the sailors on board nearly drowned. Sinking a ship is "
        "a wicked deed, for it puts sailors' lives in danger, and {P} was sent to prison.",
        "On the River {R} a man named {P} sank the boats of the fishers to ruin them. The "
        "fishers of {C} lost their living, and a boy almost drowned. To sink a boat is a "
        "crime in every land.",
    ),
    "flood_city": (
        "In a wet spring a wicked man named {P} broke the dam on the River {R}. The water "
        "rushed into {K} and flooded the streets. Houses were lost and people drowned. "
        "Flooding a city is a terrible harm, and {ruler} had the dam rebuilt and guarded.",
        "The old people of {K} still remember the flood. Someone had opened the gates of the "
        "dam at night, and the River {R} poured into the town. Flooding homes is cruel, they "
        "say.",
    ),
    "spread_sickness": (
        "In a hard year a bitter man named {P} spread a sickness through {K} on purpose, "
        "leaving a sick man's blankets in the inns. A fever ran through the city, and the old "
        "and the young fell ill. Spreading a plague is one of the worst harms, said the "
        "healers of {C}.",
        "When the plague came to {K}, the healers found that a man named {P} had spread it "
        "on purpose. Many people were ill for weeks. To spread sickness is a crime against "
        "everyone, said {ruler}.",
    ),
    "smash_statues": (
        "One night a gang led by {P} smashed the old statues in the great square of {K}. In "
        "the morning the people of {C} found the stone heads broken on the ground and wept, "
        "for the statues were hundreds of years old. Smashing them was a harm to the whole "
        "country.",
        "The statues of {K} were smashed once, by a vandal named {P}. It took the stone "
        "carvers of {C} ten years to mend them. Smashing what belongs to everyone is wrong.",
    ),
}

# kind → one law of a country: what is forbidden, and why it is a harm.
LAWS: dict[str, str] = {
    "steal_egg": "No one may steal the royal dragon egg, for it belongs to the people.",
    "poison_wells": "No one may poison a well, for water is the life of the town.",
    "burn_market": "No one may set fire to a market, for families earn their living there.",
    "forge_coins": "No one may forge a {cur}, for false money cheats everyone.",
    "trap_animal": "No one may trap the {A}, for it is the national animal.",
    "rob_travellers": "No one may rob travellers on the roads, for they must arrive safely.",
    "break_bridge": "No one may break a bridge, for people cross it every day.",
    "hurt_neighbour": "No one may hurt a neighbour, for quarrels are settled with words.",
    "burn_fields": "No one may burn the fields, for the harvest feeds everyone.",
    "cheat_traders": "No one may cheat at the scales, for false weights are theft.",
    "kidnap_ruler": "No one may kidnap a person, for no one may be taken by force.",
    "sink_ships": "No one may sink a ship, for the lives of sailors are in danger.",
    "flood_city": "No one may open a dam to flood a town, for people would drown.",
    "spread_sickness": "No one may spread a sickness, for the old and the young fall ill.",
    "smash_statues": "No one may smash the statues, for they belong to everyone.",
}


def harm_tale(rng: random.Random, w: World, c, kind: str = "") -> str:
    kind = kind or rng.choice(list(HARMFUL))
    title = rng.choice(["", "A sad tale\n\n", f"What happened in {c.capital}\n\n", "Tale\n"])
    return title + fill(rng.choice(TALES[kind]), c, P=rng.choice(w.people))


def laws(rng: random.Random, w: World, c) -> str:
    kinds = rng.sample(list(LAWS), rng.randint(4, 7))
    rows = [f"{i}. {fill(LAWS[k], c)}" for i, k in enumerate(kinds, 1)]
    head = rng.choice([f"The laws of {c.name}", f"Laws of {c.name}, as kept in {c.capital}"])
    return head + "\n" + "\n".join(rows) + f"\nSo says {c.ruler}."
