"""The generator's data tables: the planted figures, each agency's categories and their weights, and the rows
per month at scale 1. Data only: the code that draws from them is in the agency modules beside this one."""

from __future__ import annotations

MANCHESTER = "E08000003"
CITY_CENTRE_WARDS = {"Deansgate", "Piccadilly"}

PLANTED = {
    "sv_victim_aged_20_to_34": 0.60,
    "robbery_victim_aged_15_to_23": 0.60,
    "robbery_victim_outside_city": 1 / 3,
    "sv_suspect_male": 0.84,
    "cohort_size_per_scale": 300,  # known to police, youth justice and education
    "repeat_victims_per_scale": 150,  # each the victim of a crime every other month
    "collapse_month_index": 3,  # the fourth month generated
    "collapse_factor": 0.10,
    "stop_search_black_share": 0.30,  # vs 12% of the population: about three times
    "alcohol_exits_successful": 0.59,
    "alcohol_admissions_per_100k_year": 1066,
    "manchester_share_of_gm_victim_based": 0.27,  # of police.uk victim-based crime in GMP's street-level file
}

ETHNIC_GROUPS = ["White", "Asian", "Black", "Mixed", "Other"]
ETHNIC_WEIGHTS = [57, 21, 12, 5, 5]  # roughly Manchester's population (Census 2021)
NOT_STATED = 0.08  # share of records with no ethnicity recorded

