"""bioRxiv's and medRxiv's subjects as category codes: `biorxiv:neuroscience`,
`medrxiv:infectious_diseases` (the subject as the API spells it, lower case, spaces as
underscores), the codes profiles, topics and ingestion name beside arXiv's."""

from __future__ import annotations

import re

from digests.arxiv.taxonomy import is_arxiv_category

__all__ = [
    "SERVERS",
    "SUBJECTS",
    "category_known",
    "server_of",
    "subject_code",
    "subject_name",
]

SERVERS = ("biorxiv", "medrxiv")

# The subjects as the servers' sites name them (the API writes them in lower case, without the
# parenthesised part: "Infectious Diseases (except HIV/AIDS)" → "infectious diseases").
_NAMES = {
    "biorxiv": (
        "Animal Behavior and Cognition", "Biochemistry", "Bioengineering", "Bioinformatics",
        "Biophysics", "Cancer Biology", "Cell Biology", "Clinical Trials",
        "Developmental Biology", "Ecology", "Epidemiology", "Evolutionary Biology", "Genetics",
        "Genomics", "Immunology", "Microbiology", "Molecular Biology", "Neuroscience",
        "Paleontology", "Pathology", "Pharmacology and Toxicology", "Physiology",
        "Plant Biology", "Scientific Communication and Education", "Synthetic Biology",
        "Systems Biology", "Zoology",
    ),
    "medrxiv": (
        "Addiction Medicine", "Allergy and Immunology", "Anesthesia",
        "Cardiovascular Medicine", "Dentistry and Oral Medicine", "Dermatology",
        "Emergency Medicine", "Endocrinology (including Diabetes Mellitus and Metabolic Disease)",
        "Epidemiology", "Forensic Medicine", "Gastroenterology", "Genetic and Genomic Medicine",
        "Geriatric Medicine", "Health Economics", "Health Informatics", "Health Policy",
        "Health Systems and Quality Improvement", "Hematology", "HIV/AIDS",
        "Infectious Diseases (except HIV/AIDS)", "Intensive Care and Critical Care Medicine",
        "Medical Education", "Medical Ethics", "Nephrology", "Neurology", "Nursing",
        "Nutrition", "Obstetrics and Gynecology", "Occupational and Environmental Health",
        "Oncology", "Ophthalmology", "Orthopedics", "Otolaryngology", "Pain Medicine",
        "Palliative Medicine", "Pathology", "Pediatrics", "Pharmacology and Therapeutics",
        "Primary Care Research", "Psychiatry and Clinical Psychology",
        "Public and Global Health", "Radiology and Imaging",
        "Rehabilitation Medicine and Physical Therapy", "Respiratory Medicine",
        "Rheumatology", "Sexual and Reproductive Health", "Sports Medicine", "Surgery",
        "Toxicology", "Transplantation", "Urology",
    ),
}  # fmt: skip

_NOT_WORD = re.compile(r"[^a-z0-9]+")
CODE_MAX = 64  # Paper.primary_category's length


def subject_code(server: str, subject: str) -> str:
    """ "medrxiv", "Infectious Diseases (except HIV/AIDS)" → "medrxiv:infectious_diseases";
    "" when nothing is left of the subject."""
    words = _NOT_WORD.sub("_", subject.lower().split("(")[0]).strip("_")
    return f"{server}:{words}"[:CODE_MAX] if words else ""


# code → the subject's name, e.g. "biorxiv:cell_biology" → "Cell Biology".
SUBJECTS: dict[str, str] = {
    subject_code(server, name): name.split(" (")[0]
    for server, names in _NAMES.items()
    for name in names
}


def server_of(code: str) -> str:
    """ "biorxiv:neuroscience" → "biorxiv"; "" for an arXiv code."""
    prefix, sep, _ = code.partition(":")
    return prefix if sep and prefix in SERVERS else ""


def subject_name(code: str) -> str:
    return SUBJECTS.get(code, code)


def category_known(code: str) -> bool:
    """A code a profile or a topic may name: arXiv's, or a bioRxiv or medRxiv subject."""
    return is_arxiv_category(code) or code in SUBJECTS
