"""pynn_spinnaker2."""
