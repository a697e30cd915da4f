"""SST-2 / AG News data path on the offline stand-ins: schemas, determinism, tokenizer and
model folder, AG News split and label noise, cache keys, collation and sampling."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402

import datasets  # noqa: E402
import huggingface_hub.constants  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DistilBertForMaskedLM  # noqa: E402

from lib.data import standin_model as sm  # noqa: E402
from lib.data import standin_text as st  # noqa: E402
from lib.data.text import (  # noqa: E402
    LengthGroupedSampler, load_raw_splits, load_tokenizer, make_text_loader, prepare_text_task,
)
from lib.noise import apply_agnews_label_noise  # noqa: E402

SST2_SIZES = {"n_train": 200, "n_validation": 50}
AG_SIZES = {"n_train": 400, "n_test": 60}
PRETRAIN_STEPS = 20  # a short pre-training: the code path, not the quality (write_standin_model: 500)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin")
    corpus, labels = st.labelled_standin_corpus(7, 300)
    model = {"seed": 0, "vocab_size": 800, "corpus_labels": labels, "pretrain_steps": PRETRAIN_STEPS}
    first = sm.build_standin_model_dir(root / "model", corpus, **model)
    sm._BUILT.clear()  # build the second folder from scratch, not as a copy of the first
    return {
        "sst2": st.write_text_standin("sst2", root / "data", seed=0, **SST2_SIZES),
        "agnews": st.write_text_standin("agnews", root / "data", seed=0, **AG_SIZES),
        "model": first,
        "model_b": sm.build_standin_model_dir(root / "model_b", corpus, **model),
        "corpus": corpus,
        "labels": labels,
        "hf": root / "hf",
    }


def _prepare(assets, task, tok_dir, **kw):
    kw.setdefault("max_length", 64)
    return prepare_text_task(task, tokenizer_dir_or_name=assets["model"], tokenized_dataset_dir=tok_dir,
                             cache_dir=assets["hf"], local_files_only=True, standin_dir=assets[task], **kw)


# ------------------------------------------------------------------ stand-in data
def test_standin_schemas_splits_and_sizes(assets):
    sst = load_raw_splits("sst2", standin_dir=assets["sst2"], cache_dir=assets["hf"], local_files_only=True)
    assert list(sst) == ["train", "validation"]
    assert {s: len(sst[s]) for s in sst} == {"train": 200, "validation": 50}
    assert sst["train"].features == st.SST2_FEATURES
    assert sst["train"].features["label"].names == ["negative", "positive"]
    assert sst["train"].features["idx"].dtype == "int32"
    assert list(sst["validation"]["idx"]) == list(range(50))
    ag = load_raw_splits("agnews", standin_dir=assets["agnews"], cache_dir=assets["hf"], local_files_only=True)
    assert list(ag) == ["train", "test"] and {s: len(ag[s]) for s in ag} == {"train": 400, "test": 60}
    assert ag["test"].features["label"].names == ["World", "Sports", "Business", "Sci/Tech"]
    assert set(ag["train"]["label"]) == {0, 1, 2, 3} and set(sst["train"]["label"]) == {0, 1}
    info = st.standin_info(assets["agnews"])
    assert info["note"] == st.NOTE and info["sizes"] == AG_SIZES and info["seed"] == 0


def test_standin_generation_is_deterministic_and_regenerates(tmp_path):
    a = st.generate_split("sst2", 3, "train", 50)
    assert a.to_dict() == st.generate_split("sst2", 3, "train", 50).to_dict()
    assert a.to_dict() != st.generate_split("sst2", 4, "train", 50).to_dict()
    folder = st.write_text_standin("agnews", tmp_path, seed=1, n_train=30, n_test=20)
    stamp = (folder / "train.parquet").stat().st_mtime_ns
    assert st.write_text_standin("agnews", tmp_path, seed=1, n_train=30, n_test=20) == folder
    assert (folder / "train.parquet").stat().st_mtime_ns == stamp  # up to date: kept
    st.write_text_standin("agnews", tmp_path, seed=1, n_train=40, n_test=20)
    assert st.standin_info(folder)["sizes"]["n_train"] == 40
    with pytest.raises(ValueError, match="n_validation"):
        st.write_text_standin("sst2", tmp_path, seed=0, n_train=30, n_test=20)


def _write_agnews(root: str) -> str:
    return str(st.write_text_standin("agnews", root, seed=0, n_train=400, n_test=50))


def test_two_runs_writing_the_same_standin_at_once_both_succeed(tmp_path):
    """make -j 2 starts two runs together: before the writer lock, one saw the other's half-written
    folder (no marker yet) and failed with 'exists and is not a stand-in folder'."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for attempt in range(3):
        root = str(tmp_path / f"r{attempt}")
        with ctx.Pool(2) as pool:
            folders = pool.map(_write_agnews, [root, root])
        assert folders[0] == folders[1]
        assert st.standin_info(tmp_path / f"r{attempt}" / "agnews")["sizes"] == {"n_test": 50, "n_train": 400}


