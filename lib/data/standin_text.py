"""Offline stand-ins for GLUE SST-2 and AG News (the stand-in model: ``lib.data.standin_model``).

Not the real data sets or weights. Text comes from small grammars, deterministic from a
seed, generated in seconds and written as one parquet file per split with the Hub
columns and features, so ``lib.data.text`` loads them with ``load_dataset("parquet")``
through the same tokenisation and caching path as the real data:

* SST-2 (``sentence``/``label``/``idx``): film-review clauses whose polarity comes from
  sentiment words, flipped by negation ("is n't good", "never works"), scaled by
  intensifiers and down-toners, re-weighted by contrast ("X , but Y": Y counts more),
  wrapped in neutral filler; near-ties get a coin-flip label (ambiguous reviews).
* AG News (``text``/``label``): "Headline (Agency) Agency - body" articles; each
  article mixes its topic's vocabulary with a second topic's (more often for the
  Business/Sci-Tech and World/Business pairs), topics share some words and all share
  filler; made-up names (people, places, companies, teams) give subword structure.

``labelled_standin_corpus`` gives the corpus the stand-in model is built from.
"""

from __future__ import annotations

import fcntl
import json
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datasets import ClassLabel, Dataset, Features, Value

from lib.atomic import atomic_path, write_text_atomic

GENERATOR_NAME = "lib.data.standin_text"
GENERATOR_VERSION = 1  # the data sets
STANDIN_FILE = "STANDIN.json"
NOTE = "offline stand-in, not the real dataset"

SST2_FEATURES = Features({"sentence": Value("string"),
                          "label": ClassLabel(names=["negative", "positive"]),
                          "idx": Value("int32")})
AGNEWS_FEATURES = Features({"text": Value("string"),
                            "label": ClassLabel(names=["World", "Sports", "Business", "Sci/Tech"])})
# task -> (split name -> size parameter name, features)
TASK_SPLITS: dict[str, tuple[dict[str, str], Features]] = {
    "sst2": ({"train": "n_train", "validation": "n_validation"}, SST2_FEATURES),
    "agnews": ({"train": "n_train", "test": "n_test"}, AGNEWS_FEATURES),
}

# ---------------------------------------------------------------- SST-2 grammar
_POS = ("good great charming moving funny clever delightful brilliant warm engaging witty "
        "touching gripping beautiful smart fresh lovely powerful tender inventive "
        "entertaining compelling memorable heartfelt stunning").split()
_NEG = ("bad dull boring tedious clumsy flat lifeless awful predictable shallow bland messy "
        "pointless tiresome silly stale sloppy forgettable lazy hollow cheap overlong muddled "
        "painful weak").split()
_POS_VERB = [("works", "work"), ("succeeds", "succeed"), ("shines", "shine"), ("delivers", "deliver"),
             ("soars", "soar"), ("sparkles", "sparkle"), ("charms", "charm"), ("satisfies", "satisfy")]
_NEG_VERB = [("fails", "fail"), ("drags", "drag"), ("stumbles", "stumble"), ("misfires", "misfire"),
             ("collapses", "collapse"), ("disappoints", "disappoint"), ("falters", "falter"),
             ("bores", "bore")]
_STRONG = "very really truly remarkably utterly thoroughly extremely incredibly".split()
_WEAK = ["somewhat", "rather", "slightly", "a bit", "mildly", "fairly"]
_NEG_COP = ["is not", "is n't", "is never", "is hardly", "is far from", "does not feel", "never feels"]
_NEG_AUX = ["does n't", "does not", "never", "can not", "fails to"]
_NOUN = ("film movie picture story script plot cast dialogue direction ending score humor premise "
         "soundtrack screenplay pacing comedy drama thriller documentary sequel romance "
         "performance").split()
_NEUTRAL_ADJ = ("new latest french two-hour animated low-budget long-awaited final whole first "
                "british big-screen").split()
