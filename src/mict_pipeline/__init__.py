"""mict-pipeline: MiCT-ResNet video action recognition on UCF-101 with Kedro and DVC."""

__version__ = "0.1.0"
