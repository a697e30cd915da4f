"""The RunResult keys the protocol requires: declared in lib (make rehearse checks them too)."""

from lib.results.protocol_keys import (  # noqa: F401
    CIFAR_CONFIG_KEYS,
    EPISODE_KEYS,
    NLP_CONFIG_KEYS,
    NOT_NLP_KEYS,
    TOP_KEYS,
)
