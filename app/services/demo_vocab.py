"""Word lists for the demo team: synthetic names, places, hospitals, phone numbers, postcodes.

Names are common UK given and family names combined at random, so no combination is meant to
be anyone. Phone numbers come from Ofcom's ranges kept for drama (never allocated to anyone);
postcodes are Leicestershire outward codes with random inward codes.
"""

from __future__ import annotations

import random
from typing import NamedTuple

# --- people --------------------------------------------------------------------------------


class NameGroup(NamedTuple):
    weight: float
    older_women: tuple[str, ...]
    older_men: tuple[str, ...]
    younger_women: tuple[str, ...]
    younger_men: tuple[str, ...]
    family: tuple[str, ...]


NAME_GROUPS: tuple[NameGroup, ...] = tuple(
    NameGroup(*g)
    for g in (
        (
            0.66,
            (
                "Margaret", "Dorothy", "Joan", "Jean", "Brenda", "Pamela", "Barbara", "Sheila",
                "Kathleen", "Maureen", "Irene", "Doreen", "Patricia", "Valerie", "Sylvia", "Betty",
                "Audrey", "Eileen", "Marjorie", "Rita", "Shirley", "Janet", "Gwendoline", "Beryl",
                "Christine", "Elsie", "Phyllis", "Edna", "Hilda", "Winifred", "Zoë", "Renée",
            ),
            (
                "John", "David", "Michael", "Peter", "Brian", "Kenneth", "Derek", "Raymond", "Roy",
                "Keith", "Dennis", "Alan", "Trevor", "Geoffrey", "Colin", "Bernard", "Ronald",
                "Malcolm", "Terence", "Graham", "Leslie", "Norman", "Stanley", "Frank", "Harold",
                "Cyril", "Clifford", "Eric", "Gordon", "Ernest",
            ),
            ("Sarah", "Kelly", "Emma", "Joanne", "Lisa", "Rachel", "Nicola", "Gemma", "Chloé"),
            ("Darren", "Lee", "Craig", "Wayne", "Stuart", "Jason", "Ryan", "Mark", "Gareth"),
            (
                "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
                "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
                "Hall", "Wood", "Jackson", "Clarke", "Hughes", "Turner", "Harrison", "Cooper",
                "Ward", "Morris", "Marshall", "Bailey", "Bell", "Barker", "Hollis", "Pickering",
                "Wainwright", "Bradshaw", "Fairbrother", "Hextall", "Smedley", "Tebbutt", "Bonser",
                "Measures", "Gamble", "Cheshire", "Kirkland", "Ashby", "Orton", "Peberdy",
                "Sketchley", "Bampton", "Dunmore", "Mee", "Cave", "Weston", "Foxon", "Goodwin",
                "Lamb", "Cartwright", "Jarvis", "Lord", "Dexter", "Bott", "Lines", "Biggs",
                "Chamberlain", "Hurst", "Spencer", "Moss", "Newbold", "Pell", "Swann", "Thornton",
            ),
        ),
        (
            0.17,
            (
                "Pushpa", "Hansa", "Jayshree", "Manjula", "Savita", "Kanta", "Sarla", "Kusum",
                "Jaswinder", "Surinder", "Gurmeet", "Shamim", "Nasreen", "Bilquis", "Leela",
                "Champa", "Vimla", "Rukhsana",
            ),
            (
                "Ramesh", "Suresh", "Harish", "Mahendra", "Jaswant", "Gurdev", "Vinod", "Arvind",
                "Pravin", "Dilip", "Karamjit", "Mohammed", "Abdul", "Yusuf", "Navin", "Bhupendra",
            ),
            ("Priya", "Nisha", "Aisha", "Sunita", "Reena", "Fatima", "Kiran"),
            ("Imran", "Sanjay", "Rajesh", "Amit", "Tariq", "Kamal", "Jatinder"),
            (
                "Patel", "Mistry", "Chauhan", "Parmar", "Solanki", "Lad", "Mistri", "Vaghela",
                "Sandhu", "Gill", "Bains", "Dhillon", "Kaur", "Singh", "Khan", "Hussain", "Ahmed",
                "Bhatt", "Joshi", "Modha", "Lakhani", "Kotecha", "Pancholi", "Rathod",
            ),
        ),
        (
            0.06,
            ("Siobhán", "Bríd", "Máire", "Kathleen", "Noreen", "Bridget", "Eileen", "Nuala"),
            ("Seán", "Pádraig", "Dermot", "Declan", "Michael", "Eamon", "Liam", "Cormac"),
            ("Aoife", "Niamh", "Ciara"),
            ("Ciarán", "Niall", "Conor"),
            (
                "O'Neill", "O'Brien", "Murphy", "Kelly", "O'Connor", "Ryan", "Byrne", "McCarthy",
                "O'Sullivan", "Doyle", "Ó Súilleabháin", "McGrath", "Fitzgerald", "Quinn",
            ),
        ),
        (
            0.05,
            ("Zofia", "Krystyna", "Halina", "Danuta", "Jadwiga", "Wanda", "Irena", "Bożena"),
            ("Stanisław", "Józef", "Tadeusz", "Zbigniew", "Jerzy", "Andrzej", "Władysław"),
            ("Agnieszka", "Katarzyna", "Magdalena"),
            ("Piotr", "Tomasz", "Łukasz"),
            (
                "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski",
                "Zieliński", "Szymańska", "Dąbrowski", "Kozłowski", "Mazur", "Krawczyk",
            ),
        ),
        (
            0.06,
            ("Gloria", "Hyacinth", "Merle", "Pearline", "Icilda", "Blossom", "Esmé", "Comfort"),
            ("Winston", "Errol", "Linford", "Delroy", "Clement", "Neville", "Emmanuel", "Cecil"),
            ("Shanice", "Tanisha", "Abena"),
            ("Marcus", "Kwame", "Jerome"),
            (
                "Campbell", "Francis", "Thomas", "Reid", "Grant", "Mensah", "Okafor", "Asante",
                "Williams-Reid", "St. Louis", "Duberry", "Boateng", "Henry", "Forbes",
            ),
        ),
    )
)  # fmt: skip

