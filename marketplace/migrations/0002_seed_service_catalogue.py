"""Seed the service catalogue with categories, service types and their feature schemas."""

from django.db import migrations

BANDWIDTH = {"name": "bandwidth_mbps", "label": "Bandwidth", "type": "int", "unit": "Mbps", "min": 1, "max": 400000, "required": True}
SLA = {"name": "sla", "label": "Availability SLA", "type": "choice", "choices": ["best effort", "99.5%", "99.9%", "99.99%"], "required": True}
LINES = {"name": "lines", "label": "Number of lines", "type": "int", "min": 1, "max": 100000, "required": True}
CHANNELS = {"name": "channels", "label": "Concurrent channels", "type": "int", "min": 1, "max": 10000, "required": True}
STATIC_IPS = {"name": "static_ips", "label": "Static IP addresses", "type": "int", "min": 0, "max": 4096, "required": False}
MINUTES = {"name": "minutes_per_month", "label": "Minutes per month", "type": "int", "unit": "min", "min": 0, "max": 100000000, "required": False}
INTERNATIONAL = {"name": "international", "label": "International calling", "type": "bool", "required": False}
NUMBERS = {"name": "numbers", "label": "Phone numbers", "type": "int", "min": 1, "max": 10000, "required": True}
PARTICIPANTS = {"name": "participants", "label": "Participants per conference", "type": "int", "min": 2, "max": 10000, "required": True}
CARDS = {"name": "cards", "label": "Cards", "type": "int", "min": 1, "max": 10000, "required": True}
HANDSETS = {"name": "handsets", "label": "Handsets or SIMs", "type": "int", "min": 1, "max": 100000, "required": True}
DATA_GB = {"name": "data_gb", "label": "Data per line per month", "type": "int", "unit": "GB", "min": 0, "max": 10000, "required": False}
PAGERS = {"name": "pagers", "label": "Pagers", "type": "int", "min": 1, "max": 10000, "required": True}
REDUNDANCY = {"name": "redundancy", "label": "Diverse, redundant path", "type": "bool", "required": False}
LATENCY = {"name": "max_latency_ms", "label": "Maximum latency", "type": "int", "unit": "ms", "min": 1, "max": 1000, "required": False}
CLASSES = {"name": "classes_of_service", "label": "Classes of service", "type": "int", "min": 1, "max": 8, "required": False}
PREFIX = {"name": "destination_prefix", "label": "Destination prefix", "type": "text", "required": True}
ASR = {"name": "min_asr_pct", "label": "Minimum answer-seizure ratio", "type": "decimal", "unit": "%", "min": 0, "max": 100, "required": False}

CATALOGUE = [
    ("voice", "Voice", "Fixed-line calling for offices and contact centres.", "minute", [
        ("voice-complete", "Complete calling package", "Local, long-distance and international calling bundled per line.", [LINES, MINUTES, INTERNATIONAL]),
        ("voice-long-distance", "Long distance", "National and international long-distance calling.", [LINES, MINUTES, INTERNATIONAL]),
        ("voice-toll-free", "Toll free", "Numbers your customers call free of charge.", [NUMBERS, MINUTES]),
        ("voice-conferencing", "Conferencing", "Audio conference bridges.", [PARTICIPANTS, MINUTES]),
        ("voice-calling-card", "Calling card", "Cards for calls charged to the business.", [CARDS, MINUTES]),
        ("voice-sip-trunking", "SIP trunking", "Voice over IP trunks for your phone system.", [CHANNELS, NUMBERS, MINUTES, SLA]),
    ]),
    ("internet", "Internet", "Internet access for sites of every size.", "GB", [
        ("internet-dial-up", "Dial-up", "Dial-up access for legacy equipment and back-up.", [LINES]),
        ("internet-broadband", "Broadband", "Shared broadband (DSL, cable, fibre to the premises).", [BANDWIDTH, STATIC_IPS, SLA]),
        ("internet-dedicated", "Dedicated Internet access", "Uncontended, symmetric access with an SLA.", [BANDWIDTH, STATIC_IPS, SLA, REDUNDANCY]),
    ]),
    ("mobile", "Mobile", "Mobile services for staff on the move.", "GB", [
        ("mobile-plans", "Voice and data plans", "Mobile lines with minutes and data.", [HANDSETS, MINUTES, DATA_GB, INTERNATIONAL]),
        ("mobile-paging", "Paging", "Paging for on-call staff.", [PAGERS]),
        ("mobile-conferencing", "Mobile conferencing", "Conference calls from mobile phones.", [PARTICIPANTS, MINUTES]),
        ("mobile-calling-card", "Mobile calling card", "Calling cards usable from mobiles.", [CARDS, MINUTES]),
        ("mobile-dial-up", "Mobile dial-up", "Dial-up data over mobile networks.", [HANDSETS, DATA_GB]),
    ]),
    ("data", "Data networks", "Private networks linking your sites.", "GB", [
        ("data-mpls", "MPLS", "Private MPLS VPN between sites.", [BANDWIDTH, SLA, CLASSES, REDUNDANCY]),
        ("data-sd-wan", "SD-WAN", "Software-defined WAN over any access.", [BANDWIDTH, SLA, REDUNDANCY]),
        ("data-wavelength", "Wavelength", "Dedicated optical wavelengths.", [BANDWIDTH, SLA, LATENCY, REDUNDANCY]),
        ("data-ip-transit", "IP transit", "Transit to the whole Internet for networks.", [BANDWIDTH, SLA]),
    ]),
    ("routes", "Routes", "Route capacity for resellers and carriers.", "minute", [
        ("routes-voice-termination", "Voice termination", "Termination of calls to a destination prefix.", [PREFIX, MINUTES, ASR]),
        ("routes-capacity", "Capacity", "Bandwidth between two endpoints for a time window.", [BANDWIDTH, LATENCY]),
    ]),
]


def seed(apps, schema_editor):
    ServiceCategory = apps.get_model("marketplace", "ServiceCategory")
    ServiceType = apps.get_model("marketplace", "ServiceType")
    TermsDocument = apps.get_model("marketplace", "TermsDocument")
    for cat_pos, (code, name, description, unit, types) in enumerate(CATALOGUE):
        category, _ = ServiceCategory.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "position": cat_pos}
        )
        for pos, (type_code, type_name, type_description, features) in enumerate(types):
            ServiceType.objects.update_or_create(
                code=type_code,
                defaults={
                    "category": category,
                    "name": type_name,
                    "description": type_description,
                    "usage_unit": unit,
                    "features": features,
                    "position": pos,
                },
            )
    if not TermsDocument.objects.exists():
        from django.utils import timezone

        TermsDocument.objects.create(
            version=1,
            title="Switchboard marketplace terms",
            body=(
                "1. The buyer's acceptance of a bid forms a contract between the buyer and the carrier "
                "on the prices and term of the bid.\n\n"
                "2. The moderator invoices the buyer monthly for the contracted services and usage, "
                "and settles with the carrier less its commission.\n\n"
                "3. Invoices are due within the payment terms the buyer chose in the request.\n\n"
                "4. The carrier learns the buyer's identity only once the buyer has accepted these terms."
            ),
            published_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_core_models")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
