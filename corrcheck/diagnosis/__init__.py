"""Naming the mistake: the catalogue of mutants, matching, patterns in words, cell explanations, the story."""