_DET = ["the", "this", "its", "the whole", "that"]
_PREFIX = ["in the end ,", "for the most part ,", "as a whole ,", "at times ,", "on the surface ,",
           "by the third act ,", "to be fair ,", "from the opening scene ,"]
_SUFFIX = ["for two hours", "from start to finish", "about a family in {place}", "despite its budget",
           "for fans of the genre", "as the credits roll", "directed by {person}",
           "based on a novel by {person}", "with {person} in the lead"]
# connector, factor applied to the score so far (contrast: the later clause counts more)
_CONNECT = [("and", 1.0), (", but", 0.5), ("; still ,", 0.5), (", and yet", 0.5), (", while", 1.0)]

# -------------------------------------------------------------- AG News grammar
_TOPICS: dict[int, dict[str, list[str]]] = {
    0: {"noun": ("government minister president election troops rebels ceasefire embassy parliament "
                 "protest refugees border sanctions diplomats militants capital opposition peace "
                 "summit treaty army police hostages republic constitution referendum insurgents "
                 "envoy").split(),
        "verb": "killed seized condemned urged warned accused elected fled arrested vowed bombed".split(),
        "adj": "nuclear military foreign civil diplomatic humanitarian armed disputed interim".split(),
        "agency": ["Canadian Press", "Xinhua"]},
    1: {"noun": ("team coach season game match league championship title victory defeat striker "
                 "quarterback goal points playoff tournament injury stadium fans medal final "
                 "innings pitcher goalkeeper squad race cup").split(),
        "verb": "beat scored won defeated signed clinched edged rallied lost tied drafted".split(),
        "adj": "unbeaten home second-half injured top-seeded defending veteran".split(),
        "agency": ["Sports Network", "SportsTicker"]},
    2: {"noun": ("shares stocks profit earnings quarter investors merger bank revenue sales economy "
                 "inflation bonds dollar retailer takeover analysts dividend forecast growth prices "
                 "airline insurer lender buyout").split(),
        "verb": "rose fell reported posted acquired agreed cut raised slipped jumped merged".split(),
        "adj": "quarterly fiscal annual economic federal corporate higher lower financial".split(),
        "agency": ["Forbes", "MarketWatch"]},
    3: {"noun": ("software internet computer users researchers scientists space chip network phone "
                 "web virus browser satellite planet genome technology version update server spam "
                 "hackers database laptop processor telescope species").split(),
        "verb": "released unveiled discovered developed patched detected upgraded orbited".split(),
        "adj": "digital online wireless mobile scientific open-source broadband genetic".split(),
        "agency": ["TechWeb", "Space.com", "PC World"]},
}
_SHARED = {"market": (2, 3), "deal": (1, 2), "record": (1, 2), "attack": (0, 3), "security": (0, 3),
           "contract": (1, 2), "talks": (0, 2), "oil": (0, 2), "olympic": (0, 1), "launch": (2, 3),
           "players": (1, 3), "strike": (0, 1)}
for _word, _pair in _SHARED.items():
    for _t in _pair:
        _TOPICS[_t]["noun"].append(_word)
# second-topic weights per topic (Business/Sci-Tech and World/Business confuse most)
_CONFUSE = {0: (0, 1, 3, 1), 1: (2, 0, 1, 1), 2: (3, 1, 0, 4), 3: (1, 1, 4, 0)}
_ENTITY_KINDS = {0: ("person", "place"), 1: ("person", "team", "place"), 2: ("company", "person"),
                 3: ("company", "person")}
_TIME = ["on monday", "on tuesday", "on wednesday", "on thursday", "on friday", "late on sunday",
         "last week", "this year", "yesterday", "earlier this month", "overnight"]
_PREP = ["in", "after", "amid", "despite", "over", "against", "with", "for", "before"]
_NUMBER = ["two", "three", "five", "10", "12", "100", "1.5 billion", "several", "dozens of"]
_SOURCE = ["officials", "a spokesman", "a statement", "people familiar with the matter", "reports"]
_GENERAL_AGENCIES = ["Reuters", "AP", "AFP"]
_SYL = ("ka ro zen tri vo lan mer dus qui pel sor en ix ul bre tho mar vel dor ost gri "
        "fen ost wal bel cor nim tas").split()
