"""Models: the CIFAR ResNet-18 of the thesis (protocol 1.3). The DistilBERT classifier is
loaded by :mod:`lib.train.text` (``AutoModelForSequenceClassification``); its offline stand-in
is written by :mod:`lib.data.standin_model`."""

from __future__ import annotations

from torch import nn
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock, ResNet


def cifar_resnet18(num_classes: int = 100, width: int = 64) -> nn.Module:
    """torchvision ResNet-18 with the CIFAR stem: 3x3 stride-1 conv1, no max-pool.

    ``width`` scales every stage (64 = the thesis model, ``torchvision.models.resnet18``);
    the ``mini`` profile uses a narrower net with the same topology.
    """
    if width == 64:
        model = resnet18(weights=None, num_classes=num_classes)
    else:
        model = _resnet18_width(num_classes, width)
    model.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model


def _resnet18_width(num_classes: int, width: int) -> ResNet:
    """ResNet-18 topology with stage widths width*(1, 2, 4, 8) (torchvision building blocks)."""

    class _Narrow(ResNet):
        def __init__(self) -> None:
            nn.Module.__init__(self)
            self._norm_layer = nn.BatchNorm2d
            self.inplanes = width
            self.dilation = 1
            self.groups = 1
            self.base_width = 64
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(BasicBlock, width, 2)
            self.layer2 = self._make_layer(BasicBlock, width * 2, 2, stride=2)
            self.layer3 = self._make_layer(BasicBlock, width * 4, 2, stride=2)
            self.layer4 = self._make_layer(BasicBlock, width * 8, 2, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(width * 8 * BasicBlock.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    return _Narrow()
