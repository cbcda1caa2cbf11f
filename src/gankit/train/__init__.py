"""The engine every recipe shares: the step template (step), the loop (trainer), checkpoints,
the resume policy and the run's logs."""