def test_sst2_labels_follow_sentiment_and_negation():
    rng, names = random.Random(0), st._name_pools(0)
    rows = [st._sst2_example(rng, names) for _ in range(2000)]
    clear = [(label, score) for _, label, score in rows if abs(score) >= 0.3]
    assert all(label == int(score > 0) for label, score in clear) and len(clear) > 1600
    simple = re.compile(r"^(?:the|this|its|that) (?:\S+ )?\S+ (is|is n't|is not) (\S+) (?:\. )?$")
    seen = set()
    for sentence, label, _ in rows:
        if (m := simple.match(sentence)) and m.group(2) in st._POS + st._NEG:
            positive, negated = m.group(2) in st._POS, m.group(1) != "is"
            assert label == int(positive != negated), sentence
            seen.add((positive, negated))
    assert seen == {(True, True), (True, False), (False, True), (False, False)}


# ---------------------------------------------------------- tokenizer + model folder
def test_model_dir_is_deterministic_and_loads_like_distilbert(assets):
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors", "STANDIN.json"):
        assert (assets["model"] / name).read_bytes() == (assets["model_b"] / name).read_bytes(), name
    tok_a = AutoTokenizer.from_pretrained(assets["model"], local_files_only=True)
    tok_b = AutoTokenizer.from_pretrained(assets["model_b"], local_files_only=True)
    text = ["The film is n't good , but Zentrix Corp. shares rose (Reuters)"]
    enc = tok_a(text, truncation=True, max_length=64)
    assert enc["input_ids"] == tok_b(text, truncation=True, max_length=64)["input_ids"]
    assert set(enc) == {"input_ids", "attention_mask"}  # DistilBERT inputs, no token_type_ids
    pieces = tok_a.convert_ids_to_tokens(enc["input_ids"][0])
    assert pieces[:2] == ["[CLS]", "the"] and pieces[-1] == "[SEP]" and "[UNK]" not in pieces
    for num_labels in (2, 4):
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(assets["model"], num_labels=num_labels,
                                                                   local_files_only=True)
        other = AutoModelForSequenceClassification.from_pretrained(assets["model_b"], num_labels=num_labels,
                                                                   local_files_only=True)
        for (k, v), (_, w) in zip(model.distilbert.state_dict().items(), other.distilbert.state_dict().items()):
            assert torch.equal(v, w), k
        batch = tok_a(text * 3, return_tensors="pt")
        assert model(**batch).logits.shape == (3, num_labels)


