"""The scoring bench's synthetic day: a seeded vocabulary, papers and reader profiles.

Titles of ~10 words and abstracts of ~180 words from a Zipf-distributed vocabulary of ~5,000
words plus domain phrases, 3–10 authors from a pool of 20,000, 1–3 affiliations, 1–3
categories, mixed announce types, 0–3 topic hits; profiles with topics, keywords, excluded
keywords, followed authors and institutions, categories, free text, seed papers and feedback.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from digests.scoring.rows import PaperRow, ProfileRow

__all__ = ["Corpus"]

SPECIFIC_RANK = 300  # single-word keywords: content words from this rank on (rarer ones)
TOPICS_JSON = (
    Path(__file__).resolve().parent.parent / "digests" / "catalogue" / "default_topics.json"
)


def _listed(text: str) -> list[str]:
    """A list written as one string of space-separated items."""
    return text.split()


# The most frequent words of English prose, then of scientific abstracts, head the vocabulary.
FUNCTION_WORDS = _listed(
    "the of and to a in is we that for on with this by as are an be our from which it can these "
    "at or not show its both two more than such also between their has have using used into "
    "over under while when each where been however only other all most new well may they then "
    "further both here thus first through how about them one three whose across many very"
)
SCIENCE_WORDS = _listed(
    "model models method methods results data learning network networks performance approach "
    "problem training based proposed paper framework algorithm analysis task tasks large "
    "different time show state propose distribution information set function structure system "
    "systems study energy field neural existing dataset datasets efficient evaluation prediction "
    "accuracy optimal image images language theory experiments quantum parameters estimation "
    "representation graph sample samples error bound linear robust general process features "
    "simulation dynamics"
)
SYLLABLES = _listed(
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge go la le li lo lu ma me mi "
    "mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi "
    "vo za zo ka ke ki ko tra tre tri pro pre pla ple cla cre gra gro sta ste sto spe"
)
SUFFIXES = ("", "", "", "tion", "ing", "al", "ity", "ic", "ive", "ment", "ous", "er", "ism", "ed")

# Domain phrases by topic slug: what papers say and what readers type as keywords.
THEMES = {
    "llm": ["large language models", "in-context learning", "instruction tuning", "LLMs"],
    "post-training": [
        "reinforcement learning from human feedback",
        "direct preference optimization",
        "reward model",
        "supervised fine-tuning",
    ],
    "llm-reasoning": ["chain-of-thought", "mathematical reasoning", "test-time scaling"],
    "llm-agents": ["tool use", "web agents", "multi-agent collaboration"],
    "llm-efficiency": ["speculative decoding", "KV cache compression", "quantization"],
    "rag": ["retrieval-augmented generation", "dense retrieval", "reranking"],
    "diffusion-language-models": ["diffusion language models", "masked diffusion"],
    "image-video-generation": ["diffusion models", "video generation", "text-to-image"],
    "computer-vision": ["object detection", "semantic segmentation", "vision transformers"],
    "3d-vision": ["neural radiance fields", "Gaussian splatting", "3D reconstruction"],
    "robot-learning": ["imitation learning", "vision-language-action models", "sim-to-real"],
    "reinforcement-learning": [
        "reinforcement learning",
        "policy gradient",
        "offline reinforcement learning",
        "Markov decision process",
    ],
    "graph-learning": ["graph neural networks", "message passing", "link prediction"],
    "causal-inference": ["causal inference", "treatment effects", "instrumental variables"],
    "statistical-ml": ["conformal prediction", "generalization bound", "kernel methods"],
    "bayesian-statistics": ["variational inference", "Markov chain Monte Carlo", "posterior"],
    "optimization": ["stochastic gradient descent", "convex optimization", "convergence rate"],
    "quantum-computing": ["quantum circuits", "variational quantum eigensolver", "qubits"],
    "quantum-error-correction": [
        "quantum error correction",
        "surface code",
        "logical qubits",
        "fault-tolerant",
    ],
    "superconductivity": ["high-temperature superconductivity", "Cooper pairs"],
    "cosmology-galaxies": ["dark matter", "galaxy formation", "cosmic microwave background"],
    "protein-molecular-modeling": ["protein structure prediction", "molecular dynamics"],
    "privacy-preserving-ml": ["differential privacy", "federated learning"],
    "audio-speech": ["speech recognition", "text-to-speech", "audio language models"],
}
DOMAIN_PHRASES = [phrase for phrases in THEMES.values() for phrase in phrases]

CATEGORIES = _listed(
    "cs.CL cs.LG cs.AI cs.CV cs.RO cs.IR cs.CR cs.DC cs.NE cs.SE cs.HC cs.DS cs.IT cs.MA cs.SD "
    "cs.GT cs.DB cs.NI stat.ML stat.ME stat.TH stat.AP stat.CO math.OC math.ST math.PR math.NA "
    "quant-ph cond-mat.mtrl-sci cond-mat.supr-con cond-mat.str-el astro-ph.CO astro-ph.GA hep-th "
    "hep-ph q-bio.BM q-bio.GN q-bio.NC q-fin.ST eess.AS eess.IV eess.SP physics.comp-ph"
)

FIRST_NAMES = _listed(
    "Wei Li Yang Jun Mei Xin Hao Yu Jing Lei Tao Yan Ying Chen Hui Bo Feng Qiang Zhi Ning Kai Rui "
    "Anna James Maria John David Sarah Michael Laura Robert Emma Thomas Julia Daniel Sofia Paul "
    "Elena Peter Clara Mark Alice Lucas Marta Jonas Eva Felix Lena Carlos Ana Diego Lucia Pablo "
    "Yuki Hiroshi Kenji Aiko Takeshi Haruto Min-jun Seo-yeon Ji-ho Omar Fatima Ahmed Leila Ali "
    "Priya Arjun Rahul Ananya Vikram Sanjay Deepa Olga Ivan Dmitri Natasha Sergei Zoë Chloé "
    "Søren Björn Ingrid Astrid Mateo Valentina Giulia Marco Luca Francesca Kofi Amara Chidi Ngozi "
    "Mehmet Ayşe Emre Zeynep Nikos Eleni Tomasz Agnieszka Jakub Petra Lars Nils Hana Minh Linh "
    "Thanh Duc Siddharth Kavya Ravi Meera Samuel Rebecca Nathan Grace Oliver Amelia Henry Isla"
)
LAST_NAMES = _listed(
    "Zhang Wang Li Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng "
    "Liang Xie Tang Han Cao Deng Feng Smith Johnson Williams Brown Jones Garcia Miller Davis "
    "Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Taylor Thomas Moore Jackson "
    "Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott "
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schäfer Koch Richter "
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Dubois Durand Lefebvre Moreau "
    "Laurent Tanaka Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Kim Park Choi "
    "Jung Kang Cho Yoon Jang Lim Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Singh Kumar "
    "Sharma Patel Gupta Reddy Iyer Nair Rao Das Ivanov Smirnov Kuznetsov Popov Sokolov Novak "
    "Kowalski Wiśniewski Nowak Dvořák Horváth Nagy Yılmaz Kaya Demir Şahin Çelik Papadopoulos "
    "Georgiou Andersen Nielsen Hansen Johansson Karlsson Larsson Jensen Berg Haugen Virtanen "
    "Korhonen Okafor Mensah Adeyemi Mwangi Haddad Khalil Hassan Rahman Hosseini Cohen Levi "
    "Friedman Silva Santos Oliveira Souza Pereira Costa Fernandes Alves Ramos Ortiz Navarro Ruiz"
)
PLACES = _listed(
    "Oxford Cambridge Stanford Princeton Harvard Yale Chicago Toronto Montreal Waterloo Edinburgh "
    "Manchester Bristol Zurich Geneva Lausanne Munich Berlin Heidelberg Bonn Paris Lyon Grenoble "
    "Amsterdam Delft Leiden Copenhagen Stockholm Uppsala Oslo Helsinki Vienna Prague Warsaw "
    "Milan Rome Turin Madrid Barcelona Lisbon Tokyo Kyoto Osaka Seoul Busan Beijing Shanghai "
    "Nanjing Hangzhou Wuhan Shenzhen Hong-Kong Singapore Taipei Sydney Melbourne Auckland "
    "Bangalore Delhi Mumbai Chennai Haifa Tel-Aviv Cairo Nairobi Lagos Cape-Town Santiago "
    "Buenos-Aires Sao-Paulo Mexico Austin Seattle Boston Atlanta Houston Michigan Wisconsin "
    "Illinois Maryland Virginia Utah Arizona Texas Washington Pennsylvania Columbia Tsinghua "
    "Peking Fudan Zhejiang Sichuan Nankai Tohoku Hokkaido KAIST POSTECH Yonsei Tübingen Göttingen"
)
INSTITUTION_FORMS = (
    "University of {}",
    "{} University",
    "{} Institute of Technology",
    "{} Institute for Advanced Study",
    "{} Research Center",
    "National Laboratory of {}",
)
COMPANIES = (
    "Google DeepMind",
    "Microsoft Research",
    "Meta AI",
    "OpenAI",
    "Anthropic",
    "NVIDIA Research",
    "IBM Research",
    "Amazon Science",
    "Alibaba DAMO Academy",
    "ByteDance Seed",
    "Tencent AI Lab",
    "Huawei Noah's Ark Lab",
    "Shanghai AI Laboratory",
    "Max Planck Institute for Intelligent Systems",
    "Allen Institute for AI",
    "Mila Quebec AI Institute",
    "Vector Institute",
    "CNRS",
    "Inria",
    "CERN",
)
DEPARTMENTS = (
    "Department of Computer Science",
    "School of Physics",
    "Department of Statistics",
    "Department of Electrical Engineering",
    "Department of Mathematics",
    "School of Artificial Intelligence",
)
INTEREST_FORMS = (
    "I work on {p} and care about {a} {b} for {c} {d}",
    "papers about {p} especially {a} methods with {b} and {c}",
    "interested in {p} applied to {a} {b} and {c} {d} problems",
    "new results on {p}, {a} {b}, and theory of {c}",
)


class Corpus:
    """The vocabulary, the pools and a seeded generator of papers and profiles."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        words = list(dict.fromkeys(FUNCTION_WORDS + SCIENCE_WORDS))
        seen = set(words)
        while len(words) < 5000:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            word += rng.choice(SUFFIXES)
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        self.cum = _zipf_cumulative(len(words))
        first_content = len(dict.fromkeys(FUNCTION_WORDS))
        self.content = words[first_content:]
        self.content_cum = _zipf_cumulative(len(self.content))

        names: set[tuple[str, str]] = set()
        while len(names) < 20_000:
            names.add((rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)))
        self.authors = sorted(names)
        rng.shuffle(self.authors)

        institutions = set(COMPANIES)
        while len(institutions) < 500:
            place = rng.choice(PLACES).replace("-", " ")
            institutions.add(rng.choice(INSTITUTION_FORMS).format(place))
        self.institutions = sorted(institutions)
        self.slugs, self.parents = _topics()

    def _words(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)

    def _content(self, k: int) -> list[str]:
        return self.rng.choices(self.content, cum_weights=self.content_cum, k=k)

    def _themes(self) -> list[str]:
        return self.rng.sample(list(THEMES), self.rng.choice((1, 1, 2)))

    def _text(self, themes: list[str]) -> tuple[str, str]:
        """A title of ~10 words and an abstract of ~180 words with the themes' phrases."""
        rng = self.rng
        phrases = [p for t in themes for p in THEMES[t]]
        title = self._content(rng.randint(6, 10))
        if rng.random() < 0.7:
            title.insert(rng.randrange(len(title) + 1), rng.choice(phrases))
        title[0] = title[0].capitalize()
        words = self._words(rng.randint(150, 200))
        for _ in range(rng.randint(2, 6)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(phrases))
        sentences, start = [], 0
        while start < len(words):
            end = start + rng.randint(14, 26)
            sentence = " ".join(words[start:end])
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
            start = end
        return " ".join(title), " ".join(sentences)

    def papers(self, n: int) -> list[PaperRow]:
        rng = self.rng
        rows = []
        for k in range(n):
            themes = self._themes()
            title, abstract = self._text(themes)
            initials = rng.random() < 0.15  # the whole author list as "Y. Yang"
            authors = []
            for first, last in rng.sample(self.authors, rng.randint(3, 10)):
                authors.append(f"{first[0]}. {last}" if initials else f"{first} {last}")
            affiliations = []
            for institution in rng.sample(self.institutions, rng.randint(1, 3)):
                if rng.random() < 0.5:
                    institution = f"{rng.choice(DEPARTMENTS)}, {institution}"
                affiliations.append(institution)
            announce = rng.choices(
                ("new", "cross", "replace", "replace-cross"), weights=(70, 10, 15, 5)
            )[0]
            # 0–3 topic hits, the paper's own themes first
            slugs = list(dict.fromkeys(themes + rng.sample(self.slugs, 3)))[: rng.randint(0, 3)]
            hits = {slug: float(rng.randint(40, 95)) for slug in slugs}
            rows.append(
                PaperRow(
                    id=k + 1,
                    title=title,
                    abstract=abstract,
                    authors=authors,
                    affiliations=affiliations,
                    categories=rng.sample(CATEGORIES, rng.randint(1, 3)),
                    announce_type=announce,
                    topic_hits=hits,
                )
            )
        return rows

    def texts(self, n: int) -> list[str]:
        """Titles and abstracts that readers gave as seed papers or feedback."""
        return ["\n".join(self._text(self._themes())) for _ in range(n)]

    def _keyword(self) -> str:
        rng = self.rng
        draw = rng.random()
        if draw < 0.5:
            return rng.choice(DOMAIN_PHRASES)
        if draw < 0.8:  # a specific word: the commonest ones would match most abstracts
            return rng.choice(self.content[SPECIFIC_RANK:])
        return " ".join(self._content(2))

    def profiles(self, n: int, texts: list[str]) -> list[ProfileRow]:
        rng = self.rng
        rows = []
        for k in range(n):
            interests = ""
            if rng.random() < 0.3:
                a, b, c, d = self._content(4)
                form = rng.choice(INTEREST_FORMS)
                interests = form.format(p=rng.choice(DOMAIN_PHRASES), a=a, b=b, c=c, d=d)
            feedback = rng.random() < 0.05
            rows.append(
                ProfileRow(
                    id=k + 1,
                    topics=rng.sample(self.slugs, rng.randint(0, 3)),
                    keywords=[self._keyword() for _ in range(rng.randint(2, 6))],
                    exclude_keywords=[self._keyword() for _ in range(rng.randint(0, 1))],
                    authors=[
                        " ".join(name) for name in rng.sample(self.authors, rng.randint(0, 3))
                    ],
                    institutions=rng.sample(self.institutions, rng.randint(0, 1)),
                    categories=rng.sample(CATEGORIES, rng.randint(1, 3)),
                    interests=interests,
                    seed_texts=[rng.choice(texts)] if rng.random() < 0.1 else [],
                    more_texts=rng.sample(texts, rng.randint(1, 3)) if feedback else [],
                    less_texts=rng.sample(texts, rng.randint(1, 3)) if feedback else [],
                    include_updates=rng.random() < 0.1,
                )
            )
        return rows


def _zipf_cumulative(n: int) -> list[float]:
    """Cumulative Zipf–Mandelbrot weights 1 / (rank + 2.7)^1.05."""
    weights = 1.0 / (np.arange(1, n + 1) + 2.7) ** 1.05
    return np.cumsum(weights).tolist()


def _topics() -> tuple[list[str], dict[str, str]]:
    """The catalogue's 36 slugs and their parents."""
    entries = json.loads(TOPICS_JSON.read_text())
    slugs = [e["slug"] for e in entries]
    parents = {e["slug"]: e["parent"] for e in entries if e.get("parent")}
    return slugs, parents
