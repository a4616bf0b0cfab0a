"""The fixed parts of the demo clinic: staff, rooms, services and name lists.

Arabic names are stored as typed (a few with harakat or hamza-less spellings, as real
records have them) so search normalisation has something to do.
"""

from __future__ import annotations

ORGANIZATION = {"name": "Al Noor Clinics", "name_translations": {"en": "Al Noor Clinics", "ar": "عيادات النور"}}

# key, en, ar, minutes, before, after, color, price
TYPES = (
    ("consult", "General consultation", "كشف عام", 20, 0, 5, "#4f8fd6", "150.00"),
    ("followup", "Follow-up visit", "زيارة متابعة", 10, 0, 0, "#5bb89a", "100.00"),
    ("dental", "Dental treatment", "علاج الأسنان", 40, 5, 5, "#e0a54b", "300.00"),
    ("skin", "Dermatology consultation", "استشارة جلدية", 30, 0, 5, "#c77dba", "200.00"),
    ("dressing", "Wound dressing", "غيار الجروح", 15, 0, 5, "#e07a6f", "80.00"),
    ("lab", "Blood test", "تحليل دم", 10, 0, 0, "#8c9bab", "120.00"),
)

SPLIT = ((900, 1300), (1600, 2100))  # two periods: morning and evening
DAY = ((800, 1600),)  # one period

# key, en, ar, category, specialty en, specialty ar, served type keys, periods
RESOURCES = (
    ("sarah", "Dr. Sarah Al-Qahtani", "د. سارة القحطاني", "doctors", "General practice", "طب عام",
     ("consult", "followup"), SPLIT),
    ("mohammed", "Dr. Mohammed Al-Otaibi", "د. محمد العتيبي", "doctors", "Pediatrics", "طب الأطفال",
     ("consult", "followup"), DAY),
    ("noura", "Dr. Noura Al-Shehri", "د. نورة الشهري", "doctors", "Dermatology", "الأمراض الجلدية",
     ("skin", "followup"), SPLIT),
    ("khalid", "Dr. Khalid Al-Zahrani", "د. خالد الزهراني", "doctors", "Dentistry", "طب الأسنان",
     ("dental", "followup"), DAY),
    ("reem", "Dr. Reem Al-Dosari", "د. ريم الدوسري", "doctors", "Family medicine", "طب الأسرة",
     ("consult", "followup"), SPLIT),
    ("fahad", "Dr. Fahad Al-Ghamdi", "د. فهد الغامدي", "doctors", "Internal medicine", "الباطنة",
     ("consult", "followup"), DAY),
    ("dressing", "Dressing room", "غرفة الغيار", "rooms", "Nursing", "التمريض", ("dressing",), DAY),
    ("lab", "Lab", "المختبر", "rooms", "Laboratory", "المختبر", ("lab",), DAY),
)

# (Arabic, Latin transliteration for e-mail addresses)
ARABIC_MALE = (
    ("محمد", "mohammed"), ("أحمد", "ahmed"), ("احمد", "ahmed"), ("عبدالله", "abdullah"),
    ("عبد الرحمن", "abdulrahman"), ("خالد", "khalid"), ("فيصل", "faisal"), ("سعود", "saud"),
    ("ابراهيم", "ibrahim"), ("إبراهيم", "ibrahim"), ("يوسف", "yousef"), ("عمر", "omar"),
    ("علي", "ali"), ("ماجد", "majed"), ("تركي", "turki"), ("سلطان", "sultan"), ("ناصر", "nasser"),
    ("مُحَمَّد", "mohammed"), ("بندر", "bandar"), ("مشعل", "mishal"),
)
ARABIC_FEMALE = (
    ("فاطمة", "fatimah"), ("فاطمه", "fatimah"), ("نورة", "noura"), ("سارة", "sarah"),
    ("ساره", "sarah"), ("عائشة", "aisha"), ("مريم", "maryam"), ("هيا", "haya"), ("لطيفة", "latifa"),
    ("ريم", "reem"), ("منيرة", "munira"), ("أمل", "amal"), ("امل", "amal"), ("جُمانة", "jumana"),
    ("شهد", "shahad"), ("لمى", "lama"), ("رهف", "rahaf"), ("دانة", "dana"),
)
ARABIC_FAMILY = (
    ("القحطاني", "alqahtani"), ("العتيبي", "alotaibi"), ("الشهري", "alshehri"),
    ("الغامدي", "alghamdi"), ("الزهراني", "alzahrani"), ("الدوسري", "aldosari"),
    ("الحربي", "alharbi"), ("المطيري", "almutairi"), ("الشمري", "alshammari"),
    ("العنزي", "alanazi"), ("السبيعي", "alsubaie"), ("الأحمدي", "alahmadi"),
    ("الاحمدي", "alahmadi"), ("البقمي", "albuqami"), ("السديري", "alsudairi"),
    ("آل سعود", "alsaud"), ("الفيفي", "alfaifi"), ("العُمري", "alomari"), ("الجهني", "aljohani"),
    ("باوزير", "bawazir"),
)
LATIN_FIRST = (
    "Ahmed", "Mohammed", "Omar", "Sarah", "Fatima", "John", "Maria", "Priya", "Rahul",
    "Jose", "Anna", "David", "Aisha", "Hassan", "Grace", "Imran", "Leila", "Michael",
    "Nadia", "Ravi", "Sofia", "Yusuf", "Emily", "Karim",
)
LATIN_LAST = (
    "Khan", "Smith", "Santos", "Sharma", "Haddad", "Nguyen", "Fernandes", "Ali", "Brown",
    "Hussain", "Reyes", "Patel", "Mansour", "Garcia", "Wilson", "Siddiqui", "Rahman", "Cruz",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
NOTES = (
    None, None, None, None, None, None, "Allergic to penicillin", "يفضل التواصل بالواتساب",
    "Prefers a female doctor", "مريض سكري", "Needs wheelchair access",
)
BOOKING_NOTES = (None, None, None, None, None, None, None, "First visit", "متابعة نتائج التحاليل",
                 "Referred by Dr. Al-Harbi", "طلب موعد مسائي")
