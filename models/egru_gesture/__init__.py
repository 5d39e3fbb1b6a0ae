"""EGRU classifier of event-camera gestures (synthetic data set; loader for DVS128 Gesture)."""
