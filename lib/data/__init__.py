"""Data loading: CIFAR-100 (torchvision format), SST-2 / AG News (HF datasets), offline stand-ins."""
