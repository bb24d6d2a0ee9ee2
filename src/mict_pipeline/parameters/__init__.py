"""The parameter blocks of ``conf/*/parameters*.yml``, one Pydantic model per block and module.

Each pipeline's nodes import only the block they read, so a stage's code is what it runs
(``dvc.yaml``'s deps follow the imports). :mod:`.project` is the whole tree, which the project
context checks once per session. An experiment's block and the ``training`` block are
:mod:`mict_pipeline.experiment`'s ``ExperimentConfig`` and ``TrainingParams``.
"""
