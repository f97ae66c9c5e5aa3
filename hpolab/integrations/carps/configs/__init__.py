"""Hydra configs that add hpolab's optimizers to CARP-S (``optimizer/hpolab/<name>.yaml``)."""