_MASCOT = "Hawks Rangers Tigers Giants Pilots Comets Falcons Wolves".split()
_COMPANY_SUFFIX = ["Corp.", "Inc.", "Systems", "Group", "Holdings", "Networks", "Motors"]


def _made_up(rng: random.Random, lo: int = 2, hi: int = 3) -> str:
    return "".join(rng.choice(_SYL) for _ in range(rng.randint(lo, hi))).capitalize()


def _name_pools(seed: int) -> dict[str, list[str]]:
    """Made-up people, places, companies and teams (a function of the seed only)."""
    rng = random.Random(f"names-{seed}")
    first = [_made_up(rng, 2, 2) for _ in range(60)]
    places = [_made_up(rng) + rng.choice(["", "ia", "stan", "land", " City"]) for _ in range(80)]
    return {
        "person": [f"{rng.choice(first)} {_made_up(rng)}" for _ in range(200)],
        "place": places,
        "company": [f"{_made_up(rng)} {rng.choice(_COMPANY_SUFFIX)}" for _ in range(80)],
        "team": [f"the {rng.choice(places)} {rng.choice(_MASCOT)}" for _ in range(40)],
    }


def _sst2_clause(rng: random.Random, names: dict[str, list[str]]) -> tuple[list[str], float]:
    """One opinion clause and its signed value."""
    pol = rng.choice((1, -1))
    u = rng.random()
    mod, strength = ([], 1.0) if u < 0.5 else ([rng.choice(_STRONG)], 2.0) if u < 0.8 \
        else ([rng.choice(_WEAK)], 0.5)
    adj = rng.choice(_POS if pol > 0 else _NEG)
    verb3, verb = rng.choice(_POS_VERB if pol > 0 else _NEG_VERB)
    np_ = [rng.choice(_DET)] + ([rng.choice(_NEUTRAL_ADJ)] if rng.random() < 0.3 else []) \
        + [rng.choice(_NOUN)]
    form = rng.randrange(7)
    if form == 0:
        return np_ + ["is"] + mod + [adj], pol * strength
    if form == 1:
        return np_ + [rng.choice(_NEG_COP)] + mod + [adj], -0.75 * pol * strength
    if form == 2:
        return np_ + [verb3], float(pol)
    if form == 3:
        aux = rng.choice(_NEG_AUX if pol > 0 else _NEG_AUX[:-1])  # "fails to" + positive verb only
        return np_ + [aux, verb], -0.75 * pol
    if form == 4:
        return ["a"] + mod + [adj, rng.choice(_NOUN)], pol * strength
    if form == 5:
        return ["it 's"] + mod + [adj], pol * strength
    return [rng.choice(names["person"]).lower(), "'s"] + mod + [adj, rng.choice(_NOUN)], pol * strength


def _sst2_example(rng: random.Random, names: dict[str, list[str]]) -> tuple[str, int, float]:
    """A review, its label and its score (label = score > 0 unless |score| < 0.3: coin flip)."""
    n = 1 if (u := rng.random()) < 0.5 else 2 if u < 0.85 else 3
    words, score = _sst2_clause(rng, names)
    if n == 2 and rng.random() < 0.15:  # "although A , B": A counts half
        second, value = _sst2_clause(rng, names)
        words, score = ["although"] + words + [","] + second, 0.5 * score + value
    else:
        for _ in range(n - 1):
            conn, factor = rng.choice(_CONNECT)
            clause, value = _sst2_clause(rng, names)
            words, score = words + [conn] + clause, factor * score + value
    if rng.random() < 0.3:
        words = [rng.choice(_PREFIX)] + words
    if rng.random() < 0.3:
        words = words + [rng.choice(_SUFFIX).format(place=rng.choice(names["place"]).lower(),
                                                    person=rng.choice(names["person"]).lower())]
    if rng.random() < 0.7:
        words.append(".")
    label = int(score > 0) if abs(score) >= 0.3 else rng.randrange(2)  # near-tie: ambiguous
    return " ".join(words) + " ", label, score  # GLUE sentences end with a space