def test_pretraining_moves_the_weights_is_recorded_and_reused(assets, tmp_path):
    info = st.standin_info(assets["model"])
    assert info["version"] == sm.MODEL_GENERATOR_VERSION and info["pretrain_steps"] == PRETRAIN_STEPS
    assert info["pretrain"] == {"objective": "mlm+cls", **sm.PRETRAIN} and "pre-trained" in info["note"]
    assert info["pretrain_loss_last"] < info["pretrain_loss_first"] - 0.5
    texts, labels = assets["corpus"], assets["labels"]
    assert sorted(set(labels)) == list(range(6)) and len(texts) == len(labels) == 600
    rand = sm.build_standin_model_dir(tmp_path / "rand", texts, corpus_labels=labels, seed=0, vocab_size=800)
    assert st.standin_info(rand)["pretrain"] is None and "random weights" in st.standin_info(rand)["note"]
    trained, random_init = (DistilBertForMaskedLM.from_pretrained(d, local_files_only=True)
                            for d in (assets["model"], rand))
    emb = "distilbert.embeddings.word_embeddings.weight"
    assert (trained.state_dict()[emb] - random_init.state_dict()[emb]).abs().max() > 1e-3
    mlm_only = sm.build_standin_model_dir(tmp_path / "mlm", texts, seed=0, vocab_size=800, pretrain_steps=3)
    assert st.standin_info(mlm_only)["pretrain"]["objective"] == "mlm"
    again = sm.build_standin_model_dir(tmp_path / "again", texts, corpus_labels=labels, seed=0, vocab_size=800,
                                       pretrain_steps=PRETRAIN_STEPS)  # built in this process: copied
    assert (again / "model.safetensors").read_bytes() == (assets["model"] / "model.safetensors").read_bytes()
    small = sm.write_standin_model(tmp_path / "w", n_corpus_per_task=40, pretrain_steps=2, vocab_size=300)
    assert st.standin_info(small)["corpus_size"] == 80 and st.standin_info(small)["pretrain_steps"] == 2
    for bad in (labels[:-1], [6] * len(texts)):
        with pytest.raises(ValueError, match="corpus_labels"):
            sm.build_standin_model_dir(tmp_path / "bad", texts, corpus_labels=bad, seed=0, pretrain_steps=1)
    with pytest.raises(ValueError, match="pretrain_steps"):
        sm.build_standin_model_dir(tmp_path / "bad", texts, seed=0, pretrain_steps=-1)


# ------------------------------------------------------------ AG News split + noise
def test_agnews_split_sizes_and_label_noise(assets, tmp_path):
    clean = _prepare(assets, "agnews", tmp_path / "a")
    assert (len(clean.train), len(clean.validation)) == (360, 40) and clean.num_labels == 4
    assert clean.label_noise is None and len(datasets.load_from_disk(clean.cache_info["splits"]["test"]["path"])) == 60
    assert set(clean.train.column_names) == {"input_ids", "attention_mask", "label"}

    torch.manual_seed(1), random.seed(1)
    noisy = _prepare(assets, "agnews", tmp_path / "b", label_noise_rate=0.2)
    torch.manual_seed(2), random.seed(2)  # another run seed: same corrupted set
    again = _prepare(assets, "agnews", tmp_path / "c", label_noise_rate=0.2)
    clean_labels, noisy_labels = list(clean.train["label"]), list(noisy.train["label"])
    assert noisy_labels == list(again.train["label"])
    assert list(noisy.validation["label"]) == list(clean.validation["label"])  # validation untouched
    expected, _ = apply_agnews_label_noise(clean_labels, 0.2, seed=42, num_classes=4)
    assert noisy_labels == expected  # applied to the train part, after the split
    flipped = [i for i, (a, b) in enumerate(zip(clean_labels, noisy_labels)) if a != b]
    assert len(flipped) == round(0.2 * 360) == 72  # never lands on the original class
    block = noisy.label_noise.to_dict()
    assert block["corrupted_indices"] == flipped and block["num_corrupted_examples"] == 72
    assert block["num_train_examples"] == 360 and block["num_clean_examples"] == 288
    assert block["original_targets"] == clean_labels and block["noisy_targets"] == noisy_labels
    assert block["corrupted_mask"] == [i in set(flipped) for i in range(360)]
    assert block["clean_mask"] == [not m for m in block["corrupted_mask"]]
    assert noisy.cache_info["splits"]["train"]["path"].split("/")[-1].startswith(
        "train_splitseed42_noise0p2_noiseseed42-")


def test_noise_is_rejected_for_sst2_and_bad_arguments_fail(assets, tmp_path):
    with pytest.raises(ValueError, match="sst2"):
        _prepare(assets, "sst2", tmp_path, label_noise_rate=0.2)
    with pytest.raises(ValueError, match="max_length"):
        _prepare(assets, "sst2", tmp_path, max_length=0)
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\)"):
        _prepare(assets, "agnews", tmp_path, label_noise_rate=1.0)
    with pytest.raises(ValueError, match="task"):
        prepare_text_task("mnli", tokenizer_dir_or_name=assets["model"], max_length=8, tokenized_dataset_dir=tmp_path,
                          cache_dir=assets["hf"], local_files_only=True, standin_dir=None)
    with pytest.raises(ValueError, match="'agnews' stand-in"):
        prepare_text_task("sst2", tokenizer_dir_or_name=assets["model"], max_length=8, tokenized_dataset_dir=tmp_path,
                          cache_dir=assets["hf"], local_files_only=True, standin_dir=assets["agnews"])


