"""Multivariate and embedding drift: kernel MMD and a domain classifier (torch, imported lazily).

``import detectors.multivariate.mmd`` does not import torch; the first test that runs does.
"""
