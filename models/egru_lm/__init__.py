"""EGRU character-level language model on Shakespeare (the seed result of pynn_spinnaker2)."""
