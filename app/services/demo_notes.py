"""More note templates for the demo team: referrals, MDT discussions, episodes and levels."""

from __future__ import annotations

import random

from app.services.demo_text import Who, fill

# --- referrals -----------------------------------------------------------------------------

_REASONS: dict[str, tuple[str, ...]] = {
    "LAC": (
        "Lonely since {her} wife died; would like help to find local groups and get back to "
        "the luncheon club.",
        "Wants to get out more but lost confidence after the falls; needs someone to go with "
        "{him} the first few times.",
        "Isolated and struggling with letters and forms; would benefit from a Local Area "
        "Coordinator.",
    ),
    "FIRST_CONTACT_PLUS": (
        "Needs help with an Attendance Allowance claim and a blue badge application.",
        "Worried about energy bills; benefits check and warm home advice.",
        "Home safety: needs a smoke alarm check and advice on adaptations.",
    ),
    "BEFRIENDING": (
        "Lives alone with few visitors; agreed to weekly telephone befriending.",
        "Would like a home visitor to chat and play cards with.",
    ),
    "SOCIAL_PRESCRIBING": (
        "Low mood and inactive since retiring from the allotment; social prescribing offer.",
        "Interested in a walking group or chair exercise class.",
    ),
    "ADULT_SOCIAL_CARE": (
        "Struggling with personal care since discharge; request a care needs assessment.",
        "Care package no longer meets needs after the latest fall; request a review.",
        "{carer} can no longer manage alone; request an assessment of needs and respite.",
    ),
    "COMMUNITY_NURSING": (
        "Leg ulcer dressings twice a week; housebound.",
        "Catheter care and bowel management at home.",
        "Insulin supervision while {her} eyesight is poor.",
    ),
    "HOME_FIRST": (
        "More falls this week and not coping; urgent reablement to stay at home.",
        "Step-up support after a chest infection to avoid admission.",
    ),
    "THERAPY": (
        "Mobility worse after the admission; OT assessment for bathing and stairs.",
        "Physiotherapy for balance and strength after a hip fracture.",
    ),
    "MENTAL_HEALTH": (
        "Low mood and poor sleep since bereavement; consents to talking therapies.",
        "Increasing confusion and distress in the evenings; memory assessment requested.",
    ),
    "CARERS_SUPPORT": (
        "{carer} exhausted; carer's assessment and information about respite.",
        "{carer} would like support and a carers' emergency card.",
    ),
    "OTHER": (
        "Deteriorating heart failure; consider specialist palliative care input.",
        "Needs a perching stool, raised toilet seat and bed lever.",
        "Help with the garden and small jobs so {she} can stay at home safely.",
    ),
}
_STATUS_NOTES: dict[str, tuple[str | None, ...]] = {
    "draft": (None,),
    "sent": (
        "Sent by secure email.",
        "Online referral form submitted.",
        "Phoned through and emailed the form.",
        None,
    ),
    "acknowledged": ("Receipt confirmed by email.", "Acknowledged; awaiting triage.", None),
    "accepted": (
        "Accepted; first visit booked.",
        "Accepted; allocated to a worker.",
        "Accepted onto the waiting list (about three weeks).",
    ),
    "declined": (
        "Declined: does not meet the service criteria.",
        "Declined: already known to another team.",
        "Declined: outside the service's area; signposted elsewhere.",
    ),
    "no_response": ("No reply after two chases.", "Chased by phone and email; no reply."),
    "completed": (
        "Support finished; service has closed the case.",
        "Goals met; discharged by the service.",
        "Completed; summary letter received.",
    ),
    "cancelled": (
        "Patient decided against it on reflection.",
        "Patient readmitted; will re-refer on discharge.",
        "Need met another way; referral withdrawn.",
    ),
}


def referral_reason(rng: random.Random, kind: str, who: Who) -> str:
    return fill(rng, _REASONS[kind], who)


def status_note(rng: random.Random, status: str) -> str | None:
    return rng.choice(_STATUS_NOTES[status])


# --- episodes, levels, patients ------------------------------------------------------------

CLOSE_REASONS = (
    ("Goals met; stepped down to practice-level support.", 0.35),
    ("Moved into a nursing home out of area.", 0.15),
    ("Moved out of area and registered with another practice.", 0.12),
    ("Declined further care coordination.", 0.15),
    ("Now supported by the community palliative care team.", 0.10),
    ("Stable for six months; support from the social prescribing link worker instead.", 0.13),
)
_STEP_UP = (
    "Two admissions in a month; needs closer case management.",
    "Carer taken ill; needs more support at home.",
    "Raised at the MDT: falls increasing and living alone.",
    "Discharged from hospital with new care needs.",
)
_STEP_DOWN = (
    "Stable for three months and goals met; stepping down.",
    "Settled with the care package; lighter-touch support from now.",
    "No admissions since the spring; agreed with {name} to step down.",
)
_PATIENT_NOTES = (
    "Prefers calls after 10 am.",
    "Hard of hearing: use the landline and speak clearly.",
    "Key safe in place; the care agency has the code.",
    "Please ring {carer} first on weekdays.",
    "Dog in the house; knock and wait.",
    "Uses a wheelchair outdoors; ramp at the back door.",
    "Sight impaired; large print letters please.",
)
_INTERPRETER_NOTES = (
    "Speaks Gujarati; {carer} interprets, or book an interpreter for visits.",
    "Prefers Punjabi; book an interpreter for assessments.",
    "Speaks Polish; English fine for short calls.",
)
RESPECT_LOCATIONS = (
    "Original at home in the kitchen drawer",
    "On the GP record (SystmOne)",
    "Copy in the care home file",
    "Original with the patient; copy scanned to the GP record",
    "In the yellow folder by the front door",
)


