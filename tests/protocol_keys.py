"""The RunResult keys the protocol requires (sections 7.2-7.4), read from their one declaration
(``lib/results/runresult.py``) for the tests."""

from lib.results.runresult import CIFAR_CONFIG_KEYS, EPISODE_KEYS, NLP_CONFIG_KEYS, NOT_NLP_CONFIG_KEYS, THESIS_KEYS

TOP_KEYS = set(THESIS_KEYS)  # 7.2
NOT_NLP_KEYS = set(NOT_NLP_CONFIG_KEYS)

__all__ = ["CIFAR_CONFIG_KEYS", "EPISODE_KEYS", "NLP_CONFIG_KEYS", "NOT_NLP_KEYS", "TOP_KEYS"]
