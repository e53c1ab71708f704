#!/usr/bin/env python3
"""Writes examples/fleet.toml, Vigie's demo fleet: several clients, a dozen sites, a few
hundred devices, with French names. Deterministic (fixed seed): run it twice, get the same
file. Usage: python3 scripts/generate-example-fleet.py"""

import os
import random

rng = random.Random(20261123)
out = []


def q(value):
    return '"' + str(value).replace('\\', '\\\\').replace('"', '\\"') + '"'


def table(kind, fields):
    out.append(f"[[{kind}]]")
    for key, value in fields:
        if value is None:
            continue
        out.append(f"{key} = {value}")
    out.append("")


def strings(values):
    return "[" + ", ".join(q(v) for v in values) + "]"


phone_counter = [0]


def phone(mobile=True):
    phone_counter[0] += 1
    n = phone_counter[0]
    prefix = "06 00" if mobile else "01 00"
    return f"{prefix} {n // 100 % 100:02d} {n % 100:02d} {rng.randrange(100):02d}"


CLIENTS = [
    {
        "ref": "CLI-BNF", "name": "Banque Nationale de France", "domain": "banque-exemple.fr",
        "contracts": [("CTR-BNF-2025", "premium", ["supervision", "round_the_clock", "dashboard", "direct_notifications"],
                       '{ p1 = { take_charge = "45min", on_site = "2h" }, p2 = { take_charge = "3h" } }')],
        "sites": [
            ("BNF-PAR-OPERA", "Agence Paris Opéra", "12 boulevard Haussmann, 75009 Paris", "critical", 0, 18),
            ("BNF-PAR-SIEGE", "Siège — La Défense", "1 parvis de la Défense, 92800 Puteaux", "critical", 0, 52),
            ("BNF-LYO-BELLECOUR", "Agence Lyon Bellecour", "4 place Bellecour, 69002 Lyon", "critical", 0, 14),
            ("BNF-MQ-FDF", "Agence Fort-de-France", "18 rue de la République, 97200 Fort-de-France", "standard", 1, 10),
        ],
    },
    {
        "ref": "CLI-MARCHE", "name": "Supermarchés Le Bon Marché du Coin", "domain": "marche-exemple.fr",
        "contracts": [("CTR-MARCHE-2024", "standard", ["supervision", "dashboard"], None)],
        "sites": [
            ("MARCHE-LIL-CENTRE", "Magasin Lille Centre", "25 rue Faidherbe, 59000 Lille", "standard", 2, 22),
            ("MARCHE-NAN-ILE", "Magasin Nantes Île de Nantes", "8 boulevard de la Prairie-au-Duc, 44200 Nantes", "standard", 2, 20),
            ("MARCHE-ENT-RUNGIS", "Entrepôt Rungis", "3 rue de la Tour, 94150 Rungis", "standard", "5%", 46),
        ],
    },
    {
        "ref": "CLI-CHU", "name": "Groupe Hospitalier Rhône-Alpes", "domain": "hopital-exemple.fr",
        "contracts": [("CTR-CHU-2025", "premium", ["supervision", "round_the_clock", "direct_notifications"], '{ p1 = { on_site = "1h30" } }')],
        "sites": [
            ("CHU-GRE-NORD", "Hôpital Grenoble Nord", "10 avenue du Maquis du Grésivaudan, 38700 La Tronche", "critical", 0, 40),
            ("CHU-CHB-SUD", "Clinique Chambéry Sud", "5 rue de la Cathédrale, 73000 Chambéry", "standard", 1, 16),
        ],
    },
    {
        "ref": "CLI-LOGI", "name": "Transports et Logistique Garonne", "domain": "logistique-exemple.fr",
        "contracts": [("CTR-LOGI-2023", "standard", ["supervision"], None)],
        "sites": [
            ("LOGI-TLS-PLATEFORME", "Plateforme Toulouse Fondeyre", "40 chemin de Fondeyre, 31200 Toulouse", "standard", "5%", 36),
            ("LOGI-BDX-QUAI", "Quai Bordeaux Bastide", "2 quai de Queyries, 33100 Bordeaux", "standard", 2, 18),
        ],
    },
    {
        "ref": "CLI-VILLE", "name": "Ville de Montpellier", "domain": "ville-exemple.fr",
        "contracts": [("CTR-VILLE-2025", "standard", ["supervision", "dashboard", "direct_notifications"], '{ p2 = { take_charge = "2h", client_update = "1h" } }')],
        # NOT-8 : la ville veut le passage en Critique après 6 h au lieu de 8 h.
        "contract_policy": '{ alarm = { major_to_critical_after = "6h" } }',
        "sites": [
            ("VILLE-MTP-CSU", "Centre de supervision urbaine", "1 place Georges-Frêche, 34000 Montpellier", "critical", 0, 30),
            ("VILLE-MTP-PARKING", "Parking Comédie", "Allée Jules-Milhau, 34000 Montpellier", "standard", 2, 24),
        ],
    },
]