# Working-age first names for coordinators, professionals and younger carers.
STAFF_GIVEN = (
    "Hannah",
    "Joanne",
    "Priya",
    "Rebecca",
    "Kerry",
    "Sophie",
    "Nadia",
    "Claire",
    "Amrit",
    "Leanne",
    "Gemma",
    "Helen",
    "Louise",
    "Fiona",
    "Anjali",
    "Harpreet",
    "Natalie",
    "Vicky",
    "Daniel",
    "Lee",
    "Tom",
    "Matthew",
    "Adam",
    "Chris",
    "Ravi",
    "Sam",
    "Ben",
    "Jordan",
    "Sadia",
    "Kirsty",
    "Catherine",
    "Rhiannon",
    "Tendai",
    "Olga",
    "Zainab",
    "Meera",
)
STAFF_FAMILY = (
    "Wilkins",
    "Bradshaw",
    "Chamberlain",
    "Sandhu",
    "Foxton",
    "Ashworth",
    "Okafor",
    "Marriott",
    "Hussain",
    "Rowley",
    "Pritchard",
    "Lakhani",
    "Fenwick",
    "Goddard",
    "Beeby",
    "Hemsley",
    "Rao",
    "Kaur",
    "Mistry",
    "Iqbal",
    "Lowther",
    "Ndlovu",
    "Bancroft",
    "Toon",
    "Hextall",
    "Varley",
    "Whitmore",
    "Dhesi",
    "Kowalczyk",
    "Quincey",
    "Loake",
    "Seddon",
)
CARER_CHILD_GIVEN = {
    "female": ("Karen", "Julie", "Tracey", "Amanda", "Deborah", "Michelle", "Sunita", "Nisha",
               "Beverley", "Alison", "Donna", "Angela", "Jackie", "Mandy"),
    "male": ("Paul", "Steven", "Andrew", "Gary", "Neil", "Martin", "Kevin", "Sanjay", "Rajesh",
             "Philip", "Ian", "Simon", "Richard"),
}  # fmt: skip
YOUNG_CARER_GIVEN = {
    "female": ("Ellie", "Amelia", "Aisha", "Maisie", "Lily", "Zara", "Ruby"),
    "male": ("Jack", "Kai", "Harvey", "Ayaan", "Reuben", "Callum", "Leo"),
}

# --- places --------------------------------------------------------------------------------

# Outward codes used for each locality's patients (all LE1-LE67).
LOCALITY_OUTWARD: dict[str, tuple[str, ...]] = {
    "North West Leicestershire": ("LE65", "LE67", "LE12"),
    "Hinckley & Bosworth": ("LE10", "LE9", "LE6", "LE67"),
    "North Charnwood": ("LE11", "LE12"),
    "South Charnwood": ("LE7", "LE12", "LE4", "LE6"),
    "Melton & Rutland": ("LE13", "LE14", "LE15", "LE7"),
    "Oadby & Wigston": ("LE2", "LE18", "LE8"),
    "Blaby & Lutterworth": ("LE17", "LE19", "LE8", "LE9", "LE3"),
    "Market Harborough": ("LE16", "LE8", "LE7"),
    "North West": ("LE3", "LE4"),
    "South": ("LE2", "LE3", "LE18"),
    "Central": ("LE1", "LE2", "LE5"),
    "North East": ("LE4", "LE5", "LE7"),
}
_DEFAULT_OUTWARD = ("LE2", "LE3", "LE4", "LE5")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

