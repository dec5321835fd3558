"""Margin arrangements: today's silos, the conservative-of-two rule, one unified portfolio."""

__all__ = ["ARRANGEMENTS"]

#: The arrangements ``compare`` runs, in order (silo first: the others refer to it).
ARRANGEMENTS: tuple[str, ...] = ("silo", "conservative", "unified")