def level_change_reason(rng: random.Random, up: bool, who: Who) -> str:
    return fill(rng, _STEP_UP if up else _STEP_DOWN, who)


def patient_note(rng: random.Random, who: Who, group: int) -> str | None:
    if group in (1, 3) and rng.random() < 0.3:
        return fill(rng, _INTERPRETER_NOTES[:2] if group == 1 else _INTERPRETER_NOTES[2:], who)
    if rng.random() < 0.3:
        return fill(rng, _PATIENT_NOTES, who)
    return None


# --- MDT -----------------------------------------------------------------------------------

_SITUATION = (
    "{age}-year-old {man} discharged from {hospital} on {date} after {reason}.",
    "{name} ({age}) has had {admissions} in the last six months, most recently with {reason}.",
    "{age}-year-old {man} flagged by the practice: more falls and calls to 111.",
    "{name} ({age}): {carer} reports {she} is not coping at home.",
)
_BACKGROUND_ALONE = (
    "Lives alone in a bungalow; {carer} visits most days. {conditions}.",
    "Lives alone in a first-floor flat. {conditions}. ReSPECT form {respect}.",
)
_BACKGROUND_WITH = (
    "Lives with {carer}. {conditions}. ReSPECT form {respect}.",
    "Lives with {carer}, who does most of the caring. {conditions}.",
)
_BACKGROUND = (
    "{conditions}. Care package twice a day since the last admission.",
    "Known to the team for a year. {conditions}. Uses a frame indoors.",
)
_ASSESSMENT = (
    "Frailty is getting worse (eFI {efi}); risk of readmission high.",
    "Medicines not well managed; several changes on discharge not yet taken up.",
    "Carer strain is the main risk to staying at home.",
    "Mood low and isolated; physical health stable at present.",
    "Breathlessness worse; likely to need more support this winter.",
)
_RECOMMENDATION = (
    ("Community matron to visit and review the treatment plan.", "Community Matron"),
    ("Structured medication review by the practice pharmacist.", "GP"),
    ("Care needs assessment by Adult Social Care.", "Adult Social Care"),
    ("Falls assessment and strength and balance programme.", "Therapy Lead"),
    ("Local Area Coordinator to visit and link with community groups.", "Local Area Coordinator"),
    ("Care coordinator to arrange a carer's assessment and respite information.",
     "Care Coordinator"),
    ("GP to discuss advance care planning and complete a ReSPECT form.", "GP"),
    ("Senior nurse to review continence and skin integrity.", "Senior Nurse Complex Needs"),
)  # fmt: skip
_MDT_REASONS = {
    "discharge": "Discharged from {hospital} on {date}",
    "readmitted": "Readmitted within 30 days",
    "flagged": "Flagged for MDT by the care coordinator",
    "risk": "High risk score ({risk})",
    "review": "Review of actions from the last meeting",
}
_MEETING_NOTES = (
    "Quorate. Apologies: {apology}.",
    "Apologies: {apology}. Actions from the last meeting reviewed first.",
)
_FULL_MEETING_NOTES = (
    "All core team present. Actions from the last meeting reviewed first.",
    "Quorate; all core team present.",
)


def mdt_reason(kind: str, **values: str) -> str:
    return _MDT_REASONS[kind].format(**values)


def sbar(rng: random.Random, who: Who, **values: str) -> tuple[str, str, str, str, str]:
    """Situation, background, assessment, recommendation, and the owner role of the
    recommendation."""
    man = {"female": "woman", "male": "man"}.get(who.sex, "person")
    situation = fill(rng, _SITUATION, who, man=man, **values)
    alone = _BACKGROUND_ALONE if who.lives_alone else _BACKGROUND_WITH if who.carer else ()
    background = fill(rng, alone + _BACKGROUND, who, **values)
    options = tuple(a for a in _ASSESSMENT if who.carer or "arer" not in a)
    assessment = fill(rng, options, who, **values)
    recommendation, owner = extra_recommendation(rng, who)
    return situation, background, assessment, recommendation, owner


def extra_recommendation(rng: random.Random, who: Who) -> tuple[str, str]:
    return rng.choice([r for r in _RECOMMENDATION if who.carer or "carer" not in r[0]])


def meeting_note(rng: random.Random, absent: list[str]) -> str:
    if not absent:
        return rng.choice(_FULL_MEETING_NOTES)
    return rng.choice(_MEETING_NOTES).format(apology=", ".join(absent))


def admissions_text(count: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six")
    word = words[count] if count < len(words) else str(count)
    return f"{word} admission{'s' if count != 1 else ''}"