def _pick(rng: random.Random, topic: int, other: int, own_share: float, slot: str) -> str:
    return rng.choice(_TOPICS[topic if rng.random() < own_share else other][slot])


def _entity(rng: random.Random, names: dict[str, list[str]], topic: int) -> str:
    return rng.choice(names[rng.choice(_ENTITY_KINDS[topic])])


def _agnews_example(rng: random.Random, names: dict[str, list[str]], topic: int) -> str:
    other = rng.choices(range(4), weights=_CONFUSE[topic])[0]
    q = rng.uniform(0.55, 1.0) if rng.random() < 0.85 else rng.uniform(0.35, 0.55)  # own share

    def w(slot: str) -> str:
        return _pick(rng, topic, other, q, slot)

    def ent() -> str:
        return _entity(rng, names, topic if rng.random() < q else other)

    head = " ".join(x[:1].upper() + x[1:] for x in f"{ent()} {w('verb')} {w('adj')} {w('noun')}".split())
    sentences = []
    for _ in range(rng.randint(1, 3)):
        form = rng.randrange(3)
        if form == 0:
            s = f"{ent()} {w('verb')} the {w('adj')} {w('noun')} {rng.choice(_TIME)}, " \
                f"{rng.choice(_SOURCE)} said."
        elif form == 1:
            s = f"The {w('adj')} {w('noun')} {w('verb')} {rng.choice(_PREP)} {ent()} " \
                f"{rng.choice(_TIME)}."
        else:
            s = f"{ent()} {w('verb')} {rng.choice(_NUMBER)} {w('noun')} {rng.choice(_PREP)} " \
                f"the {w('noun')}, according to {rng.choice(_SOURCE)}."
        sentences.append(s[:1].upper() + s[1:])
    body = " ".join(sentences)
    if rng.random() < 0.2:
        return f"{head} {body}"
    agency = rng.choice(_GENERAL_AGENCIES if rng.random() < 0.6 else _TOPICS[topic]["agency"])
    return f"{head} ({agency}) {agency} - {body}"


def generate_split(task: str, seed: int, split: str, n: int) -> Dataset:
    """``n`` examples of one stand-in split (deterministic in task, seed, split, n)."""
    if task not in TASK_SPLITS:
        raise ValueError(f"task must be one of {sorted(TASK_SPLITS)}; got {task!r}")
    splits, features = TASK_SPLITS[task]
    if split not in splits:
        raise ValueError(f"split for {task} must be one of {sorted(splits)}; got {split!r}")
    rng = random.Random(f"{task}-{split}-{seed}")
    names = _name_pools(seed)
    if task == "sst2":
        rows = [_sst2_example(rng, names) for _ in range(n)]
        data = {"sentence": [r[0] for r in rows], "label": [r[1] for r in rows], "idx": list(range(n))}
    else:
        labels = [rng.randrange(4) for _ in range(n)]
        data = {"text": [_agnews_example(rng, names, y) for y in labels], "label": labels}
    return Dataset.from_dict(data, features=features)


def standin_info(folder: Path) -> dict[str, Any] | None:
    """Contents of ``folder/STANDIN.json``, or None if the folder holds no stand-in."""
    path = Path(folder) / STANDIN_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _write_marker(folder: Path, info: dict[str, Any]) -> None:
    write_text_atomic(folder / STANDIN_FILE, json.dumps(info, indent=2, sort_keys=True) + "\n")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")