FIRST = ["Claire", "Julien", "Sophie", "Thomas", "Camille", "Nicolas", "Émilie", "Antoine", "Léa", "Mathieu",
         "Chloé", "Hugo", "Manon", "Lucas", "Sarah", "Pierre", "Inès", "Romain", "Laura", "Maxime"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"]

CAMERA_MODELS = [("Axis P3265-LVE", "10.12.240", "/axis-media/media.amp"),
                 ("Hanwha XNV-8080R", "2.21.02", "/profile2/media.smp"),
                 ("Bosch FLEXIDOME IP 5000i", "8.71.0066", "/rtsp_tunnel"),
                 ("Hikvision DS-2CD2386G2", "V5.7.18", "/Streaming/Channels/101")]
PRIORITY_PLACES = ["Entrée principale", "Hall d'accueil", "Salle des coffres", "Zone caisses", "Accès livraisons",
                   "Sas d'entrée", "Local serveurs", "Accueil urgences", "Quai de chargement", "Portail nord"]
SECONDARY_PLACES = ["Parking niveau -1", "Parking niveau -2", "Couloir est", "Couloir ouest", "Escalier B",
                    "Cour intérieure", "Réserve", "Façade sud", "Toit terrasse", "Local vélos", "Cafétéria", "Ascenseurs"]


def person(i):
    return FIRST[i % len(FIRST)], LAST[(i * 7 + 3) % len(LAST)]


out.append("# Flotte d'exemple de Vigie : plusieurs clients, une douzaine de sites, quelques centaines")
out.append("# d'équipements. Fichier produit par scripts/generate-example-fleet.py : modifiez le script,")
out.append("# pas ce fichier. Format : docs/inventory.md. Adresses IP et numéros fictifs.")
out.append("")
out.append("version = 1")
out.append("")

person_index = 0
for client in CLIENTS:
    table("client", [("ref", q(client["ref"])), ("name", q(client["name"]))])

site_contacts = {}
for client in CLIENTS:
    short = client["ref"].removeprefix("CLI-")
    roles_plan = [("DSI", ["cio"]), ("DIR", ["management"]), ("TECH", ["technical_contact"])]
    for suffix, roles in roles_plan:
        first, last = person(person_index)
        person_index += 1
        table("contact", [("ref", q(f"CT-{short}-{suffix}")), ("client", q(client["ref"])), ("name", q(f"{first} {last}")),
                          ("roles", strings(roles)),
                          ("email", q(f"{first[0].lower()}.{last.lower().replace('è', 'e').replace('é', 'e')}@{client['domain']}")),
                          ("phone", q(phone(mobile=suffix != "DIR")))])
    for site in client["sites"]:
        first, last = person(person_index)
        person_index += 1
        contact_ref = f"CT-{site[0]}-RS"
        table("contact", [("ref", q(contact_ref)), ("client", q(client["ref"])), ("name", q(f"{first} {last}")),
                          ("roles", strings(["security_manager"])),
                          ("email", q(f"securite.{site[0].lower()}@{client['domain']}")),
                          ("phone", q(phone()))])
        site_contacts[site[0]] = contact_ref

for client in CLIENTS:
    for ref, tier, options, sla in client["contracts"]:
        short = client["ref"].removeprefix("CLI-")
        # DSH-2: the monthly supervision report goes to the client's CIO and management.
        table("contract", [("ref", q(ref)), ("client", q(client["ref"])), ("tier", q(tier)), ("options", strings(options)), ("sla", sla),
                           ("report_contacts", strings([f"CT-{short}-DSI", f"CT-{short}-DIR"])),
                           ("policy", client.get("contract_policy"))])

STAFF = [
    ("ST-DIRECTION-TECH", "Bruno Lemaire", ["technical_manager"], None),
    ("ST-EXPLOITATION", "Nathalie Girard", ["operations_manager"], None),
    ("ST-ASTREINTE-RESP", "Olivier Mercier", ["on_call_manager"], "ST-DIRECTION-TECH"),
    ("ST-INGENIEUR", "Isabelle Faure", ["referent_engineer"], "ST-DIRECTION-TECH"),
    ("ST-ADMIN", "Karim Benali", ["administrator"], "ST-EXPLOITATION"),
    ("ST-SUPERVISION-1", "Aurélie Chevalier", ["supervision"], "ST-EXPLOITATION"),
    ("ST-SUPERVISION-2", "Yanis Morel", ["supervision"], "ST-EXPLOITATION"),
    ("ST-SUPERVISION-3", "Margaux Blanc", ["supervision"], "ST-EXPLOITATION"),
    ("ST-CHEF-NORD", "Sébastien Gauthier", ["technician", "on_call_manager"], "ST-DIRECTION-TECH"),
    ("ST-CHEF-SUD", "Valérie Perrin", ["technician", "on_call_manager"], "ST-DIRECTION-TECH"),
    ("ST-TECH-01", "Kevin Lambert", ["technician"], "ST-CHEF-NORD"),
    ("ST-TECH-02", "Amandine Roussel", ["technician"], "ST-CHEF-NORD"),
    ("ST-TECH-03", "Mehdi Haddad", ["technician"], "ST-CHEF-NORD"),
    ("ST-TECH-04", "Julie Fontaine", ["technician"], "ST-CHEF-SUD"),
    ("ST-TECH-05", "Florian Mathieu", ["technician"], "ST-CHEF-SUD"),
    ("ST-TECH-06", "Océane Brun", ["technician"], "ST-CHEF-SUD"),
]
for ref, name, roles, manager in STAFF:
    login = name.split()[0][0].lower() + "." + name.split()[1].lower()
    for a, b in (("é", "e"), ("è", "e"), ("ç", "c"), ("ï", "i")):
        login = login.replace(a, b)
    table("staff", [("ref", q(ref)), ("name", q(name)), ("roles", strings(roles)),
                    ("email", q(f"{login}@integrateur-exemple.fr")), ("phone", q(phone())),
                    ("manager", q(manager) if manager else None)])

WINDOWS = {
    "BNF-PAR-SIEGE": '[{ label = "Maintenance hebdomadaire", days = ["sunday"], start = "02:00", duration = "3h" }]',
    "MARCHE-ENT-RUNGIS": '[{ label = "Mise à jour VMS", days = ["tuesday", "thursday"], start = "05:00", duration = "1h" }]',
    "CHU-GRE-NORD": '[{ days = ["saturday"], start = "23:30", duration = "2h30", time_zone = "Europe/Paris" }]',
    "BNF-MQ-FDF": '[{ label = "Maintenance locale", days = ["sunday"], start = "06:00", duration = "2h", time_zone = "America/Martinique" }]',
    "LOGI-TLS-PLATEFORME": '[{ days = ["monday", "tuesday", "wednesday", "thursday", "friday"], start = "12:30", duration = "30min" }]',
}
POLICIES = {
    # DEC-1 : salle serveurs ventilée autrement, seuil Majeur à 75 °C sur ce site.
    "BNF-PAR-SIEGE": '{ thresholds = { temperature_major_celsius = 75 } }',
}
for client in CLIENTS:
    contract = client["contracts"][0][0]
    short = client["ref"].removeprefix("CLI-")
    for ref, name, address, criticality, tolerance, _ in client["sites"]:
        tolerance_value = q(tolerance) if isinstance(tolerance, str) else str(tolerance)
        table("site", [("ref", q(ref)), ("client", q(client["ref"])), ("contract", q(contract)), ("name", q(name)),
                       ("address", q(address)),
                       ("time_zone", q("America/Martinique") if ref.startswith("BNF-MQ") else None),
                       ("criticality", q(criticality)), ("offline_tolerance", tolerance_value),
                       ("security_manager", q(site_contacts[ref])), ("technical_contact", q(f"CT-{short}-TECH")),
                       ("maintenance_windows", WINDOWS.get(ref)),
                       ("policy", POLICIES.get(ref))])

subnet = 10
for client in CLIENTS:
    for site_ref, site_name, _, criticality, _, cameras in client["sites"]:
        subnet += 1
        ip = lambda host: q(f"10.{subnet // 250 + 20}.{subnet % 250}.{host}")
        core = f"{site_ref}-SW-CORE"
        table("equipment", [("ref", q(core)), ("site", q(site_ref)), ("name", q("Commutateur de cœur")), ("kind", q("switch")),
                            ("address", ip(2)), ("model", q("Cisco Catalyst 9300-24P")), ("firmware", q("17.9.4a")),
                            ("checks", '{ ping = {}, snmp = { version = "2c", community = "vigie-ro" } }')])
        access_switches = []
        for n in range(1, 1 + max(1, cameras // 16)):
            sw = f"{site_ref}-SW-{n:02d}"
            access_switches.append(sw)
            table("equipment", [("ref", q(sw)), ("site", q(site_ref)), ("name", q(f"Commutateur d'accès {n}")), ("kind", q("switch")),
                                ("address", ip(2 + n)), ("parent", q(core)), ("model", q("Netgear M4250-10G2F-PoE+")), ("firmware", q("13.0.4.26")),
                                ("checks", '{ ping = {}, snmp = { version = "2c", community = "vigie-ro" } }')])
        recorders = []
        if cameras > 30:
            vms = f"{site_ref}-VMS-01"
            recorders.append(vms)
            table("equipment", [("ref", q(vms)), ("site", q(site_ref)), ("name", q("Serveur VMS Milestone")), ("kind", q("vms_server")),
                                ("address", ip(10)), ("parent", q(core)), ("model", q("Dell PowerEdge R750")), ("firmware", q("Milestone XProtect 2024 R2")),
                                ("checks", '{ ping = {}, agent = {}, snmp = { version = "3", user = "vigie", auth_protocol = "SHA", auth_password = "auth-a-changer", privacy_protocol = "AES", privacy_password = "priv-a-changer", template = "linux-net-snmp" } }')])
        for n in range(1, 1 + max(1, cameras // 20)):
            nvr = f"{site_ref}-NVR-{n:02d}"
            recorders.append(nvr)
            table("equipment", [("ref", q(nvr)), ("site", q(site_ref)), ("name", q(f"Enregistreur NVR {n}")), ("kind", q("nvr")),
                                ("address", ip(20 + n)), ("parent", q(core)), ("model", q("Linux NVR 32 voies")), ("firmware", q("Debian 12 / VMS 6.4")),
                                ("checks", '{ ping = {}, agent = {}, snmp = { version = "2c", community = "vigie-ro", template = "linux-net-snmp" } }')])
        table("equipment", [("ref", q(f"{site_ref}-UPS-01")), ("site", q(site_ref)), ("name", q("Onduleur baie principale")), ("kind", q("power_supply")),
                            ("address", ip(30)), ("parent", q(core)), ("model", q("APC Smart-UPS SRT 3000")), ("firmware", q("UPS 15.5")),
                            ("checks", '{ ping = {}, snmp = { version = "2c", community = "vigie-ro" } }')])
        table("equipment", [("ref", q(f"{site_ref}-ACC-01")), ("site", q(site_ref)), ("name", q("Centrale de contrôle d'accès")), ("kind", q("access_control")),
                            ("address", ip(40)), ("parent", q(core)), ("model", q("Synchronic SynApps")), ("firmware", q("4.2.1")),
                            ("checks", '{ ping = {}, tcp = { port = 443 } }')])
        priority_count = max(2, cameras // 3 if criticality == "critical" else cameras // 5)
        for n in range(1, cameras + 1):
            priority = n <= priority_count
            places = PRIORITY_PLACES if priority else SECONDARY_PLACES
            place = places[(n - 1) % len(places)]
            model, firmware, path = CAMERA_MODELS[(n + subnet) % len(CAMERA_MODELS)]
            if rng.random() < 0.08:
                firmware = firmware + "-ancien"
            cam = f"{site_ref}-CAM-{n:03d}"
            if n % 17 == 0:
                checks = '{ heartbeat = { interval = "60s" } }'
            else:
                checks = f'{{ ping = {{}}, onvif = {{ username = "vigie", password = "onvif-a-changer" }}, rtsp = {{ path = {q(path)} }} }}'
            table("equipment", [("ref", q(cam)), ("site", q(site_ref)), ("name", q(f"Caméra {place.lower() if n > len(places) else place} {n}" if n > len(places) else f"Caméra {place}")),
                                ("kind", q("camera")), ("camera_role", q("priority" if priority else "secondary")),
                                ("address", ip(100 + n)), ("parent", q(access_switches[(n - 1) % len(access_switches)])),
                                ("model", q(model)), ("firmware", q(firmware)), ("checks", checks)])

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fleet.toml")
with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(out).rstrip("\n") + "\n")
