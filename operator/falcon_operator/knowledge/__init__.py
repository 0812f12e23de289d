"""Offline knowledge: KOPs, KOP resource curves, PCA pruning, source tables, region trees."""