def _unreadable(files: dict[str, Path], rows: dict[str, int], features: Any) -> str:
    """Why one of the split files is not the stand-in it should be (truncated, foreign), or ''."""
    for split, path in files.items():
        try:
            meta = pq.ParquetFile(path).metadata  # the footer: a truncated file has none
            names = set(meta.schema.names)
        except Exception as exc:  # pyarrow reports damage as ArrowInvalid, OSError, ...
            return f"{path.name} cannot be read ({type(exc).__name__}: {str(exc)[:100]})"
        if meta.num_rows != rows[split] or not set(features) <= names:
            return (f"{path.name} is not this stand-in ({meta.num_rows} rows, columns "
                    f"{sorted(names)}; expected {rows[split]} rows with {sorted(features)})")
    return ""


def write_text_standin(task: str, root: Path, *, seed: int = 0, **sizes: int) -> Path:
    """Write (or keep, if up to date) ``root/<task>/<split>.parquet`` + ``STANDIN.json``.

    Sizes: SST-2 ``n_train``, ``n_validation``; AG News ``n_train``, ``n_test`` (the
    train split is later divided 90/10 like the real one). Regenerates when the marker
    records another generator version, seed or size. Returns the folder.
    """
    if task not in TASK_SPLITS:
        raise ValueError(f"task must be one of {sorted(TASK_SPLITS)}; got {task!r}")
    splits, features = TASK_SPLITS[task]
    if set(sizes) != set(splits.values()):
        raise ValueError(f"{task} stand-in sizes must be exactly {sorted(splits.values())}; "
                         f"got {sorted(sizes)}")
    for key, value in sizes.items():
        _check_int(key, value, 10)
    _check_int("seed", seed, 0)
    Path(root).mkdir(parents=True, exist_ok=True)
    # One writer at a time: two runs starting together (make -j 2) would otherwise see each other's
    # half-written folder (no marker yet) and refuse it.
    with open(Path(root) / f".{task}.lock", "w") as lock:  # closing it releases the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _write_text_standin_locked(task, Path(root), seed, sizes, splits, features)


def _write_text_standin_locked(task: str, root: Path, seed: int, sizes: dict[str, int],
                               splits: dict[str, str], features: Any) -> Path:
    folder = Path(root) / task
    info = {"generator": GENERATOR_NAME, "version": GENERATOR_VERSION, "task": task, "seed": seed,
            "sizes": dict(sorted(sizes.items())), "splits": sorted(splits), "note": NOTE}
    files = {s: folder / f"{s}.parquet" for s in splits}
    if standin_info(folder) == info and all(f.is_file() for f in files.values()):
        problem = _unreadable(files, {s: sizes[k] for s, k in splits.items()}, features)
        if not problem:
            return folder
        print(f"data: stand-in file {problem}; regenerating the {task} stand-in in {folder}", flush=True)
    if folder.exists() and standin_info(folder) is None and any(folder.iterdir()):
        raise RuntimeError(f"{folder} exists and is not a stand-in folder (no {STANDIN_FILE}); "
                           "refusing to overwrite it (use another root)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STANDIN_FILE).unlink(missing_ok=True)
    for split, size_key in splits.items():
        with atomic_path(files[split]) as tmp:
            generate_split(task, seed, split, sizes[size_key]).to_parquet(str(tmp))
    _write_marker(folder, info)
    return folder


def labelled_standin_corpus(seed: int, n_per_task: int = 3000) -> tuple[list[str], list[int]]:
    """Texts from both grammars and their class in one label space (SST-2 0-1, AG News 2-5)."""
    sst = generate_split("sst2", seed, "train", n_per_task)
    ag = generate_split("agnews", seed, "train", n_per_task)
    return list(sst["sentence"]) + list(ag["text"]), list(sst["label"]) + [2 + y for y in ag["label"]]


def standin_corpus(seed: int, n_per_task: int = 3000) -> list[str]:
    """The texts of ``labelled_standin_corpus`` (tokenizer training, pre-training)."""
    return labelled_standin_corpus(seed, n_per_task)[0]


__all__ = ["GENERATOR_VERSION", "STANDIN_FILE", "NOTE", "SST2_FEATURES", "AGNEWS_FEATURES", "TASK_SPLITS",
           "generate_split", "standin_info", "write_text_standin", "labelled_standin_corpus",
           "standin_corpus"]
