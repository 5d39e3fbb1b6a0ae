"""Application models for pynn_spinnaker2: an EGRU language model and an EGRU gesture classifier.

Training needs PyTorch (the ``models`` extra); the weight files and the float64 NumPy reference
(:mod:`models.egru_numpy`, :mod:`models.weights`) need only NumPy, so a deployment can read
them without torch.
"""