CRIME_TYPES = {  # police.uk crime type: share of recorded crime (roughly Manchester's mix)
    "Violence and sexual offences": 0.34,
    "Other theft": 0.10,
    "Criminal damage and arson": 0.08,
    "Vehicle crime": 0.08,
    "Burglary": 0.07,
    "Shoplifting": 0.07,
    "Public order": 0.09,
    "Theft from the person": 0.03,
    "Robbery": 0.03,
    "Drugs": 0.03,
    "Bicycle theft": 0.02,
    "Possession of weapons": 0.02,
    "Other crime": 0.04,
}
VICTIMLESS = {"Drugs", "Possession of weapons", "Public order", "Other crime"}
VICTIM_BASED_TYPES = {t: w for t, w in CRIME_TYPES.items() if t not in VICTIMLESS}
OTHER_TYPES = {t: w for t, w in CRIME_TYPES.items() if t in VICTIMLESS}
# Home Office offence codes per crime type, with their relative frequency (the partnership's classification of
# each code: dbt/seeds/offence_code_classes.csv; the codes and their descriptions: dbt/seeds/ho_offence_codes.csv).
HO_CODES = {
    "Violence and sexual offences": {
        "001/01": 0.15,  # murder
        "004/01": 0.05,  # manslaughter
        "002/00": 0.3,  # attempted murder
        "003/01": 2,  # threats to kill
        "005/01": 4,  # wounding with intent to do GBH (s.18)
        "008/01": 8,  # GBH without intent (s.20)
        "008/06": 25,  # ABH (s.47)
        "008/47": 0.5,  # racially or religiously aggravated ABH
        "105/01": 33,  # common assault
        "195/94": 8,  # harassment
        "008/65": 3,  # stalking involving fear of violence
        "008/67": 3,  # controlling or coercive behaviour
        "008/72": 3,  # threatening communications
        "019/08": 2,  # rape of a female aged 16 or over
        "019/07": 0.5,  # rape of a female aged under 16
        "020/05": 3,  # sexual assault on a female
        "017/15": 0.7,  # sexual assault on a male
        "088/09": 1,  # exposure
    },
    # 034/01 robbery, 034/02 assault with intent to rob: business or personal by the victim type (ROBBERY_BUSINESS).
    "Robbery": {"034/01": 90, "034/02": 10},
    "Burglary": {"028/03": 60, "028/02": 7, "029/00": 1, "030/02": 28, "031/00": 1},
    "Vehicle crime": {"045/10": 55, "048/01": 30, "037/01": 2, "126/00": 13},
    "Theft from the person": {"039/00": 1},
    "Shoplifting": {"046/00": 1},
    "Bicycle theft": {"044/00": 1},
    "Other theft": {"049/10": 80, "040/00": 8, "053/25": 10, "047/00": 2},
    "Criminal damage and arson": {"056/01": 3, "056/02": 12, "058/00": 82, "058/04": 3},
    "Drugs": {"092/30": 10, "092/41": 10, "092/50": 15, "092/61": 65},
    "Possession of weapons": {"008/26": 60, "008/11": 20, "008/64": 5, "081/04": 10, "005/14": 5},
    "Public order": {"125/12": 50, "125/09": 20, "125/11": 15, "066/01": 10, "066/16": 5},
    "Other crime": {"054/01": 40, "033/00": 20, "079/01": 10, "802/00": 30},
}
ROBBERY_BUSINESS = 0.15  # share of robberies of business property (Home Office class 34A; the rest 34B)
BUSINESS_BURGLARY = {"030/02", "031/00"}  # burglary other than in a dwelling: a business or community victim
# Weapon used or threatened, by offence type (share of crimes), and which weapon: mostly a knife.
WEAPON_SHARE = {
    "homicide": 0.45,
    "attempted_murder": 0.5,
    "threats_to_kill": 0.15,
    "gbh_with_intent": 0.35,
    "gbh_without_intent": 0.15,
    "abh": 0.06,
    "robbery": 0.3,
    "rape": 0.02,
    "sexual_assault": 0.01,
}
WEAPONS = {"Knife or sharp instrument": 0.7, "Firearm": 0.05, "Other weapon": 0.25}
POSSESSION_WEAPON = {
    "possession_blade": "Knife or sharp instrument",
    "possession_firearm": "Firearm",
    "possession_weapon": "Other weapon",
}
# Days from offence to recording: most within a week; some weeks or months later; a few historic (years later,
# most often sexual offences). The extract is cut by recorded date, so these rows carry older offence dates.
RECORDING_DELAY = {"same week": 0.88, "weeks or months": 0.09, "historic": 0.03}
HISTORIC_SEXUAL = 0.25  # share of rape and sexual assault recorded years after the offence
CRIME_HOUR_WEIGHTS = [5, 4, 3, 2, 1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 4, 5, 6, 6, 6, 7, 8, 8, 7, 6]  # by hour, 0 to 23
OUTCOMES = [
    "Under investigation",
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Local resolution",
    "Offender given a caution",
    "Awaiting court outcome",
    "Charged or summonsed",
    "Action to be taken by another organisation",
    "Further investigation is not in the public interest",
]
OUTCOME_WEIGHTS = [20, 35, 20, 5, 2, 4, 8, 3, 3]
YJ_OFFENCES = [
    "Violence against the person",
    "Robbery",
    "Theft and handling",
    "Criminal damage",
    "Drugs",
    "Public order",
    "Possession of weapons",
    "Motoring",
    "Other",
]
YJ_OUTCOMES = [
    "Community resolution",
    "Youth caution",
    "Youth conditional caution",
    "Referral order",
    "Youth rehabilitation order",
    "Custody",
]
YJ_OUTCOME_WEIGHTS = [30, 20, 15, 20, 12, 3]
# Days from offence to disposal: out of court (community resolution, cautions) and at court.
YJ_LAG_OUT_OF_COURT = (7, 75)
YJ_LAG_COURT = (30, 240)
YJ_AGED_18_SHARE = 0.03  # offended at 17, dealt with at 18: an adult first-time entrant, not a YJB one
EXCLUSION_REASONS = [
    "Physical assault against a pupil",
    "Physical assault against an adult",
    "Verbal abuse or threatening behaviour",
    "Use or threat of use of an offensive weapon",
    "Bullying",
    "Racist abuse",
    "Drug and alcohol related",
    "Damage",
    "Theft",
    "Persistent disruptive behaviour",
    "Other",
]
AE_SITES = [
    "Manchester Royal Infirmary",
    "Royal Manchester Children's Hospital",
    "Wythenshawe Hospital",
    "North Manchester General Hospital",
]
AE_METHODS = ["Body part", "Blunt object", "Knife or blade", "Firearm", "Glass or bottle", "Other", "Unknown"]
AE_METHOD_WEIGHTS = [55, 12, 10, 1, 9, 8, 5]
AE_LOCATIONS = ["Street", "Home", "Licensed premises", "School", "Public transport", "Other", "Unknown"]
AE_LOCATION_WEIGHTS = [35, 25, 18, 4, 5, 8, 5]
SEARCH_LEGISLATION = {
    "Misuse of Drugs Act 1971 (section 23)": ("Controlled drugs", 60),
    "Police and Criminal Evidence Act 1984 (section 1)": ("Offensive weapons", 30),
    "Criminal Justice and Public Order Act 1994 (section 60)": ("Offensive weapons", 10),
}
SEARCH_OUTCOMES = {
    "A no further action disposal": 70,
    "Arrest": 15,
    "Community resolution": 8,
    "Khat or Cannabis warning": 3,
    "Penalty Notice for Disorder": 2,
    "Summons / charged by post": 2,
}
ASB_REQUEST_CATEGORIES = {
    "Neighbour dispute": 25,
    "Noise": 20,
    "Intimidation or harassment": 15,
    "Public space ASB": 15,
    "Off-road bikes": 6,
    "Fly-tipping": 8,
    "Drug-related": 6,
    "Other": 5,
}
TREATMENT_SUBSTANCES = {"Opiate": 45, "Non-opiate only": 20, "Alcohol only": 25, "Non-opiate and alcohol": 10}
TREATMENT_EXITS = [
    "Dropped out",
    "Transferred in custody",
    "Transferred not in custody",
    "Treatment withdrawn",
    "Died",
    "Other",
]
REFERRALS = {"Criminal justice": 30, "Self": 35, "GP": 15, "Hospital": 8, "Social services": 7, "Other": 5}
ADMISSION_AGE_BANDS = {"0-17": 2, "18-24": 8, "25-34": 17, "35-49": 33, "50-64": 28, "65+": 12}

POPULATION_TOTAL = 552_000
# Terms: the month an attendance return is sent -> (term, month and day the term started).
TERMS = {12: ("Autumn", 9, 1), 3: ("Spring", 1, 4), 7: ("Summer", 4, 15)}
