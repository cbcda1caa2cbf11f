"""gankit: train, evaluate and understand Generative Adversarial Networks."""

__version__ = "0.1.0"

__all__ = ["Generator"]


def __getattr__(name: str):
    # gankit.Generator loads torch on first use, so `import gankit` (the CLI's start) stays quick.
    if name == "Generator":
        from gankit.pretrained import Generator

        return Generator
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")