# ---------------------------------------------------------------------- cache keys
def test_cache_keys_reuse_and_retokenise(assets, tmp_path):
    first = _prepare(assets, "sst2", tmp_path)
    assert not first.cache_info["reused"] and (len(first.train), len(first.validation)) == (200, 50)
    listing = sorted(p.name for p in tmp_path.iterdir())
    key = json.loads((tmp_path / (listing[0] if listing[0].endswith(".json") else listing[1])).read_text())
    assert key["max_length"] == 64 and key["source"]["kind"] == "standin"
    same = _prepare(assets, "sst2", tmp_path)
    assert same.cache_info["reused"] and sorted(p.name for p in tmp_path.iterdir()) == listing
    longer = _prepare(assets, "sst2", tmp_path, max_length=8)
    assert not longer.cache_info["reused"] and max(len(x) for x in longer.train["input_ids"]) == 8
    assert longer.cache_info["splits"]["train"]["path"] != first.cache_info["splits"]["train"]["path"]
    ag_dir = tmp_path / "ag"
    a = _prepare(assets, "agnews", ag_dir, label_noise_rate=0.2)
    b = _prepare(assets, "agnews", ag_dir, label_noise_rate=0.4)
    assert a.cache_info["splits"]["train"]["path"] != b.cache_info["splits"]["train"]["path"]
    assert not b.cache_info["splits"]["train"]["reused"] and b.cache_info["splits"]["validation"]["reused"]
    assert _prepare(assets, "agnews", ag_dir, label_noise_rate=0.2).cache_info["reused"]


def test_local_files_only_never_touches_the_network(assets, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)  # as if online ...
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "create_connection", refuse)  # ... with the network guarded
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    with pytest.raises(FileNotFoundError, match="local_files_only=True"):
        load_raw_splits("sst2", standin_dir=None, cache_dir=tmp_path, local_files_only=True)
    with pytest.raises(FileNotFoundError, match="local_files_only=True"):
        load_tokenizer("distilbert-base-uncased", cache_dir=tmp_path, local_files_only=True)
    assert datasets.config.HF_HUB_OFFLINE is False  # offline mode was scoped to the call


# ------------------------------------------------------------------ loaders
def test_collator_pads_dynamically_and_loader_order_is_seeded(assets, tmp_path):
    data = _prepare(assets, "sst2", tmp_path)
    loader = make_text_loader(data.validation, data.tokenizer, batch_size=8, shuffle=False)
    lengths = [len(x) for x in data.validation["input_ids"]]
    for i, batch in enumerate(loader):
        longest = max(lengths[8 * i: 8 * i + 8])
        assert batch["input_ids"].shape == batch["attention_mask"].shape == (len(batch["labels"]), longest)
        assert batch["labels"].dtype == torch.long
        assert batch["attention_mask"].sum(1).tolist() == lengths[8 * i: 8 * i + 8]
    assert len({tuple(b["input_ids"].shape)[1] for b in loader}) > 1  # widths vary per batch

    def order(seed):
        dl = make_text_loader(data.train, data.tokenizer, batch_size=16, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
        return torch.cat([b["labels"] for b in dl]).tolist(), [b["input_ids"][0, 1].item() for b in dl]

    assert order(0) == order(0) and order(0) != order(1)
    with pytest.raises(ValueError, match="generator"):
        make_text_loader(data.train, data.tokenizer, batch_size=16, shuffle=True)


def test_length_grouped_sampler(assets, tmp_path):
    lengths = [random.Random(i).randint(3, 60) for i in range(1000)]
    sampler = LengthGroupedSampler(lengths, batch_size=4, generator=torch.Generator().manual_seed(0), mega_batch_mult=25)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(1000)) and first != second  # each epoch a new order
    for start in range(0, 1000, 100):
        mega = [lengths[i] for i in first[start:start + 100]]
        assert mega == sorted(mega, reverse=True)
    again = LengthGroupedSampler(lengths, batch_size=4, generator=torch.Generator().manual_seed(0), mega_batch_mult=25)
    assert list(again) == first
    data = _prepare(assets, "sst2", tmp_path)
    loader = make_text_loader(data.train, data.tokenizer, batch_size=8, shuffle=True,
                              generator=torch.Generator().manual_seed(0), group_by_length=True)
    assert sum(len(b["labels"]) for b in loader) == 200