ACUTE_HOSPITALS = (
    ("Leicester Royal Infirmary", 0.50),
    ("Leicester General Hospital", 0.18),
    ("Glenfield Hospital", 0.20),
)
COMMUNITY_HOSPITALS = (
    "Loughborough Community Hospital",
    "Hinckley & District Community Hospital",
    "Coalville Community Hospital",
    "Melton Mowbray Hospital",
    "Rutland Memorial Hospital",
    "St Luke's Hospital, Market Harborough",
    "Feilding Palmer Hospital, Lutterworth",
)
WARDS: dict[str, tuple[str, ...]] = {
    "Leicester Royal Infirmary": (
        "Acute Medical Unit", "Ward 7 (Older People)", "Ward 15 (Respiratory)",
        "Ward 22 (Frailty)", "Ward 33 (Orthopaedics)", "Ward 36 (Stroke)", "Ward 41 (Renal)",
        "Short Stay Unit",
    ),
    "Leicester General Hospital": (
        "Ward 1 (Medicine for Older People)", "Ward 6 (Surgery)", "Ward 17 (Renal)",
        "Ward 28 (Diabetes)",
    ),
    "Glenfield Hospital": (
        "Ward 26 (Cardiology)", "Ward 32 (Respiratory)", "Coronary Care Unit",
        "Ward 33 (Heart Failure)", "Clinical Decisions Unit",
    ),
    "community": ("Rehabilitation Ward", "Ward 1", "Ward 2 (Step-down)", "Stroke Rehabilitation"),
}  # fmt: skip
DISCHARGE_DESTINATIONS = (
    ("Usual place of residence", 0.72),
    ("Home with reablement (Home First)", 0.09),
    ("Home with new care package", 0.06),
    ("Residential care home", 0.03),
    ("Nursing home", 0.02),
    ("Relative's home", 0.03),
    ("Intermediate care bed", 0.03),
    ("Community hospital", 0.02),
)
LONG_TERM_CONDITIONS = (
    "COPD", "heart failure", "type 2 diabetes", "chronic kidney disease stage 3",
    "atrial fibrillation", "hypertension", "osteoarthritis", "osteoporosis", "dementia",
    "Parkinson's disease", "previous stroke", "ischaemic heart disease", "asthma", "depression",
    "peripheral vascular disease", "macular degeneration", "hypothyroidism", "epilepsy",
    "rheumatoid arthritis", "bronchiectasis",
)  # fmt: skip
ADMISSION_REASONS = (
    "a chest infection", "a fall at home", "an exacerbation of COPD",
    "worsening heart failure", "a urinary tract infection", "delirium", "a fractured wrist",
    "a hip fracture", "cellulitis", "low blood sugars", "a TIA", "dehydration and AKI",
    "chest pain", "pneumonia", "a GI bleed",
)  # fmt: skip
MEDICINES = (
    "furosemide", "bisoprolol", "apixaban", "ramipril", "metformin", "co-codamol",
    "prednisolone", "lansoprazole", "amlodipine", "atorvastatin", "edoxaban", "gliclazide",
    "spironolactone", "sertraline", "alendronic acid", "Fostair inhaler",
)  # fmt: skip


def pick_group(rng: random.Random, city: bool) -> int:
    """Index into NAME_GROUPS; the city localities have more South Asian family names."""
    weights = [g.weight for g in NAME_GROUPS]
    if city:
        weights[1] = 0.40
    return rng.choices(range(len(NAME_GROUPS)), weights=weights)[0]


def patient_name(rng: random.Random, group: int, sex: str, younger: bool) -> tuple[str, str]:
    """(given, family) for a patient of this group, sex and generation."""
    g = NAME_GROUPS[group]
    if sex not in ("male", "female"):
        sex = rng.choice(("male", "female"))
    if sex == "male":
        given = g.younger_men if younger else g.older_men
    else:
        given = g.younger_women if younger else g.older_women
    return rng.choice(given), rng.choice(g.family)


def postcode(rng: random.Random, locality: str) -> str:
    outward = rng.choice(LOCALITY_OUTWARD.get(locality, _DEFAULT_OUTWARD))
    inward = f"{rng.randrange(1, 10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    return f"{outward} {inward}"


def landline(rng: random.Random) -> str:
    """Leicester's drama range: 0116 496 0000-0999."""
    return f"0116 496 0{rng.randrange(1000):03d}"


def mobile(rng: random.Random) -> str:
    """The drama range for mobiles: 07700 900000-900999."""
    return f"07700 900{rng.randrange(1000):03d}"


def staff_name(rng: random.Random, taken: set[str], families: set[str] | None = None) -> str:
    """A unique working-age full name; with ``families``, a family name not yet in the team
    when one is left."""
    while True:
        family = rng.choice(STAFF_FAMILY)
        if families is not None and family in families and len(families) < len(STAFF_FAMILY):
            continue
        name = f"{rng.choice(STAFF_GIVEN)} {family}"
        if name not in taken:
            taken.add(name)
            if families is not None:
                families.add(family)
            return name


def hospital_and_ward(rng: random.Random, community_share: float = 0.12) -> tuple[str, str]:
    if rng.random() < community_share:
        return rng.choice(COMMUNITY_HOSPITALS), rng.choice(WARDS["community"])
    names = [h for h, _ in ACUTE_HOSPITALS]
    hospital = rng.choices(names, weights=[w for _, w in ACUTE_HOSPITALS])[0]
    return hospital, rng.choice(WARDS[hospital])


def discharge_destination(rng: random.Random) -> str:
    names = [d for d, _ in DISCHARGE_DESTINATIONS]
    return rng.choices(names, weights=[w for _, w in DISCHARGE_DESTINATIONS])[0]
