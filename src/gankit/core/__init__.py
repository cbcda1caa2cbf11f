"""The small pieces every layer above may use, importing nothing of gankit's but its errors:
distributed helpers, checkpointed scalars, image conversions, sampling in chunks."""
