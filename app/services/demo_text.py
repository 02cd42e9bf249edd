"""Note templates for the demo team: what coordinators write after calls, in needs assessments,
care plans, referrals and MDT discussions. Each template has a few variants so the caseload reads
like real notes; the placeholders are filled from the synthetic person."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

from app.services.demo_vocab import MEDICINES


@dataclass(frozen=True)
class Who:
    """The person a note is about, and who looks after them."""

    given: str
    sex: str
    carer: str | None = None  # "daughter Karen"
    lives_alone: bool = False

    @cached_property
    def values(self) -> dict[str, str]:
        female = self.sex == "female"
        male = self.sex == "male"
        return {
            "name": self.given,
            "she": "she" if female else "he" if male else "they",
            "She": "She" if female else "He" if male else "They",
            "her": "her" if female else "his" if male else "their",
            "Her": "Her" if female else "His" if male else "Their",
            "him": "her" if female else "him" if male else "them",
            "is": "are" if not (female or male) else "is",
            "has": "have" if not (female or male) else "has",
            "carer": self.carer or "the family",
        }


def fill(rng: random.Random, options: tuple[str, ...], who: Who, **extra: str) -> str:
    template = rng.choice(options)
    values = who.values
    if extra or "{med" in template:
        values = {**values, **extra}
        if "{med" in template:
            values["med"] = rng.choice(MEDICINES)
    text = template.format_map(values)
    return text[0].upper() + text[1:]


# --- post-discharge calls ------------------------------------------------------------------

_FAILED = {
    "no_answer": (
        "No answer. Will try again this afternoon.",
        "Rang twice, no reply; no voicemail set up.",
        "No answer on the landline; no mobile recorded.",
        "Phone rang out. Will try again first thing tomorrow.",
    ),
    "voicemail": (
        "Left a voicemail asking {name} to ring the team back.",
        "Answerphone; left a short message with the team number (no clinical details).",
        "Voicemail left on {her} mobile with call-back details.",
    ),
    "wrong_number": (
        "Number on the discharge letter is out of date; new number taken from the GP record.",
        "Reached someone else; checked SystmOne and updated the number.",
    ),
    "declined": (
        "{name} said {she} {is} managing fine and did not want to talk today; happy for us to "
        "ring {carer}.",
        "{name} was tired and asked us to call back another day; agreed to speak to {carer}.",
    ),
}
_CONTACT_OPEN = {
    "contacted_patient": (
        "Spoke with {name}; home since {day} and settling in.",
        "Spoke with {name}, who sounded brighter than on the ward.",
        "Good conversation with {name}; back home from {hospital}.",
        "Spoke with {name}. Tired but glad to be home.",
    ),
    "contacted_carer": (
        "Spoke with {carer}; {name} is home and resting.",
        "{name} was asleep, so spoke with {carer}, who is staying over for a few nights.",
        "Spoke with {carer} as {name} is hard of hearing on the phone.",
    ),
}
_ISSUES = {
    "medication": (
        "New {med} started on the ward but not in the blister pack; asked the pharmacy to "
        "update it.",
        "Discharge letter says stop {med} but it is still in the pack; messaged the practice "
        "pharmacist.",
        "Unsure about the new inhaler; community pharmacist to check technique.",
        "Ran out of {med} the day after discharge; urgent prescription requested from the GP.",
    ),
    "equipment": (
        "Waiting for a commode and perching stool; chased the equipment service.",
        "Walking frame too low for {him}; OT asked to check.",
        "Pendant alarm not reconnected since the admission; rang the lifeline provider.",
        "Needs a second stair rail; referred for a home adaptations check.",
    ),
    "care_package": (
        "Care package restarted at two calls a day but the morning call is late; raised with "
        "the agency.",
        "Care package not restarted; rang the Adult Social Care duty desk.",
        "Reablement team visiting from tomorrow for up to six weeks.",
        "Evening call cancelled while {she} was in hospital and not yet restored; chased.",
    ),
    "follow_up_appointment": (
        "Fracture clinic appointment not received; chased the hospital.",
        "Needs bloods in a week; booked with the practice nurse.",
        "Heart failure nurse follow-up not yet arranged; emailed the team.",
        "Outpatient appointment is at the General but {she} has no transport; booked hospital "
        "transport.",
    ),
    "carer_strain": (
        "{carer} sounds exhausted and is not sleeping; offered a carers' support referral.",
        "{carer} is finding nights hard; talked through respite options.",
        "{carer} is managing but worried about coping if {name} falls again.",
    ),
    "other": (
        "Fridge nearly empty; arranged a food delivery through the Local Area Coordinator.",
        "Worried about the heating bill; First Contact Plus referral discussed.",
        "Hearing aid lost on the ward; ward asked to look for it.",
        "Dog was looked after by a neighbour and needs collecting; neighbour will bring it back.",
    ),
}
_NO_ISSUES = (
    "No concerns: medicines as expected, eating and drinking, moving about with the frame.",
    "Medicines checked against the discharge letter and correct. No other concerns.",
    "No issues found; knows how to reach us.",
)
_CONTACT_CLOSE = (
    " Will ring again next week.",
    " Knows how to reach the team.",
    " Review at the next MDT.",
    " Will check in after the weekend.",
    "",
)
_EXCLUDED = {
    "readmitted": (
        "Rang to follow up; {carer} says {name} went back into {hospital} on {day}.",
        "No answer; the hospital record shows {name} was readmitted on {day}.",
    ),
    "deceased": (
        "Spoke with {carer}: {name} died at home on {day}. Condolences offered; GP informed.",
        "Rang to follow up and {carer} told us {name} passed away on {day}. GP and district "
        "nurses informed.",
    ),
}


def call_note(
    rng: random.Random,
    outcome: str,
    who: Who,
    *,
    issues: tuple[str, ...] = (),
    hospital: str = "hospital",
    day: str = "yesterday",
) -> str:
    extra = {"hospital": hospital, "day": day}
    if outcome in _FAILED:
        return fill(rng, _FAILED[outcome], who, **extra)
    if outcome in _EXCLUDED:
        return fill(rng, _EXCLUDED[outcome], who, **extra)
    parts = [fill(rng, _CONTACT_OPEN[outcome], who, **extra)]
    if issues:
        parts.extend(fill(rng, _ISSUES[i], who, **extra) for i in issues)
    else:
        parts.append(fill(rng, _NO_ISSUES, who, **extra))
    return " ".join(parts) + rng.choice(_CONTACT_CLOSE)


# --- needs assessments ---------------------------------------------------------------------

_DOMAIN_NOTES: dict[str, dict[str, tuple[str, ...]]] = {
    "physical_health": {
        "low": ("Conditions stable; annual reviews up to date.", "Well controlled at present."),
        "moderate": (
            "Breathless on exertion; two chest infections this winter.",
            "Heart failure with ankle swelling most evenings; weight monitored by the practice.",
            "Diabetes control variable; HbA1c rising.",
        ),
        "high": (
            "Frequent exacerbations of COPD; rescue pack used three times since the summer.",
            "Worsening heart failure, breathless at rest on bad days; on the heart failure "
            "nurses' caseload.",
            "Multiple admissions this year; pain poorly controlled.",
        ),
    },
    "medication": {
        "low": ("Takes own medicines from a dosette; no concerns.",),
        "moderate": (
            "Eleven regular medicines; some confusion since the last changes.",
            "Sometimes forgets the lunchtime dose; blister pack requested.",
        ),
        "high": (
            "Found old and new boxes of {med} in the kitchen; risk of double dosing.",
            "Not taking {med} because of side effects and has not told the GP.",
        ),
    },
    "mobility_falls": {
        "low": ("Walks with a stick indoors and out.", "Mobile; no falls in the past year."),
        "moderate": (
            "Two falls in six months, no injury; uses a frame indoors.",
            "Unsteady on the stairs; sleeps upstairs.",
        ),
        "high": (
            "Fell four times since the spring, once lying on the floor overnight.",
            "Housebound; transfers with help only.",
        ),
    },
    "personal_care": {
        "low": ("Manages own personal care; strip-washes rather than bathing.",),
        "moderate": (
            "Needs help to shower; {carer} helps twice a week.",
            "Struggles with dressing on bad days.",
        ),
        "high": (
            "Needs help with all personal care; care package four calls a day.",
            "Not able to wash or dress without help and often declines carers.",
        ),
    },
    "nutrition": {
        "low": ("Eating well; weekly shop delivered.",),
        "moderate": (
            "Poor appetite since the admission; lost weight (belt notches).",
            "Relies on ready meals and does not always heat them.",
        ),
        "high": (
            "Lost 6 kg in three months; MUST score high.",
            "Swallowing difficulty after the stroke; on a modified diet.",
        ),
    },
    "housing": {
        "low": ("Own bungalow, warm and well kept.", "Lives in sheltered housing with a warden."),
        "moderate": (
            "Two-storey house with the only toilet upstairs.",
            "Damp in the back bedroom; landlord has been told.",
        ),
        "high": (
            "Boiler broken for three weeks; house very cold.",
            "Hoarding in the living room makes the stairs unsafe.",
        ),
    },
    "finances_benefits": {
        "low": ("No money worries reported.",),
        "moderate": (
            "Not claiming Attendance Allowance; likely to qualify.",
            "Worried about energy bills; pre-payment meter.",
        ),
        "high": (
            "Rent arrears letter received; no food in the house.",
            "Family member managing money and {name} is unsure where it goes.",
        ),
    },
    "loneliness_social_contact": {
        "low": ("Sees family most days; goes to the luncheon club.",),
        "moderate": (
            "Few visitors since {her} friend moved into a care home.",
            "Used to go to church but cannot manage the bus now.",
        ),
        "high": (
            "Lives alone and speaks to nobody for days at a time.",
            "Very isolated since bereavement; says {she} has 'nothing to get up for'.",
        ),
    },
    "mental_wellbeing": {
        "low": ("In good spirits.", "Mood fine; enjoys crosswords and the radio."),
        "moderate": (
            "Low mood since the admission; sleeping poorly.",
            "Anxious about falling; does not go out alone.",
        ),
        "high": (
            "Tearful and hopeless during the visit; GP asked to review mood urgently.",
            "Memory worse; getting lost in familiar places. Memory clinic referral made.",
        ),
    },
    "carer_situation": {
        "low": ("{carer} helps with shopping; no concerns about coping.",),
        "moderate": (
            "{carer} works full time and visits every evening; tired.",
            "{carer} has own health problems and is finding the caring role harder.",
        ),
        "high": (
            "{carer} close to breaking point; carer breakdown likely without respite.",
            "{carer} is the only support and was in hospital last month too.",
        ),
    },
    "safeguarding": {
        "low": ("No safeguarding concerns.",),
        "moderate": (
            "Cold callers at the door several times; trading standards advice given.",
            "Self-neglect concerns; discussed with {name} and monitoring.",
        ),
        "high": (
            "Financial abuse suspected; safeguarding referral made to Adult Social Care.",
            "Unexplained bruising; safeguarding concern raised with the GP and ASC.",
        ),
    },
}
_NONE_NOTES = ("No needs identified.", "Nothing raised.", "")


def domain_note(rng: random.Random, domain: str, level: str, who: Who) -> str | None:
    if level == "none":
        text = rng.choice(_NONE_NOTES)
        return text or None
    return fill(rng, _DOMAIN_NOTES[domain][level], who)


_WHAT_MATTERS = (
    "Staying in my own home for as long as I can.",
    "Getting back to the allotment, even if it's only to sit and watch.",
    "Seeing my grandchildren at the weekends.",
    "Not going back into hospital.",
    "Being able to get to church on Sunday.",
    "Keeping my dog; he's all the company I have.",
    "Looking after my wife; we've been married 61 years.",
    "Getting to the mandir for festivals.",
    "Being able to make my own cup of tea.",
    "Not being a burden on my daughter.",
    "Going to the luncheon club on Thursdays again.",
    "Having my garden tidy; it was always my pride and joy.",
    "Being comfortable and at home when the time comes.",
    "Watching the Tigers on a Saturday with my son.",
    "Managing the stairs so I can sleep in my own bed.",
    "Going to the shops on my own.",
    "Going to the gurdwara with my family.",
    "Feeling less frightened at night.",
)
_GOALS = (
    "Walk to the end of the road with the frame by the spring.",
    "No falls in the next three months.",
    "Know what to do when breathless, and use the rescue pack early.",
    "Get out of the house once a week.",
    "Claim Attendance Allowance and get the heating fixed before winter.",
    "Manage medicines safely with a blister pack.",
    "Have a carer's assessment for {carer}.",
    "Be able to shower with help twice a week.",
    "Join a befriending scheme and have a weekly visitor.",
    "Put a ReSPECT form in place and talk through wishes with the family.",
    "Fewer trips to A&E: ring the team or 111 first.",
    "Put weight back on; aim for three meals a day.",
)


def what_matters(rng: random.Random, who: Who) -> str:
    picks = rng.sample(_WHAT_MATTERS, rng.choice((1, 1, 2)))
    return fill(rng, (" ".join(picks),), who)


def goals(rng: random.Random, who: Who) -> str:
    options = [g for g in _GOALS if who.carer or "{carer}" not in g]
    picks = rng.sample(options, rng.choice((1, 2, 2, 3)))
    return "\n".join(fill(rng, (g,), who) for g in picks)


# (description, owner); "{coordinator}" is the patient's care coordinator.
_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "physical_health": (
        ("Ask the GP for a COPD review and rescue pack", "{coordinator}"),
        ("Refer to the heart failure nurses", "GP"),
        ("Weigh daily and ring if up 2 kg in three days", "Patient"),
    ),
    "medication": (
        ("Structured medication review with the practice pharmacist", "Practice pharmacist"),
        ("Arrange blister packs with the community pharmacy", "{coordinator}"),
    ),
    "mobility_falls": (
        ("Falls assessment and home exercise plan", "Community therapy"),
        ("Order a second stair rail and a perching stool", "{coordinator}"),
        ("Set up a pendant alarm", "{coordinator}"),
    ),
    "personal_care": (
        ("Request a care needs assessment", "Adult Social Care"),
        ("Look into a shower seat and grab rails", "Occupational therapist"),
    ),
    "nutrition": (
        ("Weekly weight check and food diary", "{carer_owner}"),
        ("Dietitian advice on supplements", "GP"),
    ),
    "housing": (
        ("Report the boiler to the landlord and chase", "{coordinator}"),
        ("Home safety check by the fire service", "{coordinator}"),
    ),
    "finances_benefits": (
        ("Help to claim Attendance Allowance", "First Contact Plus"),
        ("Apply for a blue badge", "{carer_owner}"),
    ),
    "loneliness_social_contact": (
        ("Introduce to the Local Area Coordinator", "{coordinator}"),
        ("Weekly telephone befriending", "Befriending service"),
        ("Find transport to the luncheon club", "Local Area Coordinator"),
    ),
    "mental_wellbeing": (
        ("GP review of mood and sleep", "GP"),
        ("Talking therapies self-referral, with help", "{coordinator}"),
    ),
    "carer_situation": (
        ("Offer a carer's assessment", "{coordinator}"),
        ("Information about respite and sitting services", "Carers' support service"),
    ),
    "safeguarding": (
        ("Discuss concerns at the MDT", "{coordinator}"),
        ("Safeguarding referral to Adult Social Care", "{coordinator}"),
    ),
}


def agreed_action(
    rng: random.Random, domain: str, coordinator: str, carer_owner: str
) -> tuple[str, str]:
    description, owner = rng.choice(_ACTIONS[domain])
    return description, owner.format(coordinator=coordinator, carer_owner=carer_owner)


# --- care plans ----------------------------------------------------------------------------

_CONTINGENCY = (
    "If breathless at night: sit up, use the inhaler, start the rescue pack and ring the "
    "practice; out of hours ring 111.",
    "If {name} falls and cannot get up: press the pendant; {carer} has a key.",
    "If {carer} is taken ill: ring the care coordinator or Adult Social Care out of hours "
    "for emergency respite.",
    "If confused or not eating: ring the practice the same day; ReSPECT form is in the "
    "kitchen drawer.",
    "Weight up 2 kg in three days or ankles more swollen: ring the heart failure nurses.",
    "If low in mood or struggling: ring the team on weekdays, Samaritans any time.",
)
_SHARED_WITH = (
    "GP practice; district nursing team",
    "GP, community matron and Adult Social Care",
    "GP practice and {carer}",
    "GP, care agency and the Local Area Coordinator",
    "GP practice",
)


def care_plan_texts(rng: random.Random, who: Who, goals_text: str) -> dict[str, str]:
    involved = f"{who.given} and {who.carer}" if who.carer else f"{who.given} (with the GP's input)"
    return {
        "who_involved": involved,
        "outcomes_agreed": goals_text,
        "contingency_plan": fill(rng, _CONTINGENCY, who),
        "shared_with_others": fill(rng, _SHARED_WITH, who),
    }


# --- carers --------------------------------------------------------------------------------

_CARER_NEEDS = (
    "Finds nights hardest; would value a sitting service once a week.",
    "Own arthritis getting worse; struggling with lifting.",
    "Works part time and feels guilty about not doing more.",
    "Would like information about Power of Attorney.",
    "Has not had a break in two years.",
    "Wants to learn what to do in an emergency.",
    "Coping well at present; knows where to get help.",
    "Missing school on bad days; school aware.",
)


def carer_needs(rng: random.Random, young: bool) -> str | None:
    if young:
        return _CARER_NEEDS[-1]
    return rng.choice(_CARER_NEEDS[:-1]) if rng.random() < 0.8 else None
