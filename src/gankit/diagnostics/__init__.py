"""Diagnostics of training: the doctor, gradient norms and detectors."""
