"""Data loading: CIFAR-100 (torchvision format), SST-2 / AG News (HF datasets), offline stand-ins."""

# The offline stand-ins are fixed data sets and one fixed model, like the real ones: one seed.
STANDIN_SEED = 0
STANDIN_MODEL = "standin-distilbert"  # model_name of the offline stand-in DistilBERT
